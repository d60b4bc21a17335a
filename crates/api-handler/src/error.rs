//! The one place errors become HTTP responses:
//! `{"error": {"code": "<snake_case>", "message": "<text>", "details": [...]}}`.
//! Every answer that is not a success goes through here, the framework's own rejections
//! included. Internal detail is logged, never returned.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{FieldError, PortError, ValidationError};
use serde_json::{Map, Value, json};
use tracing::error;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Validation(#[from] ValidationError),
    #[error("request body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("request body must be JSON (Content-Type: application/json)")]
    UnsupportedMediaType,
    #[error("request body exceeds {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("{message}")]
    NotFound { code: &'static str, message: String },
    /// The request conflicts with what exists; `fields` join the body's top level (the id of
    /// what exists, say) and `location` points at it.
    #[error("{message}")]
    Conflict {
        code: &'static str,
        message: String,
        fields: Map<String, Value>,
        location: Option<String>,
    },
    /// A business rule refuses the request as it stands (`409`, `422`), with the problem per
    /// field in `details`.
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
        details: Vec<FieldError>,
    },
    /// The request names no caller where one is needed.
    #[error("this route needs a signed-in user")]
    Unauthorized,
    /// The caller may not do this (another user's data).
    #[error("{message}")]
    Forbidden { message: String },
    #[error("no route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error("Idempotency-Key must be 1 to 255 visible ASCII characters")]
    InvalidIdempotencyKey,
    #[error("this Idempotency-Key was used with a different request")]
    IdempotencyKeyMismatch,
    #[error("a request with this Idempotency-Key is still being processed; retry shortly")]
    RequestInProgress,
    #[error(transparent)]
    Port(#[from] PortError),
}

impl ApiError {
    pub fn invalid_path_id(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::Validation(ValidationError::single(
            "path parameter",
            FieldError::new(
                field,
                domain::FieldCode::INVALID_ID,
                format!("{field} {problem}"),
            ),
        ))
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Vec<FieldError>) {
        let plain = |status, code| (status, code, self.to_string(), vec![]);
        match self {
            Self::Validation(v) => (
                StatusCode::BAD_REQUEST,
                "validation_failed",
                format!("invalid {}", v.subject),
                v.details.clone(),
            ),
            Self::MalformedJson(_) => plain(StatusCode::BAD_REQUEST, "malformed_json"),
            Self::UnsupportedMediaType => {
                plain(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Self::PayloadTooLarge { .. } => {
                plain(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
            }
            Self::NotFound { code, .. } => plain(StatusCode::NOT_FOUND, code),
            Self::Conflict { code, .. } => plain(StatusCode::CONFLICT, code),
            Self::Refused {
                status,
                code,
                message,
                details,
            } => (*status, code, message.clone(), details.clone()),
            Self::Unauthorized => plain(StatusCode::UNAUTHORIZED, "unauthorized"),
            Self::Forbidden { .. } => plain(StatusCode::FORBIDDEN, "forbidden"),
            Self::RouteNotFound { .. } => plain(StatusCode::NOT_FOUND, "route_not_found"),
            Self::MethodNotAllowed { .. } => {
                plain(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
            }
            Self::InvalidIdempotencyKey => {
                plain(StatusCode::BAD_REQUEST, "invalid_idempotency_key")
            }
            Self::IdempotencyKeyMismatch => {
                plain(StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_mismatch")
            }
            Self::RequestInProgress => plain(StatusCode::CONFLICT, "request_in_progress"),
            Self::Port(PortError::Retryable(_)) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "the service is temporarily unavailable; retry later".into(),
                vec![],
            ),
            Self::Port(PortError::Permanent(_)) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "internal error".into(),
                vec![],
            ),
        }
    }
}

impl ApiError {
    /// The status and the error body (`{"error": {"code", "message", "details"}}`), as a
    /// response or one result of a batch carries it.
    pub fn status_and_body(&self) -> (StatusCode, Value) {
        let (status, code, message, details) = self.parts();
        if status.is_server_error() {
            error!(error = %self, "request failed");
        }
        (
            status,
            json!({"error": {"code": code, "message": message, "details": details}}),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, mut body) = self.status_and_body();
        if let (Self::Conflict { fields, .. }, Some(top)) = (&self, body.as_object_mut()) {
            top.extend(fields.clone());
        }
        let mut response = (status, Json(body)).into_response();
        let headers = response.headers_mut();
        if matches!(
            self,
            Self::Port(PortError::Retryable(_)) | Self::RequestInProgress
        ) {
            headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        if let Self::Conflict {
            location: Some(location),
            ..
        } = &self
            && let Ok(value) = HeaderValue::from_str(location)
        {
            headers.insert(header::LOCATION, value);
        }
        response
    }
}
