//! The return bins' scans queue, on a FIFO queue grouped by user.

use crate::sqs::FifoSender;
use domain::PortError;

#[async_trait::async_trait]
impl domain::rentals::ports::ReturnQueue for FifoSender {
    async fn enqueue(&self, scan: &domain::rentals::ReturnScan) -> Result<(), PortError> {
        let body = serde_json::to_string(&scan.to_raw())
            .map_err(|e| PortError::Permanent(format!("return scan: {e}")))?;
        self.send(&scan.message_group(), scan.return_id().as_str(), &body)
            .await
    }
}
