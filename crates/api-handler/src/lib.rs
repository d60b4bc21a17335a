//! The HTTP edge: routing, request parsing and validation, error mapping, reads. Writes are a
//! single durable step (a queue send or one transaction); business rules live in `domain`.

// Nested SDK futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

pub mod body;
pub mod caller;
pub mod cors;
pub mod error;
pub mod flow;
pub mod idempotency;
pub mod routes;
pub mod wiring;

pub use error::ApiError;
pub use routes::router;
pub use wiring::Services;
