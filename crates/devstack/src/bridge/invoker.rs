use serde_json::Value;
use std::future::Future;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum InvokeError {
    /// The function ran and failed (returned an error or crashed).
    #[error("function {function} failed: {detail}")]
    Function { function: String, detail: String },
    /// The function could not be reached.
    #[error("invoking {function}: {detail}")]
    Transport { function: String, detail: String },
}

/// Calls a function with a payload and returns its response.
pub trait Invoker: Send + Sync {
    fn invoke(
        &self,
        function: &str,
        payload: Value,
    ) -> impl Future<Output = Result<Value, InvokeError>> + Send;
}

/// Any async closure is an invoker: tests call handlers in-process this way.
impl<F, Fut> Invoker for F
where
    F: Fn(String, Value) -> Fut + Send + Sync,
    Fut: Future<Output = Result<Value, InvokeError>> + Send,
{
    fn invoke(
        &self,
        function: &str,
        payload: Value,
    ) -> impl Future<Output = Result<Value, InvokeError>> + Send {
        self(function.to_owned(), payload)
    }
}

/// Invokes functions through the Lambda Invoke API that `cargo lambda watch` serves: at one
/// address for every function, or at an address of each function's own.
#[derive(Clone)]
pub struct HttpInvoker {
    http: reqwest::Client,
    base_url: String,
    routes: std::collections::BTreeMap<String, String>,
}

impl HttpInvoker {
    pub fn new(base_url: impl Into<String>) -> Self {
        // The first invocation of a function compiles it: allow for that.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(900))
            .build()
            .unwrap_or_default();
        Self {
            http,
            base_url: base_url.into(),
            routes: Default::default(),
        }
    }

    /// Sends invocations of `function` to `base_url` instead.
    pub fn route(mut self, function: &str, base_url: impl Into<String>) -> Self {
        self.routes.insert(function.to_owned(), base_url.into());
        self
    }
}

impl Invoker for HttpInvoker {
    async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        let base = self.routes.get(function).unwrap_or(&self.base_url);
        let url = format!("{base}/2015-03-31/functions/{function}/invocations");
        let transport = |detail: String| InvokeError::Transport {
            function: function.to_owned(),
            detail,
        };
        let response = self
            .http
            .post(&url)
            .json(&payload)
            .send()
            .await
            .map_err(|e| transport(e.to_string()))?;
        let status = response.status();
        let function_error = response.headers().contains_key("x-amz-function-error");
        let body = response
            .text()
            .await
            .map_err(|e| transport(e.to_string()))?;
        if function_error || !status.is_success() {
            return Err(InvokeError::Function {
                function: function.to_owned(),
                detail: format!("{status}: {body}"),
            });
        }
        if body.trim().is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_str(&body)
            .map_err(|e| transport(format!("unreadable response {body:?}: {e}")))
    }
}
