//! Flow 2: events of a mobile fitness app. The edge accepts the legacy shape and the versioned
//! one and turns both into an [`AppEvent`]; the rules ([`rules`]) decide from event time, never
//! processing time: a congratulation for a finished program that lasted more than 30 minutes,
//! and a nudge for a launch that no program start follows within the window.
//!
//! This module holds the event model and the rules; the queues, the durable timer, the stores
//! and the routes that carry them are built on top of it.

mod event;
pub mod rules;

pub use event::{Activity, AppEvent, LEGACY_TIME_FORMAT, ProgramId, SCHEMA_VERSION};
