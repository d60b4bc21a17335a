//! The fitness app's events queue (FIFO, one group per user, in order) and its nudge timers (a
//! standard queue's delayed messages).

use crate::sqs::{DelayQueue, FifoSender, Outgoing};
use domain::PortError;
use tracing::instrument;

/// The body of an app event on the ingest queue: its domain event envelope.
fn app_event_body(e: &domain::fitness::AppEvent) -> Result<String, PortError> {
    let envelope = domain::events::DomainEvent::new(e, &e.dedup_id(), e.user_id.as_str(), e.at)?;
    serde_json::to_string(&envelope)
        .map_err(|err| PortError::Permanent(format!("app event: {err}")))
}

#[async_trait::async_trait]
impl domain::fitness::ports::AppEventQueue for FifoSender {
    /// In order, each user's events as one message group ([`FifoSender::send_in_order`]).
    async fn enqueue(&self, events: &[domain::fitness::AppEvent]) -> Vec<Result<(), PortError>> {
        let messages: Vec<Outgoing> = events
            .iter()
            .map(|e| Outgoing {
                group: e.message_group(),
                dedup_id: e.dedup_id(),
                body: app_event_body(e),
            })
            .collect();
        self.send_in_order(&messages).await
    }
}

#[async_trait::async_trait]
impl domain::fitness::ports::NudgeTimer for DelayQueue {
    #[instrument(skip_all, fields(launch_id = %check.launch_id))]
    async fn schedule(
        &self,
        check: &domain::fitness::NudgeCheck,
        delay: std::time::Duration,
    ) -> Result<(), PortError> {
        let envelope = check.outbound(chrono::Utc::now())?.event;
        let body = serde_json::to_string(&envelope)
            .map_err(|e| PortError::Permanent(format!("nudge check: {e}")))?;
        self.send_after(&body, delay).await
    }
}
