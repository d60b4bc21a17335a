use super::invoker::Invoker;
use crate::Result;
use crate::provision::REGION;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, MessageSystemAttributeName};
use platform::sdk_error;
use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use tracing::{debug, info, warn};

/// A queue mapped to a function with `ReportBatchItemFailures`.
pub struct SqsSource {
    client: Client,
    queue_url: String,
    queue_arn: String,
    function: String,
    batch_size: i32,
    wait_secs: i32,
    /// Held while a receive is outstanding: the mapping's pollers receive one at a time and
    /// invoke concurrently. moto hands several concurrent long polls messages of one FIFO group
    /// at once (SQS never does: a group with a message in flight gives out nothing more);
    /// one receive at a time restores SQS's rule.
    receiving: tokio::sync::Mutex<()>,
    /// Batches received and not yet settled. While there are any, receives do not long-poll
    /// unless `wakes_on_release`: moto ends a long poll early for a new message but not for a
    /// group set free by a delete, and a poll waiting on the lock would hold every other poller
    /// back.
    holding: AtomicUsize,
    /// Whether the backend ends a long poll as soon as a delete sets a FIFO group free (SQS and
    /// fauxqs do, moto does not). Then pollers always long-poll, rather than short-polling every
    /// [`SHORT_POLL_PAUSE`] while batches are held, which cost the stack's CPU under load.
    wakes_on_release: bool,
}

/// Counts a received batch until it is settled, however `poll_once` ends.
struct Holding<'a>(&'a AtomicUsize);

impl Drop for Holding<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// The pause before the next short poll of a queue that had nothing to give.
const SHORT_POLL_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PollStats {
    pub received: usize,
    pub failed: usize,
}

impl SqsSource {
    pub fn new(
        client: Client,
        queue_url: &str,
        queue_arn: &str,
        function: &str,
        batch_size: i32,
    ) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            queue_arn: queue_arn.into(),
            function: function.into(),
            batch_size: batch_size.clamp(1, 10),
            wait_secs: 1,
            receiving: tokio::sync::Mutex::new(()),
            holding: AtomicUsize::new(0),
            wakes_on_release: false,
        }
    }

    /// Long-polls also while batches are held: for a backend whose long poll ends when a delete
    /// sets a group free.
    pub fn waking_on_release(mut self, wakes: bool) -> Self {
        self.wakes_on_release = wakes;
        self
    }

    /// Long-poll wait per receive (default 1 s); tests that drive the bridge by hand use 0.
    pub fn with_wait_secs(mut self, secs: i32) -> Self {
        self.wait_secs = secs.clamp(0, 20);
        self
    }

    pub fn function(&self) -> &str {
        &self.function
    }

    pub fn queue_url(&self) -> &str {
        &self.queue_url
    }

    pub fn batch_size(&self) -> i32 {
        self.batch_size
    }

    /// One receive → invoke → delete cycle. Messages the function reports as failed (or all of
    /// them, if the invocation fails) are left alone: they reappear after the visibility timeout
    /// and move to the dead-letter queue after `maxReceiveCount` receives.
    pub async fn poll_once(&self, invoker: &impl Invoker) -> Result<PollStats> {
        let receiving = self.receiving.lock().await;
        let wait = if !self.wakes_on_release && self.holding.load(Ordering::SeqCst) > 0 {
            0
        } else {
            self.wait_secs
        };
        let out = self
            .client
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size)
            .wait_time_seconds(wait)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| sdk_error("ReceiveMessage", e))?;
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            drop(receiving);
            if wait == 0 && self.wait_secs > 0 {
                tokio::time::sleep(SHORT_POLL_PAUSE).await;
            }
            return Ok(PollStats::default());
        }
        self.holding.fetch_add(1, Ordering::SeqCst);
        let _holding = Holding(&self.holding);
        drop(receiving);
        let mut event = SqsEvent::default();
        event.records = messages.iter().map(|m| self.lambda_record(m)).collect();
        let payload = serde_json::to_value(&event)?;

        let failed: HashSet<String> = if crate::chaos::chaos().duplicate() {
            // The same batch twice at once: a message fails if either delivery reports it.
            let (a, b) = tokio::join!(
                self.failed_of(invoker, payload.clone(), &messages),
                self.failed_of(invoker, payload, &messages)
            );
            a.union(&b).cloned().collect()
        } else {
            self.failed_of(invoker, payload, &messages).await
        };
        let done: Vec<_> = messages
            .iter()
            .enumerate()
            .filter(|(_, m)| m.message_id.as_ref().is_some_and(|id| !failed.contains(id)))
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .set_receipt_handle(m.receipt_handle.clone())
                    .build()
                    .ok()
            })
            .collect();
        if !done.is_empty() {
            self.client
                .delete_message_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(done))
                .send()
                .await
                .map_err(|e| sdk_error("DeleteMessageBatch", e))?;
        }
        self.release_followers(&messages, &failed).await?;
        let stats = PollStats {
            received: messages.len(),
            failed: failed.len(),
        };
        if stats.failed > 0 {
            info!(function = %self.function, received = stats.received, failed = stats.failed, "batch partly failed");
        } else {
            debug!(function = %self.function, received = stats.received, "batch done");
        }
        Ok(stats)
    }

    /// The messages one delivery of `payload` leaves failed (all of them when it fails).
    async fn failed_of(
        &self,
        invoker: &impl Invoker,
        payload: serde_json::Value,
        messages: &[aws_sdk_sqs::types::Message],
    ) -> HashSet<String> {
        match invoker.invoke(&self.function, payload).await {
            Ok(response) => match serde_json::from_value::<SqsBatchResponse>(response) {
                Ok(r) => r
                    .batch_item_failures
                    .into_iter()
                    .map(|f| f.item_identifier)
                    .collect(),
                Err(e) => {
                    warn!(function = %self.function, error = %e, "unreadable batch response; retrying the batch");
                    messages
                        .iter()
                        .filter_map(|m| m.message_id.clone())
                        .collect()
                }
            },
            Err(e) => {
                warn!(error = %e, "invocation failed; the whole batch will be retried");
                messages
                    .iter()
                    .filter_map(|m| m.message_id.clone())
                    .collect()
            }
        }
    }

    /// Leaves only the first failed message of each message group in flight and makes the
    /// group's later failed messages visible at once. SQS keeps them behind the in-flight one
    /// either way; moto, when several messages of a group become visible together, can hand
    /// out a later one first. With one message in flight per group the order holds on both.
    async fn release_followers(
        &self,
        messages: &[aws_sdk_sqs::types::Message],
        failed: &HashSet<String>,
    ) -> Result<()> {
        let mut groups_seen = HashSet::new();
        for m in messages {
            let Some(id) = &m.message_id else { continue };
            if !failed.contains(id) {
                continue;
            }
            let group = m
                .attributes()
                .and_then(|a| {
                    a.get(&aws_sdk_sqs::types::MessageSystemAttributeName::MessageGroupId)
                })
                .cloned()
                .unwrap_or_default();
            if groups_seen.insert(group) {
                continue;
            }
            if let Some(handle) = &m.receipt_handle {
                self.client
                    .change_message_visibility()
                    .queue_url(&self.queue_url)
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .send()
                    .await
                    .map_err(|e| sdk_error("ChangeMessageVisibility", e))?;
            }
        }
        Ok(())
    }

    fn lambda_record(&self, m: &aws_sdk_sqs::types::Message) -> SqsMessage {
        let mut record = SqsMessage::default();
        record.message_id = m.message_id.clone();
        record.receipt_handle = m.receipt_handle.clone();
        record.body = m.body.clone();
        record.md5_of_body = m.md5_of_body.clone();
        record.md5_of_message_attributes = m.md5_of_message_attributes.clone();
        record.attributes = m
            .attributes
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| (k.as_str().to_owned(), v))
            .collect();
        record.message_attributes = m
            .message_attributes
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|(k, v)| {
                let mut a = SqsMessageAttribute::default();
                a.string_value = v.string_value;
                a.data_type = Some(v.data_type);
                (k, a)
            })
            .collect();
        record.event_source = Some("aws:sqs".into());
        record.event_source_arn = Some(self.queue_arn.clone());
        record.aws_region = Some(REGION.into());
        record
    }
}
