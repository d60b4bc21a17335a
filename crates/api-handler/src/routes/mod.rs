mod formulas;
mod rentals;
mod tasks;

use crate::error::ApiError;
use crate::ports::Ports;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};
use axum::routing::{get, post};
use std::sync::Arc;

/// Every route of the API. Unknown paths answer 404 and known paths with another method 405,
/// both with the JSON error body.
pub fn router<P: Ports>(ports: Arc<P>) -> Router {
    Router::new()
        .route("/rentals/returns", post(rentals::submit_return::<P>))
        .route(
            "/rentals/returns/{return_id}",
            get(rentals::get_return::<P>),
        )
        .route("/users/{user_id}/rentals", get(rentals::list_rentals::<P>))
        .route("/users/{user_id}/stats", get(rentals::user_stats::<P>))
        .route("/formulas", post(formulas::submit::<P>))
        .route("/formulas/{formula_id}", get(formulas::get::<P>))
        .route("/tasks", post(tasks::submit::<P>))
        .route("/tasks/{task_id}", get(tasks::get::<P>))
        // Only matched routes: unknown paths and methods answer 404/405 before any claim.
        .route_layer(axum::middleware::from_fn_with_state(
            ports.clone(),
            crate::idempotency::idempotency::<P>,
        ))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body extractor enforces its own limit with this API's error shape.
        .layer(DefaultBodyLimit::disable())
        .with_state(ports)
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
