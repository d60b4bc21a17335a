//! The fitness flow's ports in memory, writing under the DynamoDB adapter's conditions.

use super::ProgramId;
use super::event::AppEvent;
use super::events::NudgeCheck;
use super::ports::{AppEventQueue, FitnessStore, FitnessView, NudgeTimer, UserActivity};
use super::rules::{Launch, NudgeState, Session, SessionState};
use crate::PortError;
use crate::events::{DomainEvent, Outbound};
use crate::ids::{EventId, UserId};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

type SessionKey = (UserId, ProgramId, DateTime<Utc>);

#[derive(Default)]
struct State {
    sessions: BTreeMap<SessionKey, Session>,
    launches: BTreeMap<(UserId, EventId), Launch>,
    unknown: BTreeMap<(UserId, EventId), AppEvent>,
    events: Vec<DomainEvent>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[derive(Default)]
pub struct InMemoryFitness {
    state: Mutex<State>,
}

impl InMemoryFitness {
    /// The events written with state changes (the outbox), in order.
    pub fn events(&self) -> Vec<DomainEvent> {
        lock(&self.state).events.clone()
    }
}

fn key(s: &Session) -> SessionKey {
    (
        s.user_id.clone(),
        s.training_program_id.clone(),
        s.started_at,
    )
}

#[async_trait]
impl FitnessStore for InMemoryFitness {
    async fn latest_session(
        &self,
        user: &UserId,
        program: &ProgramId,
    ) -> Result<Option<Session>, PortError> {
        Ok(lock(&self.state)
            .sessions
            .values()
            .filter(|s| &s.user_id == user && &s.training_program_id == program)
            .max_by_key(|s| s.started_at)
            .cloned())
    }

    async fn start_session(&self, session: &Session) -> Result<(), PortError> {
        lock(&self.state)
            .sessions
            .entry(key(session))
            .or_insert_with(|| session.clone());
        Ok(())
    }

    async fn end_session(
        &self,
        next: &Session,
        event: Option<&Outbound>,
    ) -> Result<bool, PortError> {
        let mut s = lock(&self.state);
        match s.sessions.get_mut(&key(next)) {
            Some(stored) if stored.state == SessionState::Started => {
                *stored = next.clone();
                s.events.extend(event.map(|o| o.event.clone()));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn record_launch(&self, launch: &Launch) -> Result<Launch, PortError> {
        Ok(lock(&self.state)
            .launches
            .entry((launch.user_id.clone(), launch.launch_id.clone()))
            .or_insert_with(|| launch.clone())
            .clone())
    }

    async fn launch(&self, user: &UserId, launch: &EventId) -> Result<Option<Launch>, PortError> {
        Ok(lock(&self.state)
            .launches
            .get(&(user.clone(), launch.clone()))
            .cloned())
    }

    async fn pending_launches(&self, user: &UserId) -> Result<Vec<Launch>, PortError> {
        let mut out: Vec<Launch> = lock(&self.state)
            .launches
            .values()
            .filter(|l| &l.user_id == user && l.nudge == NudgeState::Pending)
            .cloned()
            .collect();
        out.sort_by_key(|l| l.launched_at);
        Ok(out)
    }

    async fn settle(&self, next: &Launch, event: Option<&Outbound>) -> Result<bool, PortError> {
        let mut s = lock(&self.state);
        match s
            .launches
            .get_mut(&(next.user_id.clone(), next.launch_id.clone()))
        {
            Some(stored) if stored.nudge == NudgeState::Pending => {
                *stored = next.clone();
                s.events.extend(event.map(|o| o.event.clone()));
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn record_unknown(&self, event: &AppEvent) -> Result<bool, PortError> {
        let mut s = lock(&self.state);
        let k = (event.user_id.clone(), event.event_id.clone());
        if s.unknown.contains_key(&k) {
            return Ok(false);
        }
        s.unknown.insert(k, event.clone());
        Ok(true)
    }
}

#[async_trait]
impl FitnessView for InMemoryFitness {
    async fn activity(&self, user: &UserId) -> Result<UserActivity, PortError> {
        let s = lock(&self.state);
        let mut sessions: Vec<Session> = s
            .sessions
            .values()
            .filter(|x| &x.user_id == user)
            .cloned()
            .collect();
        sessions.sort_by_key(|x| x.started_at);
        let mut launches: Vec<Launch> = s
            .launches
            .values()
            .filter(|x| &x.user_id == user)
            .cloned()
            .collect();
        launches.sort_by_key(|x| x.launched_at);
        let mut unknown_event_types = BTreeMap::new();
        for e in s.unknown.values().filter(|e| &e.user_id == user) {
            *unknown_event_types.entry(e.type_name.clone()).or_insert(0) += 1;
        }
        Ok(UserActivity {
            sessions,
            launches,
            unknown_event_types,
        })
    }

    async fn unknown_type_counts(&self) -> Result<BTreeMap<String, u64>, PortError> {
        let mut out = BTreeMap::new();
        for e in lock(&self.state).unknown.values() {
            *out.entry(e.type_name.clone()).or_insert(0) += 1;
        }
        Ok(out)
    }
}

/// Timers set, in order; nothing fires by itself (a test fires them).
#[derive(Default)]
pub struct InMemoryTimer {
    scheduled: Mutex<Vec<(NudgeCheck, std::time::Duration)>>,
}

impl InMemoryTimer {
    pub fn scheduled(&self) -> Vec<(NudgeCheck, std::time::Duration)> {
        lock(&self.scheduled).clone()
    }
}

#[async_trait]
impl NudgeTimer for InMemoryTimer {
    async fn schedule(
        &self,
        check: &NudgeCheck,
        delay: std::time::Duration,
    ) -> Result<(), PortError> {
        lock(&self.scheduled).push((check.clone(), delay));
        Ok(())
    }
}

/// The ingest queue in memory: what was queued, with the FIFO queue's de-duplication by id.
#[derive(Default)]
pub struct InMemoryAppEventQueue {
    queued: Mutex<(Vec<AppEvent>, std::collections::HashSet<EventId>)>,
}

impl InMemoryAppEventQueue {
    pub fn queued(&self) -> Vec<AppEvent> {
        lock(&self.queued).0.clone()
    }
}

#[async_trait]
impl AppEventQueue for InMemoryAppEventQueue {
    async fn enqueue(&self, events: &[AppEvent]) -> Vec<Result<(), PortError>> {
        let mut q = lock(&self.queued);
        events
            .iter()
            .map(|e| {
                if q.1.insert(e.event_id.clone()) {
                    q.0.push(e.clone());
                }
                Ok(())
            })
            .collect()
    }
}
