use crate::aws::data_error;
use crate::dynamo::{Item, ttl_in_days};
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use domain::PortError;
use domain::events::Outbound;
use domain::time::format_time;
use serde::{Deserialize, Serialize};

/// Outbox rows expire a week after they were written: long after they were published, long
/// enough to audit.
pub const OUTBOX_TTL_DAYS: i64 = 7;

/// One outbox row. The partition key is the aggregate, so the stream delivers the rows of one
/// aggregate in write order; `event_id` makes the row (and the published message) unique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxRecord {
    pub aggregate_id: String,
    pub event_id: String,
    /// The topic or queue of topology.json the event type publishes to.
    pub destination: String,
    pub message_group_id: String,
    pub event_type: String,
    /// The message exactly as it will be published.
    pub body: String,
    pub created_at: String,
}

impl OutboxRecord {
    pub fn for_event(outbound: &Outbound) -> Result<Self, PortError> {
        let event = &outbound.event;
        Ok(Self {
            aggregate_id: event.aggregate_id.clone(),
            event_id: event.event_id.to_string(),
            destination: outbound.channel.to_owned(),
            message_group_id: event.aggregate_id.clone(),
            event_type: event.event_type.clone(),
            body: serde_json::to_string(event).map_err(|e| data_error("domain event", e))?,
            created_at: format_time(&event.occurred_at),
        })
    }

    /// The row as one item of the transaction that makes the state change. Conditional: an
    /// event id is written at most once.
    pub fn transact_put(&self, table: &str) -> Result<TransactWriteItem, PortError> {
        let mut item: Item =
            serde_dynamo::to_item(self).map_err(|e| data_error("outbox record", e))?;
        item.insert("expires_at".into(), ttl_in_days(OUTBOX_TTL_DAYS));
        let put = Put::builder()
            .table_name(table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(event_id)")
            .build()
            .map_err(|e| data_error("Put", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }
}
