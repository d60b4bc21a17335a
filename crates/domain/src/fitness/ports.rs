//! What the fitness flow needs from storage and queues.

use super::ProgramId;
use super::event::AppEvent;
use super::events::NudgeCheck;
use super::rules::{Launch, Session};
use crate::PortError;
use crate::events::Outbound;
use crate::ids::{EventId, UserId};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;

#[async_trait]
pub trait FitnessStore: Send + Sync {
    /// The user's latest session of `program` (by start time).
    async fn latest_session(
        &self,
        user: &UserId,
        program: &ProgramId,
    ) -> Result<Option<Session>, PortError>;
    /// Records a started session; one recorded before under the same key (user, program, start
    /// time) is kept as it is.
    async fn start_session(&self, session: &Session) -> Result<(), PortError>;
    /// Writes `next` over its session, provided that one is still running, with `event` in the
    /// same transaction. `false`, writing nothing, when it is not running any more.
    async fn end_session(
        &self,
        next: &Session,
        event: Option<&Outbound>,
    ) -> Result<bool, PortError>;
    /// Records a pending launch, or answers the one recorded before under its id.
    async fn record_launch(&self, launch: &Launch) -> Result<Launch, PortError>;
    async fn launch(&self, user: &UserId, launch: &EventId) -> Result<Option<Launch>, PortError>;
    /// The user's launches whose nudge is pending, oldest first.
    async fn pending_launches(&self, user: &UserId) -> Result<Vec<Launch>, PortError>;
    /// Writes the settled `next`, provided its launch is still pending, with `event` (the
    /// nudge) in the same transaction: of a timer and a start settling at once, one wins.
    /// `false`, writing nothing, when it was settled before.
    async fn settle(&self, next: &Launch, event: Option<&Outbound>) -> Result<bool, PortError>;
    /// Keeps an event of an unknown type for review and counts it for its user and type, once
    /// per event id: `false` when it was recorded before.
    async fn record_unknown(&self, event: &AppEvent) -> Result<bool, PortError>;
}

/// What `GET /v1/users/{user_id}/activity` shows.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UserActivity {
    /// Oldest first.
    pub sessions: Vec<Session>,
    /// Oldest first.
    pub launches: Vec<Launch>,
    /// Events of types this service does not know, by type.
    pub unknown_event_types: BTreeMap<String, u64>,
}

#[async_trait]
pub trait FitnessView: Send + Sync {
    async fn activity(&self, user: &UserId) -> Result<UserActivity, PortError>;
    /// Events of unknown types received, by type, over all users.
    async fn unknown_type_counts(&self) -> Result<BTreeMap<String, u64>, PortError>;
}

/// The durable timer: delivers `check` after `delay` (wall clock), even if nothing else happens.
#[async_trait]
pub trait NudgeTimer: Send + Sync {
    async fn schedule(
        &self,
        check: &NudgeCheck,
        delay: std::time::Duration,
    ) -> Result<(), PortError>;
}

/// The ingest queue, grouped by user and de-duplicated by event id.
#[async_trait]
pub trait AppEventQueue: Send + Sync {
    /// Queues `events` in order, answering for each whether it is queued. An event after a
    /// failed one of the same user is not sent (it would overtake it): it fails too.
    async fn enqueue(&self, events: &[AppEvent]) -> Vec<Result<(), PortError>>;
}
