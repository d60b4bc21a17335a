use serde_json::Value;
use std::future::Future;

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
