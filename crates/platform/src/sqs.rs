//! Sending to FIFO queues.

use crate::aws::sdk_error;
use domain::PortError;
use tracing::instrument;

#[derive(Clone)]
pub struct FifoSender {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl FifoSender {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Sends `body` in `group`. The queue drops a second send with the same `dedup_id` within
    /// its five-minute window, so a retried request does not queue the message twice.
    #[instrument(skip(self, body), fields(queue = %self.queue_url))]
    pub async fn send(&self, group: &str, dedup_id: &str, body: &str) -> Result<(), PortError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .message_group_id(group)
            .message_deduplication_id(dedup_id)
            .message_body(body)
            .send()
            .await
            .map_err(|e| sdk_error("SendMessage", e))?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl domain::rentals::ports::ReturnQueue for FifoSender {
    async fn enqueue(&self, scan: &domain::rentals::ReturnScan) -> Result<(), PortError> {
        let body = serde_json::to_string(&scan.to_raw())
            .map_err(|e| PortError::Permanent(format!("return scan: {e}")))?;
        self.send(&scan.message_group(), scan.return_id().as_str(), &body)
            .await
    }
}

/// SQS takes at most this many messages in one `SendMessageBatch`.
const SEND_BATCH: usize = 10;

/// The body of an app event on the ingest queue: its domain event envelope.
fn app_event_body(e: &domain::fitness::AppEvent) -> Result<String, PortError> {
    let envelope = domain::events::DomainEvent::new(e, &e.dedup_id(), e.user_id.as_str(), e.at)?;
    serde_json::to_string(&envelope)
        .map_err(|err| PortError::Permanent(format!("app event: {err}")))
}

#[async_trait::async_trait]
impl domain::fitness::ports::AppEventQueue for FifoSender {
    /// In order, in calls of up to ten events with at most one per user: SQS answers each entry
    /// on its own, so a user's second event in one call could be queued while the first failed.
    /// Once an event of a user fails, that user's later events are not sent (they would overtake
    /// it) and fail with the same error.
    #[instrument(skip_all, fields(queue = %self.queue_url, events = events.len()))]
    async fn enqueue(&self, events: &[domain::fitness::AppEvent]) -> Vec<Result<(), PortError>> {
        let mut results: Vec<Option<Result<(), PortError>>> = vec![None; events.len()];
        let groups: Vec<String> = events.iter().map(|e| e.message_group()).collect();
        let mut failed: std::collections::HashMap<&str, PortError> = Default::default();
        let mut next = 0;
        while next < events.len() {
            let mut chunk = Vec::new();
            let mut in_chunk = std::collections::HashSet::new();
            while next < events.len()
                && chunk.len() < SEND_BATCH
                && in_chunk.insert(groups[next].as_str())
            {
                chunk.push(next);
                next += 1;
            }
            let mut entries = Vec::new();
            for &i in &chunk {
                let e = &events[i];
                let group = groups[i].as_str();
                if let Some(err) = failed.get(group) {
                    results[i] = Some(Err(err.clone()));
                    continue;
                }
                let entry = app_event_body(e).and_then(|body| {
                    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .message_group_id(group)
                        .message_deduplication_id(e.dedup_id())
                        .message_body(body)
                        .build()
                        .map_err(|err| PortError::Permanent(format!("batch entry: {err}")))
                });
                match entry {
                    Ok(entry) => entries.push(entry),
                    Err(err) => {
                        failed.insert(group, err.clone());
                        results[i] = Some(Err(err));
                    }
                }
            }
            if entries.is_empty() {
                continue;
            }
            let sent: Vec<usize> = entries.iter().filter_map(|e| e.id().parse().ok()).collect();
            match self
                .client
                .send_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await
            {
                Ok(out) => {
                    for ok in out.successful() {
                        if let Ok(i) = ok.id().parse::<usize>() {
                            results[i] = Some(Ok(()));
                        }
                    }
                    for f in out.failed() {
                        if let Ok(i) = f.id().parse::<usize>() {
                            let message = format!(
                                "SendMessageBatch entry {}: {}",
                                f.code(),
                                f.message().unwrap_or_default()
                            );
                            let err = if f.sender_fault() {
                                PortError::Permanent(message)
                            } else {
                                PortError::Retryable(message)
                            };
                            failed.insert(groups[i].as_str(), err.clone());
                            results[i] = Some(Err(err));
                        }
                    }
                }
                Err(e) => {
                    let err = sdk_error("SendMessageBatch", e);
                    for i in sent {
                        failed.insert(groups[i].as_str(), err.clone());
                        results[i] = Some(Err(err.clone()));
                    }
                }
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(PortError::Retryable("not answered by SQS".into()))))
            .collect()
    }
}

/// The longest delay SQS gives one message.
pub const MAX_DELAY: std::time::Duration = std::time::Duration::from_secs(900);

/// A standard queue used as a durable timer: each message is delivered after its delay (at most
/// [`MAX_DELAY`]; a consumer sets a longer timer again for what is left).
#[derive(Clone)]
pub struct DelayQueue {
    client: aws_sdk_sqs::Client,
    queue_url: String,
}

impl DelayQueue {
    pub fn new(client: aws_sdk_sqs::Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }

    /// Whole seconds, rounded up so a timer never fires early, capped at [`MAX_DELAY`].
    pub fn delay_seconds(delay: std::time::Duration) -> i32 {
        let secs = delay.min(MAX_DELAY).as_secs_f64().ceil();
        secs as i32
    }
}

#[async_trait::async_trait]
impl domain::fitness::ports::NudgeTimer for DelayQueue {
    #[instrument(skip_all, fields(queue = %self.queue_url, launch_id = %check.launch_id))]
    async fn schedule(
        &self,
        check: &domain::fitness::NudgeCheck,
        delay: std::time::Duration,
    ) -> Result<(), PortError> {
        let envelope = check.outbound(chrono::Utc::now())?.event;
        let body = serde_json::to_string(&envelope)
            .map_err(|e| PortError::Permanent(format!("nudge check: {e}")))?;
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .delay_seconds(Self::delay_seconds(delay))
            .message_body(body)
            .send()
            .await
            .map_err(|e| sdk_error("SendMessage", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_delay_is_whole_seconds_rounded_up_within_what_sqs_allows() {
        assert_eq!(DelayQueue::delay_seconds(Duration::ZERO), 0);
        assert_eq!(DelayQueue::delay_seconds(Duration::from_millis(1)), 1);
        assert_eq!(DelayQueue::delay_seconds(Duration::from_millis(15_000)), 15);
        assert_eq!(DelayQueue::delay_seconds(Duration::from_millis(15_001)), 16);
        assert_eq!(DelayQueue::delay_seconds(Duration::from_secs(3_600)), 900);
    }
}
