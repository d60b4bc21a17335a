use super::Item;
use crate::aws::{data_error, sdk_error};
use aws_sdk_dynamodb::Client;
use domain::PortError;
use serde::{Deserialize, Serialize};
use tracing::instrument;

/// A message that can never be processed (malformed, unknown type), kept for review instead of
/// being retried forever or dropped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rejection {
    /// `<source>#<message id>`: one record per message, however often it is delivered.
    pub rejection_id: String,
    pub source: String,
    pub message_id: String,
    pub reason: String,
    pub body: String,
    pub rejected_at: String,
}

#[derive(Clone)]
pub struct RejectionLog {
    client: Client,
    table: String,
}

impl RejectionLog {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    #[instrument(skip(self, body), fields(table = %self.table))]
    pub async fn record(
        &self,
        source: &str,
        message_id: &str,
        reason: &str,
        body: &str,
    ) -> Result<(), PortError> {
        let rejection = Rejection {
            rejection_id: format!("{source}#{message_id}"),
            source: source.to_owned(),
            message_id: message_id.to_owned(),
            reason: reason.to_owned(),
            body: body.to_owned(),
            rejected_at: domain::time::format_time(&chrono::Utc::now()),
        };
        let item: Item =
            serde_dynamo::to_item(&rejection).map_err(|e| data_error("rejection", e))?;
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| sdk_error("PutItem", e))?;
        Ok(())
    }
}
