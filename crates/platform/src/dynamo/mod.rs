//! DynamoDB adapters. Items are the domain types marshalled with `serde_dynamo`; every write
//! that must not happen twice is conditional.

mod markers;
mod outbox;
mod rejections;

pub use markers::ProcessedMarkers;
pub use outbox::DynamoOutbox;
pub use rejections::{Rejection, RejectionLog};

/// The flows' stores, each a file under `stores/` (found there: a flow adds its file and
/// nothing else), reached as `platform::dynamo::<name>::…`.
mod stores {
    automod::dir!(pub "src/dynamo/stores");
}
pub use stores::*;

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

/// The item of `table` with the key attributes `key` (strongly consistent), `None` when absent.
pub(crate) async fn consistent_get_item(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &[(&str, &str)],
) -> Result<Option<Item>, PortError> {
    let mut get = client.get_item().table_name(table).consistent_read(true);
    for (name, value) in key {
        get = get.key(*name, s(*value));
    }
    Ok(get
        .send()
        .await
        .map_err(|e| crate::aws::sdk_error("GetItem", e))?
        .item)
}

/// The item of `table` with the key attributes `key` as `T` (strongly consistent), `None` when
/// absent.
pub(crate) async fn consistent_get<T: serde::de::DeserializeOwned>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
    key: &[(&str, &str)],
) -> Result<Option<T>, PortError> {
    consistent_get_item(client, table, key)
        .await?
        .map(|i| serde_dynamo::from_item(i).map_err(|e| data_error(table, e)))
        .transpose()
}

/// Sends a conditional `PutItem`: `true` when it wrote, `false` when its condition did not hold.
pub(crate) async fn put_if(
    request: aws_sdk_dynamodb::operation::put_item::builders::PutItemFluentBuilder,
) -> Result<bool, PortError> {
    match request.send().await {
        Ok(_) => Ok(true),
        Err(aws_sdk_dynamodb::error::SdkError::ServiceError(e))
            if e.err().is_conditional_check_failed_exception() =>
        {
            Ok(false)
        }
        Err(e) => Err(crate::aws::sdk_error("PutItem", e)),
    }
}

/// Sends a conditional `UpdateItem`: `true` when it wrote, `false` when its condition did not
/// hold.
pub(crate) async fn update_if(
    request: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
) -> Result<bool, PortError> {
    match request.send().await {
        Ok(_) => Ok(true),
        Err(aws_sdk_dynamodb::error::SdkError::ServiceError(e))
            if e.err().is_conditional_check_failed_exception() =>
        {
            Ok(false)
        }
        Err(e) => Err(crate::aws::sdk_error("UpdateItem", e)),
    }
}

/// How long an applied-event marker is kept; far longer than any redelivery window.
const MARKER_TTL_DAYS: i64 = 30;

/// The marker item `key` in `table`, conditioned on its absence: in the transaction that applies
/// an event, so that the transaction fails at this item when the event was applied before.
pub(crate) fn marker_put(
    table: &str,
    key: String,
) -> Result<aws_sdk_dynamodb::types::Put, PortError> {
    aws_sdk_dynamodb::types::Put::builder()
        .table_name(table)
        .item("key", s(key))
        .item("expires_at", ttl_in_days(MARKER_TTL_DAYS))
        .condition_expression("attribute_not_exists(#k)")
        .expression_attribute_names("#k", "key")
        .build()
        .map_err(|e| crate::aws::data_error("Put", e))
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

/// How often a transaction cancelled only by conflicts with other transactions is tried.
pub const TRANSACTION_ATTEMPTS: u32 = 4;
/// The first pause before trying a conflicted transaction again; it doubles with each attempt.
const CONFLICT_BACKOFF: std::time::Duration = std::time::Duration::from_millis(10);

/// Writes `items` all or nothing.
///
/// DynamoDB cancels a transaction that touches an item another transaction is writing
/// (`TransactionConflict`). Such a cancellation says nothing about this transaction's own
/// conditions, and the other writer is done within milliseconds, so it is tried again here, after
/// a pause with full jitter (so that the losers of one conflict do not collide again), up to
/// [`TRANSACTION_ATTEMPTS`] times. The SDK's own retries cover throttling and 5xx. What is still
/// cancelled for any other reason than a failed condition is a retryable error.
pub(crate) async fn transact(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> Result<Transaction, domain::PortError> {
    let mut attempt = 1;
    loop {
        match transact_once(client, items.clone()).await {
            Attempt::Conflict(_) if attempt < TRANSACTION_ATTEMPTS => {
                let ceiling = CONFLICT_BACKOFF * 2_u32.pow(attempt - 1);
                let pause = ceiling.mul_f64(fastrand::f64());
                tracing::debug!(
                    attempt,
                    pause_ms = pause.as_millis() as u64,
                    "transaction conflict; trying again"
                );
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            Attempt::Conflict(message) => {
                return Err(domain::PortError::Retryable(format!(
                    "TransactWriteItems cancelled by conflicts {attempt} times: {message}"
                )));
            }
            Attempt::Done(result) => return result,
        }
    }
}

enum Attempt {
    Conflict(String),
    Done(Result<Transaction, domain::PortError>),
}

async fn transact_once(
    client: &aws_sdk_dynamodb::Client,
    items: Vec<aws_sdk_dynamodb::types::TransactWriteItem>,
) -> Attempt {
    use aws_sdk_dynamodb::error::SdkError;
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    match client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => Attempt::Done(Ok(Transaction::Committed)),
        Err(SdkError::ServiceError(e)) => match e.err() {
            TransactWriteItemsError::TransactionCanceledException(c) => {
                let codes: Vec<&str> = c
                    .cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("None"))
                    .collect();
                let failed: Vec<usize> = codes
                    .iter()
                    .enumerate()
                    .filter(|(_, code)| **code == "ConditionalCheckFailed")
                    .map(|(i, _)| i)
                    .collect();
                if !failed.is_empty() {
                    Attempt::Done(Ok(Transaction::ConditionsFailed(failed)))
                } else if codes.contains(&"TransactionConflict") {
                    Attempt::Conflict(c.to_string())
                } else {
                    Attempt::Done(Err(domain::PortError::Retryable(format!(
                        "TransactWriteItems cancelled: {c}"
                    ))))
                }
            }
            _ => Attempt::Done(Err(crate::aws::sdk_error(
                "TransactWriteItems",
                SdkError::ServiceError(e),
            ))),
        },
        Err(e) => Attempt::Done(Err(crate::aws::sdk_error("TransactWriteItems", e))),
    }
}
