//! DynamoDB adapters. Items are the domain types marshalled with `serde_dynamo`; every write
//! that must not happen twice is conditional.

mod formula_store;
mod markers;
mod rejections;
mod rental_store;
mod stats_store;
mod task_store;

pub use formula_store::DynamoFormulaStore;
pub use markers::ProcessedMarkers;
pub use rejections::{Rejection, RejectionLog};
pub use rental_store::{DynamoRentalStore, RENTALS_BY_USER_INDEX, RentalTables};
pub use stats_store::{DynamoStatsProjection, DynamoStatsView};
pub use task_store::{DynamoTaskStore, SEQUENCE_KEY};

use crate::aws::data_error;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::PortError;
use serde::Serialize;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

/// A value as its item attribute: the one codec (serde) that also writes whole items, so a
/// status in a condition is spelled exactly as the stored item spells it.
pub(crate) fn attr<T: Serialize + ?Sized>(value: &T) -> Result<AttributeValue, PortError> {
    serde_dynamo::to_attribute_value(value).map_err(|e| data_error("attribute", e))
}

/// One field of a value as its item attribute (an internally tagged enum's tag, say).
pub(crate) fn field_attr<T: Serialize + ?Sized>(
    value: &T,
    field: &str,
) -> Result<AttributeValue, PortError> {
    let item: Item = serde_dynamo::to_item(value).map_err(|e| data_error("item", e))?;
    item.get(field)
        .cloned()
        .ok_or_else(|| data_error("item", format!("no field {field}")))
}

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// Seconds since the epoch, `days` from now: the value DynamoDB's TTL reads.
pub(crate) fn ttl_in_days(days: i64) -> AttributeValue {
    AttributeValue::N(
        (chrono::Utc::now() + chrono::Duration::days(days))
            .timestamp()
            .to_string(),
    )
}

pub(crate) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

/// Where a store that emits events writes them. A consumer's copy of a store only processes and
/// has none: a submission through it is a wiring error, refused rather than written nowhere.
#[derive(Debug, Clone)]
pub(crate) enum OutboxTable {
    Writes(String),
    None,
}

impl OutboxTable {
    pub(crate) fn table(&self) -> Result<&str, PortError> {
        match self {
            Self::Writes(table) => Ok(table),
            Self::None => Err(PortError::Permanent(
                "this store takes no submissions: it was built without an outbox".into(),
            )),
        }
    }
}

/// How a transaction ended when it did not fail outright.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Transaction {
    Committed,
    /// Cancelled because the conditions of these items (by position) did not hold; nothing
    /// was written.
    ConditionsFailed(Vec<usize>),
}

impl Transaction {
    pub(crate) fn failed_at(&self, index: usize) -> bool {
        matches!(self, Self::ConditionsFailed(items) if items.contains(&index))
    }
}

/// Writes `items` all or nothing. A cancellation for any other reason than a failed condition
/// (a conflicting transaction, throttling) is retryable.
pub(crate) async fn transact(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> Result<Transaction, domain::PortError> {
    use aws_sdk_dynamodb::error::SdkError;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Ok(Transaction::Committed),
        Err(SdkError::ServiceError(e)) => match e.err() {
            TransactWriteItemsError::TransactionCanceledException(c) => {
                let failed: Vec<usize> = c
                    .cancellation_reasons()
                    .iter()
                    .enumerate()
                    .filter(|(_, r)| r.code() == Some("ConditionalCheckFailed"))
                    .map(|(i, _)| i)
                    .collect();
                if failed.is_empty() {
                    Err(domain::PortError::Retryable(format!(
                        "TransactWriteItems cancelled: {c}"
                    )))
                } else {
                    Ok(Transaction::ConditionsFailed(failed))
                }
            }
            _ => Err(crate::aws::sdk_error(
                "TransactWriteItems",
                SdkError::ServiceError(e),
            )),
        },
        Err(e) => Err(crate::aws::sdk_error("TransactWriteItems", e)),
    }
}
