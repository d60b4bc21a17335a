use crate::dynamo::{Transaction, marker_put, n, s, transact};
use crate::aws::{data_error, sdk_error};
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{TransactWriteItem, Update};
use domain::PortError;
use domain::ids::{EventId, UserId};
use domain::rentals::ports::{StatsProjection, StatsView};
use domain::rentals::stats::{StatsDelta, UserStats};
use domain::time::format_time;
use tracing::instrument;

/// User stats in DynamoDB. Each event is applied in one transaction with a marker item keyed by
/// the event id, so a redelivered event changes nothing.
#[derive(Clone)]
pub struct DynamoStatsProjection {
    client: Client,
    stats_table: String,
    markers_table: String,
}

impl DynamoStatsProjection {
    pub fn new(
        client: Client,
        stats_table: impl Into<String>,
        markers_table: impl Into<String>,
    ) -> Self {
        Self {
            client,
            stats_table: stats_table.into(),
            markers_table: markers_table.into(),
        }
    }
}

#[async_trait]
impl StatsProjection for DynamoStatsProjection {
    #[instrument(skip_all, fields(event_id = %event_id, user_id = %delta.user_id))]
    async fn apply(&self, event_id: &EventId, delta: &StatsDelta) -> Result<bool, PortError> {
        let marker = marker_put(&self.markers_table, format!("stats#{event_id}"))?;
        let update = Update::builder()
            .table_name(&self.stats_table)
            .key("user_id", s(delta.user_id.as_str()))
            .update_expression(
                // Events of one user arrive in order (one FIFO group per user), so the latest
                // applied return is the latest return.
                "ADD returns_count :r, on_time_returns :o, reward_points :p SET last_return_at = :t",
            )
            .expression_attribute_values(":r", n(delta.returns))
            .expression_attribute_values(":o", n(delta.on_time_returns))
            .expression_attribute_values(":p", n(delta.reward_points))
            .expression_attribute_values(":t", s(format_time(&delta.returned_at)))
            .build()
            .map_err(|e| data_error("Update", e))?;
        let items = vec![
            TransactWriteItem::builder().put(marker).build(),
            TransactWriteItem::builder().update(update).build(),
        ];
        // The marker is first: its condition failing means the event was applied already.
        Ok(transact(&self.client, items).await? == Transaction::Committed)
    }
}

/// Reads user stats.
#[derive(Clone)]
pub struct DynamoStatsView {
    client: Client,
    stats_table: String,
}

impl DynamoStatsView {
    pub fn new(client: Client, stats_table: impl Into<String>) -> Self {
        Self {
            client,
            stats_table: stats_table.into(),
        }
    }
}

#[async_trait]
impl StatsView for DynamoStatsView {
    #[instrument(skip_all, fields(user_id = %user))]
    async fn get(&self, user: &UserId) -> Result<Option<UserStats>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.stats_table)
            .key("user_id", s(user.as_str()))
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        out.item
            .map(|i| serde_dynamo::from_item(i).map_err(|e| data_error(&self.stats_table, e)))
            .transpose()
    }
}
