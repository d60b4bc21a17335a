//! The consumers: the ingest queue's events (nudges settled by event time first, then the
//! type's handler) and the timer's checks (nudges settled by the wall clock).

use super::event::AppEvent;
use super::events::{NudgeCheck, TrainingNudged};
use super::rules::{Launch, NudgeState, SettledBy};
use super::types::{EventTypes, Fitness};
use crate::PortError;
use crate::events::{Delivery, DomainEvent, EventHandler};
use async_trait::async_trait;
use std::sync::Arc;
use tracing::info;

/// Settles `launch` as `to`; a nudge goes out with the settlement, in one write. `false` when
/// it had been settled before (by the other of timer and event).
pub async fn settle(
    f: &Fitness,
    launch: &Launch,
    to: NudgeState,
    by: SettledBy,
) -> Result<bool, PortError> {
    let now = (f.clock)();
    let next = launch.settle(to, by, now);
    let nudge = match to {
        NudgeState::Sent => Some(TrainingNudged::outbound(&next, now)?),
        _ => None,
    };
    let won = f.store.settle(&next, nudge.as_ref()).await?;
    info!(launch_id = %launch.launch_id, nudge = ?to, by = ?by, won, "launch settled");
    Ok(won)
}

/// One app event from the ingest queue (one user's events arrive in order).
pub struct ConsumeAppEvents {
    pub fitness: Fitness,
    pub types: Arc<EventTypes>,
}

#[async_trait]
impl EventHandler<AppEvent> for ConsumeAppEvents {
    async fn handle(&self, e: AppEvent, _: &DomainEvent, _: Delivery) -> Result<(), PortError> {
        let f = &self.fitness;
        let starts = self.types.starts_training(&e.type_name);
        for launch in f.store.pending_launches(&e.user_id).await? {
            if launch.launch_id == e.event_id {
                continue;
            }
            if let Some(to) = launch.settled_by(e.at, starts) {
                settle(f, &launch, to, SettledBy::Event).await?;
            }
        }
        self.types.handle(f, &e).await
    }
}

/// A launch's timer: sends the nudge if nothing settled it. A timer due later than SQS can
/// delay a message (15 minutes) is set again for what is left.
pub struct FireNudge(pub Fitness);

#[async_trait]
impl EventHandler<NudgeCheck> for FireNudge {
    async fn handle(&self, c: NudgeCheck, _: &DomainEvent, _: Delivery) -> Result<(), PortError> {
        let f = &self.0;
        let now = (f.clock)();
        if let Ok(left) = (c.due_at - now).to_std()
            && !left.is_zero()
        {
            return f.timer.schedule(&c, left).await;
        }
        match f.store.launch(&c.user_id, &c.launch_id).await? {
            Some(launch) if launch.nudge == NudgeState::Pending => {
                settle(f, &launch, NudgeState::Sent, SettledBy::Timer)
                    .await
                    .map(|_| ())
            }
            Some(_) => Ok(()),
            None => Err(PortError::Permanent(format!(
                "no launch {} of {} to check",
                c.launch_id, c.user_id
            ))),
        }
    }
}
