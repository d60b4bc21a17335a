//! Ports: what the rules need from the outside world. Adapters (DynamoDB, in-memory) implement
//! them elsewhere.

use crate::PortError;
use crate::events::DomainEvent;
use crate::ids::{AssetId, ReturnId, UserId};
use crate::rentals::{Asset, Rental, ReturnRecord, User};
use std::future::Future;

/// A decided return, to be committed atomically: the return record, and for a completion the
/// rental's new state (guarded: only if still in progress) and the event it emits.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnCommit {
    pub record: ReturnRecord,
    pub completion: Option<Completion>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    pub rental: Rental,
    pub event: DomainEvent,
}

/// What a commit attempt found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommitResult {
    Committed,
    /// Another delivery of the same scan was decided first; nothing was written.
    ReturnAlreadyDecided,
    /// The chosen rental stopped being in progress (a concurrent return took it); nothing was
    /// written, and the decision must be made again on fresh data.
    RentalTaken,
}

pub trait RentalStore: Send + Sync {
    fn find_user(
        &self,
        id: &UserId,
    ) -> impl Future<Output = Result<Option<User>, PortError>> + Send;
    fn find_asset(
        &self,
        id: &AssetId,
    ) -> impl Future<Output = Result<Option<Asset>, PortError>> + Send;
    fn rentals_of(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Vec<Rental>, PortError>> + Send;
    fn find_return(
        &self,
        id: &ReturnId,
    ) -> impl Future<Output = Result<Option<ReturnRecord>, PortError>> + Send;
    fn commit_return(
        &self,
        commit: &ReturnCommit,
    ) -> impl Future<Output = Result<CommitResult, PortError>> + Send;
    /// Records an accepted, not yet processed return; answers `false` and changes nothing when
    /// the return is already known (a decision is never overwritten).
    fn record_pending(
        &self,
        record: &ReturnRecord,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;
}

/// The durable queue of return scans awaiting processing.
pub trait ReturnQueue: Send + Sync {
    /// Queues `scan`; queuing the same scan again within the queue's de-duplication window is a
    /// no-op.
    fn enqueue(
        &self,
        scan: &crate::rentals::ReturnScan,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The user-stats projection. `apply` adds `delta` once per `event_id`: it answers `false`, and
/// changes nothing, for an event it has already applied.
pub trait StatsStore: Send + Sync {
    fn apply(
        &self,
        event_id: &crate::ids::EventId,
        delta: &crate::rentals::stats::StatsDelta,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;
    fn get(
        &self,
        user: &UserId,
    ) -> impl Future<Output = Result<Option<crate::rentals::stats::UserStats>, PortError>> + Send;
}

/// What storing a formula found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormulaSubmission {
    Created,
    /// A formula with the same make-up exists; nothing was stored or published.
    Duplicate(crate::ids::FormulaId),
}

pub trait FormulaStore: Send + Sync {
    /// Stores `formula` and the event it emits in one transaction, unless its make-up is taken.
    fn submit(
        &self,
        formula: &crate::formulas::Formula,
        event: &DomainEvent,
    ) -> impl Future<Output = Result<FormulaSubmission, PortError>> + Send;
    fn get(
        &self,
        id: &crate::ids::FormulaId,
    ) -> impl Future<Output = Result<Option<crate::formulas::Formula>, PortError>> + Send;
    /// Marks the formula processed; `false` when it already was.
    fn mark_processed(
        &self,
        id: &crate::ids::FormulaId,
    ) -> impl Future<Output = Result<bool, PortError>> + Send;
}

pub trait TaskStore: Send + Sync {
    /// Stores a new task and the event that queues it, in one transaction.
    fn submit(
        &self,
        task: &crate::tasks::Task,
        event: &DomainEvent,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
    fn get(
        &self,
        id: &crate::ids::TaskId,
    ) -> impl Future<Output = Result<Option<crate::tasks::Task>, PortError>> + Send;
    /// Starts a processing attempt and answers the task as it now stands (`None`: no such
    /// task). A `queued` (or `failed`, redriven) task becomes `processing` and takes the next
    /// sequence number, atomically with the counter, so numbers are gap-free and strictly
    /// increasing in processing order; a `processing` task (a retry) keeps its number. Every
    /// attempt is counted. A `completed` task is answered unchanged.
    fn begin(
        &self,
        id: &crate::ids::TaskId,
        at: chrono::DateTime<chrono::Utc>,
    ) -> impl Future<Output = Result<Option<crate::tasks::Task>, PortError>> + Send;
    /// Records how an attempt ended on a task that is `processing`; a no-op otherwise.
    fn settle(
        &self,
        id: &crate::ids::TaskId,
        settlement: &crate::tasks::Settlement,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}

/// The work a task stands for. Called at least once per task, so it must be idempotent; a
/// retryable error is tried again (nothing later in the stream overtakes it), a permanent one
/// fails the task at once.
pub trait TaskExecutor: Send + Sync {
    fn execute(
        &self,
        task: &crate::tasks::Task,
    ) -> impl Future<Output = Result<(), PortError>> + Send;
}
