//! Operating a deployed environment (or the local stack): what sits in each dead-letter queue
//! (`ops dlq`, `make dlq`) and moving one queue's dead letters back to its source
//! (`ops redrive QUEUE`, `make redrive`).
//!
//! Queues are found by name: `<prefix><queue>[-dlq][.fifo]`, the names both the local stack
//! (`local-`) and the CDK stacks (`<stackPrefix>-`, e.g. `Rentals-dev-`) give them, so the same
//! commands work locally and, with credentials, against an AWS environment.

use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use platform::sdk_error;
use platform::topology::{QueueSpec, Topology};
use std::time::Duration;

/// What an operator command could not do, in words that say what to check.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct OpsError(pub String);

impl From<domain::PortError> for OpsError {
    fn from(e: domain::PortError) -> Self {
        Self(e.to_string())
    }
}

pub type Result<T, E = OpsError> = std::result::Result<T, E>;

/// How many dead letters one receive looks at for the oldest and the sample.
const SAMPLED: i32 = 10;

/// The name `spec`'s queue (or its dead-letter queue) has under `prefix`.
pub fn queue_name(prefix: &str, spec: &QueueSpec, dlq: bool) -> String {
    let suffix = if dlq { "-dlq" } else { "" };
    spec.queue_name(&format!("{prefix}{}{suffix}", spec.logical))
}

async fn url(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String> {
    sqs.get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| OpsError(format!("queue {name}: {}", sdk_error("GetQueueUrl", e))))?
        .queue_url
        .ok_or_else(|| OpsError(format!("queue {name} has no URL")))
}

/// What one dead-letter queue holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetters {
    pub queue: String,
    /// Visible and in flight.
    pub count: u64,
    /// The oldest first send among the messages sampled, ms since the epoch.
    pub oldest_sent_ms: Option<u64>,
    pub sample: Option<String>,
}

/// Every queue's dead letters, in topology order.
pub async fn report(
    sqs: &aws_sdk_sqs::Client,
    topology: &Topology,
    prefix: &str,
) -> Result<Vec<DeadLetters>> {
    let mut out = Vec::new();
    for spec in &topology.queues {
        let url = url(sqs, &queue_name(prefix, spec, true)).await?;
        let attrs = sqs
            .get_queue_attributes()
            .queue_url(&url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| sdk_error("GetQueueAttributes", e))?
            .attributes
            .unwrap_or_default();
        let n = |k: QueueAttributeName| -> u64 {
            attrs.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0)
        };
        let count = n(QueueAttributeName::ApproximateNumberOfMessages)
            + n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible);
        let (mut oldest_sent_ms, mut sample) = (None, None);
        if count > 0 {
            // Looked at, not taken: visible again at once.
            let seen = sqs
                .receive_message()
                .queue_url(&url)
                .max_number_of_messages(SAMPLED)
                .visibility_timeout(0)
                .message_system_attribute_names(MessageSystemAttributeName::SentTimestamp)
                .send()
                .await
                .map_err(|e| sdk_error("ReceiveMessage", e))?;
            for m in seen.messages() {
                let sent = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
                    .and_then(|v| v.parse::<u64>().ok());
                if sent.is_some() && (oldest_sent_ms.is_none() || sent < oldest_sent_ms) {
                    oldest_sent_ms = sent;
                    sample = m.body().map(str::to_owned);
                }
                if sample.is_none() {
                    sample = m.body().map(str::to_owned);
                }
            }
        }
        out.push(DeadLetters {
            queue: spec.logical.clone(),
            count,
            oldest_sent_ms,
            sample,
        });
    }
    Ok(out)
}

/// Moves every message of `queue`'s dead-letter queue back to `queue`, keeping a FIFO
/// message's group and de-duplication id (so its order within the group and its
/// de-duplication hold): each is deleted from the dead-letter queue only once it is sent.
/// Answers how many were moved.
pub async fn redrive(
    sqs: &aws_sdk_sqs::Client,
    topology: &Topology,
    prefix: &str,
    queue: &str,
) -> Result<usize> {
    let spec = topology.queue(queue).map_err(|e| OpsError(e.to_string()))?;
    let dlq = url(sqs, &queue_name(prefix, spec, true)).await?;
    let source = url(sqs, &queue_name(prefix, spec, false)).await?;
    let mut moved = 0;
    loop {
        let batch = sqs
            .receive_message()
            .queue_url(&dlq)
            .max_number_of_messages(10)
            // Long enough to send and delete each; a message not moved comes back.
            .visibility_timeout(60)
            .wait_time_seconds(0)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| sdk_error("ReceiveMessage", e))?;
        if batch.messages().is_empty() {
            return Ok(moved);
        }
        for m in batch.messages() {
            let attr =
                |k: MessageSystemAttributeName| m.attributes().and_then(|a| a.get(&k)).cloned();
            let mut send = sqs
                .send_message()
                .queue_url(&source)
                .message_body(m.body().unwrap_or_default())
                .set_message_attributes(m.message_attributes().cloned());
            if spec.fifo {
                let group = attr(MessageSystemAttributeName::MessageGroupId).ok_or_else(|| {
                    OpsError(format!("a dead letter of {queue} has no message group"))
                })?;
                send = send
                    .message_group_id(group)
                    .set_message_deduplication_id(attr(
                        MessageSystemAttributeName::MessageDeduplicationId,
                    ));
            }
            send.send().await.map_err(|e| sdk_error("SendMessage", e))?;
            if let Some(handle) = m.receipt_handle() {
                sqs.delete_message()
                    .queue_url(&dlq)
                    .receipt_handle(handle)
                    .send()
                    .await
                    .map_err(|e| sdk_error("DeleteMessage", e))?;
            }
            moved += 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
