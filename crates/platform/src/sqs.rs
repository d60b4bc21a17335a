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
