//! CORS on every answer of the function: a browser page on an allowed origin (configuration,
//! `CORS_ALLOW_ORIGINS`) may read the answer (`Access-Control-Allow-Origin` names its origin);
//! any other origin gets no such header, so the browser keeps the answer from the page. Every
//! answer says it varies by `Origin`, so a cache never hands one origin's answer to another.
//! Preflights never reach the function: the gateway answers them.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use platform::ConfigError;
use platform::config::Vars;
use std::sync::Arc;

/// The origins whose pages may read the API's answers.
#[derive(Clone, Debug, Default)]
pub struct AllowedOrigins(Arc<[String]>);

impl AllowedOrigins {
    pub fn new<S: Into<String>>(origins: impl IntoIterator<Item = S>) -> Self {
        Self(origins.into_iter().map(Into::into).collect())
    }

    /// `CORS_ALLOW_ORIGINS`: the allowed origins, separated by commas.
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        let list = vars.required("CORS_ALLOW_ORIGINS")?;
        Ok(Self::new(
            list.split(',')
                .map(str::trim)
                .filter(|o| !o.is_empty())
                .map(str::to_owned),
        ))
    }

    pub fn allows(&self, origin: &str) -> bool {
        self.0.iter().any(|o| o == origin)
    }
}

pub async fn cors(State(origins): State<AllowedOrigins>, request: Request, next: Next) -> Response {
    let origin = request.headers().get(header::ORIGIN).cloned();
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("Origin"));
    if let Some(origin) = origin.filter(|o| o.to_str().is_ok_and(|o| origins.allows(o))) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
    }
    response
}
