use super::{s, ttl_in_days};
use crate::aws::sdk_error;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use domain::PortError;
use domain::notifications::EffectLog;
use tracing::instrument;

/// "This effect already happened" markers for consumers whose effect is outside DynamoDB (an
/// HTTP call), so it cannot share a transaction with the marker. The effect runs first and the
/// marker is written after; a crash in between repeats the effect once, which the downstream
/// idempotency key absorbs.
#[derive(Clone)]
pub struct ProcessedMarkers {
    client: Client,
    table: String,
    ttl_days: i64,
}

impl ProcessedMarkers {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            ttl_days: 30,
        }
    }
}

#[async_trait]
impl EffectLog for ProcessedMarkers {
    #[instrument(skip(self))]
    async fn is_done(&self, key: &str) -> Result<bool, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("key", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        Ok(out.item.is_some())
    }

    #[instrument(skip(self))]
    async fn mark_done(&self, key: &str) -> Result<(), PortError> {
        self.client
            .put_item()
            .table_name(&self.table)
            .item("key", s(key))
            .item("expires_at", ttl_in_days(self.ttl_days))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", e))?;
        Ok(())
    }
}
