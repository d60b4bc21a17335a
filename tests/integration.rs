//! The integration tests, in one test binary: the tests share one build and link of everything
//! they exercise, and one DynamoDB Local (each test still provisions its own uniquely prefixed
//! resources and starts its own messaging emulator). Each flow's tests are a file under
//! `flows/`, found there (no list to edit); the modules below them are the backbone's.

#![recursion_limit = "256"]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod idempotency;
mod local_stack;
mod messaging;
mod sample_events;
mod topology_parity;

/// Every flow's tests against the emulators: each file under `flows/` is one flow's.
mod flows {
    automod::dir!(pub "flows");
}

/// Every port's contract, run against its in-memory and its DynamoDB Local adapter: each file
/// under `ports/` is one flow's ports.
mod ports {
    automod::dir!("ports");
}
