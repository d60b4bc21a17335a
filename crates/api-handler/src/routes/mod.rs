//! The API: each flow's routes in a module of their own, exporting one [`ApiFlow`], listed once
//! in [`FLOWS`] and merged here with what every route shares (idempotent POSTs, the error shape
//! of unknown routes and methods, the body limit).

pub mod fitness;
pub mod formulas;
pub mod orders;
pub mod rentals;
pub mod tasks;

use crate::error::ApiError;
use crate::flow::ApiFlow;
use crate::wiring::Services;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, Uri};

/// Every flow of the API: one line per flow.
pub const FLOWS: &[ApiFlow] = &[
    rentals::FLOW,
    formulas::FLOW,
    tasks::FLOW,
    orders::FLOW,
    fitness::FLOW,
];

/// Every route of the API. Unknown paths answer 404 and known paths with another method 405,
/// both with the JSON error body.
pub fn router(services: Services) -> Router {
    services
        .routes
        .into_router()
        // Only matched routes: unknown paths and methods answer 404/405 before any claim.
        .route_layer(axum::middleware::from_fn_with_state(
            services.idempotency,
            crate::idempotency::idempotency,
        ))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // The body extractor enforces its own limit with this API's error shape.
        .layer(DefaultBodyLimit::disable())
        // Every answer, the fallbacks' included.
        .layer(axum::middleware::from_fn_with_state(
            services.cors,
            crate::cors::cors,
        ))
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
