//! The API's clients, per flow: goose load scenarios with their invariants (the `load` binary),
//! each flow's demo step (the `demo` binary), the local stack's own footprint and ceilings (the
//! `measure` binary), and what they share (the harness, request signing,
//! pacing, recording and reports). See `docs/load.md`.

pub mod auth;
pub mod ceilings;
pub mod demo;
pub mod footprint;
pub mod harness;
pub mod hops;
pub mod pace;
pub mod record;
pub mod report;
pub mod scenario;
pub mod scenarios;
pub mod sign_in;
pub mod smoke;
pub mod stack;
