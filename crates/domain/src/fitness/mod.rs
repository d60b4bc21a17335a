//! Flow 2: events of a mobile fitness app. The edge accepts the legacy shape and the versioned
//! one and turns both into an [`AppEvent`] on a FIFO queue grouped by user. Each event type is a
//! payload with a handler, registered in [`event_types`]; a type not registered is kept for
//! review and counted. The rules ([`rules`]) decide from event time, never processing time: a
//! congratulation for a finished program that lasted more than 30 minutes, and a nudge for a
//! launch that no program start follows within the window, sent by a durable timer when the
//! user's own events do not settle it first.
//!
//! Adding a type: a payload type with `impl AppPayload`, a handler with `impl Handle<Payload>`,
//! and one `.on::<Payload>(Handler)` line in [`event_types`].

mod consume;
mod event;
pub mod events;
mod handlers;
mod ids;
mod ingest;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
mod notification;
pub mod ports;
pub mod rules;
mod types;

pub use consume::{ConsumeAppEvents, FireNudge, settle};
pub use event::{AppEvent, LEGACY_TIME_FORMAT, SCHEMA_VERSION};
pub use events::{NudgeCheck, TrainingCongratulated, TrainingNudged};
pub use ids::ProgramId;
pub use ingest::{MAX_BATCH, Refused, batch_items, ingest_batch, ingest_event};

/// The events the app's users are told about (each a [`crate::notifications::Notify`]).
pub type Notified = (TrainingCongratulated, TrainingNudged);
pub use handlers::{
    AppLaunched, EndSession, ProgramCancelled, ProgramFinished, ProgramStarted, ScheduleNudge,
    StartSession, event_types,
};
pub use rules::{
    DEFAULT_NUDGE_AFTER_SECONDS, Launch, NudgeState, Session, SessionEnd, SessionState, SettledBy,
};
pub use types::{AppPayload, EventTypes, Fitness, Handle};

static APP_EVENT_TYPES: std::sync::LazyLock<EventTypes> = std::sync::LazyLock::new(event_types);

/// What this flow reads from outside (see [`crate::edge`]): either shape of an app event (a
/// `schema_version` field chooses), and the times in them.
pub const EDGE: crate::edge::Edge = crate::edge::Edge {
    json: &[crate::edge::Parser {
        name: "app event",
        parse: |v| AppEvent::from_json(v, &APP_EVENT_TYPES).map(drop),
        sample: r#"{"user_id": "u1", "device_id": "d1", "type": "app_launched",
        "time_stamp": "2021-02-28 16:23:25"}"#,
        fields: &[
            "device_id",
            "event_id",
            "payload",
            "schema_version",
            "time",
            "time_stamp",
            "training_program_id",
            "training_program_title",
            "type",
            "user_id",
        ],
    }],
    text: &[crate::edge::TextParser {
        name: "app event time",
        check: event::check_any_time,
        sample: "2021-02-28 16:23:25",
    }],
};

#[cfg(test)]
mod tests;
