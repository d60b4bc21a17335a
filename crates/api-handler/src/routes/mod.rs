//! The API: each flow's routes in a module of their own, exporting one `router`, merged here
//! once with what every route shares (idempotent POSTs, the error shape of unknown routes and
//! methods, the body limit).

pub mod formulas;
pub mod rentals;
pub mod tasks;

use crate::error::ApiError;
use crate::wiring::Services;
use axum::Router;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{Method, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use domain::PortError;
use std::time::Duration;

/// Every route of the API. Unknown paths answer 404 and known paths with another method 405,
/// both with the JSON error body.
pub fn router(services: Services) -> Router {
    Router::new()
        .merge(rentals::router(services.rentals))
        .merge(formulas::router(services.formulas))
        .merge(tasks::router(services.tasks))
        // Only matched routes: unknown paths and methods answer 404/405 before any claim.
        .route_layer(axum::middleware::from_fn_with_state(
            services.idempotency,
            crate::idempotency::idempotency,
        ))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body extractor enforces its own limit with this API's error shape.
        .layer(DefaultBodyLimit::disable())
        .layer(axum::middleware::from_fn(within_deadline))
}

/// How long a request may take: inside the function's timeout (10 s in topology.json), so a
/// request slowed by a struggling dependency ends as a 503 the client may retry, not as a
/// Lambda timeout the gateway turns into a bare 502.
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(9);

async fn within_deadline(request: Request, next: Next) -> Response {
    match tokio::time::timeout(REQUEST_DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Port(PortError::Retryable(format!(
            "request did not finish within {} s",
            REQUEST_DEADLINE.as_secs()
        )))
        .into_response(),
    }
}

async fn route_not_found(method: Method, uri: Uri) -> ApiError {
    ApiError::RouteNotFound {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

async fn method_not_allowed(method: Method, uri: Uri) -> ApiError {
    ApiError::MethodNotAllowed {
        method: method.to_string(),
        path: uri.path().to_owned(),
    }
}

#[cfg(test)]
mod tests;
