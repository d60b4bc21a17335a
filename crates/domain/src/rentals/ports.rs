//! What the rental flow needs from storage and messaging.

use super::stats::{StatsDelta, UserStats};
use super::{Asset, Rental, ReturnRecord, ReturnScan, User};
use crate::PortError;
use crate::events::Outbound;
use crate::ids::{EventId, UserId};
use crate::rentals::{AssetId, ReturnId};
use async_trait::async_trait;

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
    pub event: Outbound,
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

#[async_trait]
pub trait RentalStore: Send + Sync {
    async fn find_user(&self, id: &UserId) -> Result<Option<User>, PortError>;
    async fn find_asset(&self, id: &AssetId) -> Result<Option<Asset>, PortError>;
    async fn rentals_of(&self, user: &UserId) -> Result<Vec<Rental>, PortError>;
    async fn find_return(&self, id: &ReturnId) -> Result<Option<ReturnRecord>, PortError>;
    async fn commit_return(&self, commit: &ReturnCommit) -> Result<CommitResult, PortError>;
    /// Records an accepted, not yet processed return; answers `false` and changes nothing when
    /// the return is already known (a decision is never overwritten).
    async fn record_pending(&self, record: &ReturnRecord) -> Result<bool, PortError>;
}

/// The durable queue of return scans awaiting processing.
#[async_trait]
pub trait ReturnQueue: Send + Sync {
    /// Queues `scan`; queuing the same scan again within the queue's de-duplication window is a
    /// no-op.
    async fn enqueue(&self, scan: &ReturnScan) -> Result<(), PortError>;
}

/// The user-stats projection, written once per event: `apply` answers `false`, and changes
/// nothing, for an event it has already applied.
#[async_trait]
pub trait StatsProjection: Send + Sync {
    async fn apply(&self, event_id: &EventId, delta: &StatsDelta) -> Result<bool, PortError>;
}

/// Reading the user-stats projection.
#[async_trait]
pub trait StatsView: Send + Sync {
    async fn get(&self, user: &UserId) -> Result<Option<UserStats>, PortError>;
}
