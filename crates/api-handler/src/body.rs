//! Request extractors with this API's limits and error shapes: the framework's own rejections
//! never reach a client.

use crate::error::ApiError;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Largest accepted request body.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A request body parsed as JSON (any value); shape checks are the route's job so that every
/// field problem can be reported at once.
pub struct JsonBody(pub Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or_default().to_ascii_lowercase();
            let essence = ct.split(';').next().unwrap_or_default().trim();
            if essence != "application/json" && !essence.ends_with("+json") {
                return Err(ApiError::UnsupportedMediaType);
            }
        }
        let bytes = axum::body::to_bytes(req.into_body(), MAX_BODY_BYTES)
            .await
            .map_err(|_| ApiError::PayloadTooLarge {
                limit: MAX_BODY_BYTES,
            })?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::MalformedJson(e.to_string()))
    }
}

/// Path parameters, read into their types (ids deserialize through their own checks); one that
/// cannot be read (not UTF-8 once decoded, or not a valid id) is a 400 `invalid_id` naming the
/// parameter, in the API's error shape, not the framework's plain-text answer.
pub struct PathParams<T>(pub T);

impl<T, S> FromRequestParts<S> for PathParams<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        use axum::extract::path::ErrorKind;
        use axum::extract::rejection::PathRejection;
        let rejection = match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(p) => return Ok(PathParams(p.0)),
            Err(rejection) => rejection,
        };
        let (key, problem) = match &rejection {
            PathRejection::FailedToDeserializePathParams(e) => match e.kind() {
                ErrorKind::InvalidUtf8InPathParam { key } => {
                    (Some(key.clone()), "is not valid UTF-8".to_owned())
                }
                ErrorKind::ParseErrorAtKey { key, .. } => (Some(key.clone()), e.body_text()),
                // An id's own check: its message says what is wrong.
                ErrorKind::Message(message) => (None, message.clone()),
                _ => (None, rejection.body_text()),
            },
            _ => (None, rejection.body_text()),
        };
        // A route's one parameter names the field when the error does not.
        let field = match key {
            Some(key) => key,
            None => axum::extract::RawPathParams::from_request_parts(parts, state)
                .await
                .ok()
                .and_then(|raw| raw.iter().next().map(|(k, _)| k.to_owned()))
                .unwrap_or_else(|| "path".to_owned()),
        };
        Err(ApiError::invalid_path_id(&field, problem))
    }
}
