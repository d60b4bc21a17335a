//! The rental flow's ports in memory, with the DynamoDB adapters' conditional semantics. For
//! unit tests of the rules, for benchmarks and the in-memory wiring; never wired into a function.

use super::ports::{
    CommitResult, RentalStore, ReturnCommit, ReturnQueue, StatsProjection, StatsView,
};
use super::stats::{StatsDelta, UserStats};
use super::{Asset, Rental, RentalStatus, ReturnRecord, ReturnScan, User};
use crate::PortError;
use crate::events::DomainEvent;
use crate::ids::{EventId, UserId};
use crate::rentals::{AssetId, RentalId, ReturnId};
use async_trait::async_trait;
use std::collections::{BTreeMap, HashSet};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct State {
    users: BTreeMap<UserId, User>,
    assets: BTreeMap<AssetId, Asset>,
    rentals: BTreeMap<RentalId, Rental>,
    returns: BTreeMap<ReturnId, ReturnRecord>,
    outbox: Vec<DomainEvent>,
    steal: Option<RentalId>,
    fail_next: Option<PortError>,
}

#[derive(Default)]
pub struct InMemoryRentalStore {
    state: Mutex<State>,
}

impl InMemoryRentalStore {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A poisoned lock only means another test thread panicked; the data is still usable.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_failure(&self) -> Result<(), PortError> {
        self.lock().fail_next.take().map_or(Ok(()), Err)
    }

    pub fn put_user(&self, user: User) {
        self.lock().users.insert(user.user_id.clone(), user);
    }
    pub fn put_asset(&self, asset: Asset) {
        self.lock().assets.insert(asset.asset_id.clone(), asset);
    }
    pub fn put_rental(&self, rental: Rental) {
        self.lock().rentals.insert(rental.rental_id.clone(), rental);
    }
    pub fn put_pending(&self, record: ReturnRecord) {
        self.lock().returns.insert(record.return_id.clone(), record);
    }
    pub fn rental(&self, id: &str) -> Option<Rental> {
        self.lock()
            .rentals
            .values()
            .find(|r| r.rental_id.as_str() == id)
            .cloned()
    }
    pub fn outbox(&self) -> Vec<DomainEvent> {
        self.lock().outbox.clone()
    }
    /// Simulates a concurrent return completing `rental` just before the next commit.
    pub fn steal_on_next_commit(&self, rental: &str) {
        self.lock().steal = RentalId::parse(rental).ok();
    }
    /// The next port call fails with `error`.
    pub fn fail_next(&self, error: PortError) {
        self.lock().fail_next = Some(error);
    }
}

#[async_trait]
impl RentalStore for InMemoryRentalStore {
    async fn find_user(&self, id: &UserId) -> Result<Option<User>, PortError> {
        self.take_failure()?;
        Ok(self.lock().users.get(id).cloned())
    }

    async fn find_asset(&self, id: &AssetId) -> Result<Option<Asset>, PortError> {
        self.take_failure()?;
        Ok(self.lock().assets.get(id).cloned())
    }

    async fn rentals_of(&self, user: &UserId) -> Result<Vec<Rental>, PortError> {
        self.take_failure()?;
        Ok(self
            .lock()
            .rentals
            .values()
            .filter(|r| &r.user_id == user)
            .cloned()
            .collect())
    }

    async fn find_return(&self, id: &ReturnId) -> Result<Option<ReturnRecord>, PortError> {
        self.take_failure()?;
        Ok(self.lock().returns.get(id).cloned())
    }

    async fn commit_return(&self, commit: &ReturnCommit) -> Result<CommitResult, PortError> {
        self.take_failure()?;
        let mut s = self.lock();
        if let Some(r) = s.steal.take().and_then(|id| s.rentals.get_mut(&id)) {
            r.status = RentalStatus::Completed;
        }
        if s.returns
            .get(&commit.record.return_id)
            .is_some_and(|r| r.state.is_decided())
        {
            return Ok(CommitResult::ReturnAlreadyDecided);
        }
        if let Some(c) = &commit.completion {
            let current = s.rentals.get(&c.rental.rental_id).map(|r| r.status);
            if current != Some(RentalStatus::InProgress) {
                return Ok(CommitResult::RentalTaken);
            }
            s.rentals
                .insert(c.rental.rental_id.clone(), c.rental.clone());
            s.outbox.push(c.event.event.clone());
        }
        s.returns
            .insert(commit.record.return_id.clone(), commit.record.clone());
        Ok(CommitResult::Committed)
    }

    async fn record_pending(&self, record: &ReturnRecord) -> Result<bool, PortError> {
        self.take_failure()?;
        let mut s = self.lock();
        if s.returns.contains_key(&record.return_id) {
            return Ok(false);
        }
        s.returns.insert(record.return_id.clone(), record.clone());
        Ok(true)
    }
}

/// A queue that keeps what it was given, dropping repeats like a FIFO queue's de-duplication.
#[derive(Default)]
pub struct InMemoryReturnQueue {
    queued: Mutex<(Vec<ReturnScan>, HashSet<ReturnId>)>,
    fail_next: Mutex<Option<PortError>>,
}

impl InMemoryReturnQueue {
    /// The next enqueue fails with `error`.
    pub fn fail_next(&self, error: PortError) {
        *self.fail_next.lock().unwrap_or_else(|e| e.into_inner()) = Some(error);
    }

    pub fn queued(&self) -> Vec<ReturnScan> {
        self.queued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .clone()
    }
}

#[async_trait]
impl ReturnQueue for InMemoryReturnQueue {
    async fn enqueue(&self, scan: &ReturnScan) -> Result<(), PortError> {
        if let Some(e) = self
            .fail_next
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take()
        {
            return Err(e);
        }
        let mut q = self.queued.lock().unwrap_or_else(|e| e.into_inner());
        if q.1.insert(scan.return_id()) {
            q.0.push(scan.clone());
        }
        Ok(())
    }
}

/// Projection store keeping applied event ids, like the DynamoDB adapter's marker items.
#[derive(Default)]
pub struct InMemoryStatsStore {
    state: Mutex<(BTreeMap<UserId, UserStats>, HashSet<EventId>)>,
}

impl InMemoryStatsStore {
    pub fn stats(&self, user: &UserId) -> Option<UserStats> {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .0
            .get(user)
            .cloned()
    }
}

#[async_trait]
impl StatsProjection for InMemoryStatsStore {
    async fn apply(&self, event_id: &EventId, delta: &StatsDelta) -> Result<bool, PortError> {
        let mut guard = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let (stats, applied) = &mut *guard;
        if !applied.insert(event_id.clone()) {
            return Ok(false);
        }
        let entry = stats
            .entry(delta.user_id.clone())
            .or_insert_with(|| UserStats::empty(delta.user_id.clone()));
        entry.add(delta);
        Ok(true)
    }
}

#[async_trait]
impl StatsView for InMemoryStatsStore {
    async fn get(&self, user: &UserId) -> Result<Option<UserStats>, PortError> {
        Ok(self.stats(user))
    }
}
