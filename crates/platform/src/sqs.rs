//! Sending to FIFO queues.

use crate::aws::sdk_error;
use domain::PortError;
use std::collections::{HashMap, HashSet};
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
        let mut failed: HashMap<&str, PortError> = HashMap::new();
        for chunk in batches(&groups) {
            let mut entries = Vec::new();
            for i in chunk {
                let group = groups[i].as_str();
                let entry = match failed.get(group) {
                    Some(err) => Err(err.clone()),
                    None => batch_entry(i, &events[i], group),
                };
                match entry {
                    Ok(entry) => entries.push(entry),
                    Err(err) => {
                        failed.insert(group, err.clone());
                        results[i] = Some(Err(err));
                    }
                }
            }
            for (i, outcome) in self.send_batch(entries).await {
                if let Err(err) = &outcome {
                    failed.insert(groups[i].as_str(), err.clone());
                }
                results[i] = Some(outcome);
            }
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(PortError::Retryable("not answered by SQS".into()))))
            .collect()
    }
}

/// Events `0..groups.len()` in order, cut into batches of at most [`SEND_BATCH`] with at most
/// one event per message group.
fn batches(groups: &[String]) -> Vec<Vec<usize>> {
    let mut batches = Vec::new();
    let mut next = 0;
    while next < groups.len() {
        let mut batch = Vec::new();
        let mut in_batch = HashSet::new();
        while next < groups.len()
            && batch.len() < SEND_BATCH
            && in_batch.insert(groups[next].as_str())
        {
            batch.push(next);
            next += 1;
        }
        batches.push(batch);
    }
    batches
}

/// Event `i` as an entry of a batch, its index as the entry's id.
fn batch_entry(
    i: usize,
    event: &domain::fitness::AppEvent,
    group: &str,
) -> Result<aws_sdk_sqs::types::SendMessageBatchRequestEntry, PortError> {
    let body = app_event_body(event)?;
    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
        .id(i.to_string())
        .message_group_id(group)
        .message_deduplication_id(event.dedup_id())
        .message_body(body)
        .build()
        .map_err(|err| PortError::Permanent(format!("batch entry: {err}")))
}

impl FifoSender {
    /// Sends `entries` in one call: each entry's index and outcome. A refused entry is
    /// permanent when SQS blames the sender, retryable otherwise; a failed call fails them all.
    async fn send_batch(
        &self,
        entries: Vec<aws_sdk_sqs::types::SendMessageBatchRequestEntry>,
    ) -> Vec<(usize, Result<(), PortError>)> {
        if entries.is_empty() {
            return Vec::new();
        }
        let sent: Vec<usize> = entries.iter().filter_map(|e| e.id().parse().ok()).collect();
        let out = match self
            .client
            .send_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(entries))
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) => {
                let err = sdk_error("SendMessageBatch", e);
                return sent.into_iter().map(|i| (i, Err(err.clone()))).collect();
            }
        };
        let mut outcomes: Vec<(usize, Result<(), PortError>)> = out
            .successful()
            .iter()
            .filter_map(|ok| ok.id().parse().ok().map(|i| (i, Ok(()))))
            .collect();
        for f in out.failed() {
            let Ok(i) = f.id().parse::<usize>() else {
                continue;
            };
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
            outcomes.push((i, Err(err)));
        }
        outcomes
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

    #[test]
    fn batches_keep_the_order_hold_ten_at_most_and_one_event_per_group() {
        let groups: Vec<String> = ["a", "b", "a", "c"]
            .iter()
            .map(|g| (*g).to_owned())
            .collect();
        assert_eq!(batches(&groups), vec![vec![0, 1], vec![2, 3]]);
        let many: Vec<String> = (0..23).map(|i| format!("u{i}")).collect();
        let sizes: Vec<usize> = batches(&many).iter().map(Vec::len).collect();
        assert_eq!(sizes, vec![10, 10, 3]);
        assert!(batches(&[]).is_empty());
    }
}
