//! Sending to SQS: FIFO queues in order ([`FifoSender`]) and a standard queue as a durable
//! timer ([`DelayQueue`]). Each flow's queue ports are implemented on them in a file of its own
//! under `queues/` (found there, as the stores are).

use crate::aws::sdk_error;
use domain::PortError;
use std::collections::{HashMap, HashSet};
use tracing::instrument;

/// `json` with every character SQS does not carry (it takes `#x9 | #xA | #xD | #x20` to
/// `#xD7FF` and `#xE000` to `#xFFFD`, AWS also `#x10000` up; an emulator may not) written as its
/// JSON escape: the same JSON value, in characters every queue takes. A JSON text holds such
/// characters only inside its strings, where an escape means the same.
pub fn wire_safe(json: &str) -> std::borrow::Cow<'_, str> {
    let carried =
        |c: char| matches!(c, '\t' | '\n' | '\r' | ' '..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}');
    if json.chars().all(carried) {
        return std::borrow::Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if carried(c) {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    std::borrow::Cow::Owned(out)
}

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
            .message_body(wire_safe(body))
            .send()
            .await
            .map_err(|e| sdk_error("SendMessage", e))?;
        Ok(())
    }
}

/// SQS takes at most this many messages in one `SendMessageBatch`.
const SEND_BATCH: usize = 10;

/// One message to send in order: its group, its de-duplication id and its body (or why it has
/// none).
pub struct Outgoing {
    pub group: String,
    pub dedup_id: String,
    pub body: Result<String, PortError>,
}

impl FifoSender {
    /// Sends `messages` in order, in calls of up to ten with at most one per message group: SQS
    /// answers each entry on its own, so a group's second message in one call could be queued
    /// while the first failed. Once a message of a group fails, that group's later messages are
    /// not sent (they would overtake it) and fail with the same error. Each message's outcome,
    /// in order.
    #[instrument(skip_all, fields(queue = %self.queue_url, messages = messages.len()))]
    pub async fn send_in_order(&self, messages: &[Outgoing]) -> Vec<Result<(), PortError>> {
        let mut results: Vec<Option<Result<(), PortError>>> = vec![None; messages.len()];
        let groups: Vec<String> = messages.iter().map(|m| m.group.clone()).collect();
        let mut failed: HashMap<&str, PortError> = HashMap::new();
        for chunk in batches(&groups) {
            let mut entries = Vec::new();
            for i in chunk {
                let group = groups[i].as_str();
                let entry = match failed.get(group) {
                    Some(err) => Err(err.clone()),
                    None => batch_entry(i, &messages[i]),
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

/// Message `i` as an entry of a batch, its index as the entry's id.
fn batch_entry(
    i: usize,
    message: &Outgoing,
) -> Result<aws_sdk_sqs::types::SendMessageBatchRequestEntry, PortError> {
    let body = message.body.clone()?;
    aws_sdk_sqs::types::SendMessageBatchRequestEntry::builder()
        .id(i.to_string())
        .message_group_id(&message.group)
        .message_deduplication_id(&message.dedup_id)
        .message_body(wire_safe(&body))
        .build()
        .map_err(|err| PortError::Permanent(format!("batch entry: {err}")))
}

/// Messages `0..groups.len()` in order, cut into batches of at most [`SEND_BATCH`] with at most
/// one message per message group.
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

    /// Sends `body`, to be delivered after `delay` ([`Self::delay_seconds`]).
    #[instrument(skip(self, body), fields(queue = %self.queue_url))]
    pub async fn send_after(
        &self,
        body: &str,
        delay: std::time::Duration,
    ) -> Result<(), PortError> {
        self.client
            .send_message()
            .queue_url(&self.queue_url)
            .delay_seconds(Self::delay_seconds(delay))
            .message_body(wire_safe(body))
            .send()
            .await
            .map_err(|e| sdk_error("SendMessage", e))?;
        Ok(())
    }

    /// Whole seconds, rounded up so a timer never fires early, capped at [`MAX_DELAY`].
    pub fn delay_seconds(delay: std::time::Duration) -> i32 {
        let secs = delay.min(MAX_DELAY).as_secs_f64().ceil();
        secs as i32
    }
}

/// Each flow's queue ports on [`FifoSender`] and [`DelayQueue`]: a file per flow under
/// `queues/`.
mod queues {
    automod::dir!("src/sqs/queues");
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn what_sqs_does_not_carry_is_escaped_and_reads_back_the_same() {
        let value = serde_json::json!({"device": "a\u{FFFE}b😀c\u{FFFF}", "plain": "é ok"});
        let json = serde_json::to_string(&value).unwrap();
        let safe = wire_safe(&json);
        assert!(!safe.contains('\u{FFFE}') && !safe.contains('😀'), "{safe}");
        assert!(
            safe.contains("\\ufffe") && safe.contains("\\ud83d\\ude00"),
            "{safe}"
        );
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&safe).unwrap(),
            value
        );
        assert!(matches!(
            wire_safe("{\"a\":\"é\"}"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

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
