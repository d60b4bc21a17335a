//! The integration tests, one module per area, in one test binary: the tests share one build and
//! link of everything they exercise, and one DynamoDB Local (each test still provisions its own
//! uniquely prefixed resources and starts its own messaging emulator).

#![recursion_limit = "256"]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod faults;
mod fitness;
mod formulas;
mod idempotency;
mod local_stack;
mod messaging;
mod orders;
mod rental_returns;
mod sample_events;
mod tasks;
mod topology_parity;
