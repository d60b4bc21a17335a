//! The one place errors become HTTP responses:
//! `{"error": {"code": "<snake_case>", "message": "<text>", "details": [...]}}`.
//! Internal detail is logged, never returned.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::{FieldError, PortError, ValidationError};
use serde_json::json;
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
    #[error("no route for {method} {path}")]
    RouteNotFound { method: String, path: String },
    #[error("method {method} is not allowed on {path}")]
    MethodNotAllowed { method: String, path: String },
    #[error(transparent)]
    Port(#[from] PortError),
}

impl ApiError {
    pub fn invalid_path_id(field: &str, problem: impl std::fmt::Display) -> Self {
        Self::Validation(ValidationError::single(
            "path parameter",
            FieldError::new(field, "invalid_id", format!("{field} {problem}")),
        ))
    }

    fn parts(&self) -> (StatusCode, &'static str, String, Vec<FieldError>) {
        match self {
            Self::Validation(v) => (
                StatusCode::BAD_REQUEST,
                "validation_failed",
                format!("invalid {}", v.subject),
                v.details.clone(),
            ),
            Self::MalformedJson(_) => (
                StatusCode::BAD_REQUEST,
                "malformed_json",
                self.to_string(),
                vec![],
            ),
            Self::UnsupportedMediaType => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                self.to_string(),
                vec![],
            ),
            Self::PayloadTooLarge { .. } => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                self.to_string(),
                vec![],
            ),
            Self::NotFound { code, message } => {
                (StatusCode::NOT_FOUND, code, message.clone(), vec![])
            }
            Self::RouteNotFound { .. } => (
                StatusCode::NOT_FOUND,
                "route_not_found",
                self.to_string(),
                vec![],
            ),
            Self::MethodNotAllowed { .. } => (
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                self.to_string(),
                vec![],
            ),
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, message, details) = self.parts();
        if status.is_server_error() {
            error!(error = %self, "request failed");
        }
        let mut response = (
            status,
            Json(json!({"error": {"code": code, "message": message, "details": details}})),
        )
            .into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        }
        response
    }
}
