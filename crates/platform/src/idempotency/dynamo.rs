use super::{
    Claim, DEFAULT_IN_PROGRESS_EXPIRY, DEFAULT_RECORD_TTL, IdempotencyStore, StoredResponse,
};
use crate::aws::{data_error, sdk_error};
use crate::dynamo::Item;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValuesOnConditionCheckFailure};
use domain::PortError;
use std::time::Duration;
use tracing::instrument;

const IN_PROGRESS: &str = "IN_PROGRESS";
const COMPLETED: &str = "COMPLETED";

/// Idempotency records in DynamoDB: `key` (partition key), `status`, `request_hash`,
/// `in_progress_expiry` (ms), `response` (JSON), `expires_at` (TTL, s).
#[derive(Clone)]
pub struct DynamoIdempotencyStore {
    client: Client,
    table: String,
    in_progress_expiry: Duration,
    record_ttl: Duration,
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn s(v: &str) -> AttributeValue {
    AttributeValue::S(v.to_owned())
}

impl DynamoIdempotencyStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            in_progress_expiry: DEFAULT_IN_PROGRESS_EXPIRY,
            record_ttl: DEFAULT_RECORD_TTL,
        }
    }

    pub fn with_in_progress_expiry(mut self, expiry: Duration) -> Self {
        self.in_progress_expiry = expiry;
        self
    }

    fn read(item: &Item, request_hash: &str) -> Result<Claim, PortError> {
        let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).map(String::as_str);
        match text("request_hash") {
            None => {
                return Err(data_error("idempotency record", "no request_hash"));
            }
            Some(stored) if stored != request_hash => return Ok(Claim::Mismatch),
            Some(_) => {}
        }
        match (text("status"), text("response")) {
            (Some(COMPLETED), Some(response)) => Ok(Claim::Completed(
                serde_json::from_str(response).map_err(|e| data_error("idempotency record", e))?,
            )),
            (Some(IN_PROGRESS), _) => Ok(Claim::InProgress),
            (status, _) => Err(data_error(
                "idempotency record",
                format!("status {status:?} without a stored response"),
            )),
        }
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for DynamoIdempotencyStore {
    // skip_all: the key is the client's secret as much as its id, and a span field would put
    // it on every log line inside the call.
    #[instrument(skip_all)]
    async fn claim(&self, key: &str, request_hash: &str, now_ms: i64) -> Result<Claim, PortError> {
        // This claim's own mark: when the SDK retries a write whose answer was lost, the retry
        // meets the claim the first attempt made, and must take it as its own, not as another
        // request in progress.
        let claim_id = format!("{:032x}", fastrand::u128(..));
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("key", s(key))
            .item("claim_id", s(&claim_id))
            .item("status", s(IN_PROGRESS))
            .item("request_hash", s(request_hash))
            .item("in_progress_expiry", n(now_ms + self.in_progress_expiry.as_millis() as i64))
            .item("expires_at", n((now_ms / 1000) + self.record_ttl.as_secs() as i64))
            // Free, or a claim whose holder crashed, or a record past its TTL not yet deleted.
            .condition_expression(
                "attribute_not_exists(#k) OR (#s = :in_progress AND in_progress_expiry < :now_ms) OR expires_at < :now_s",
            )
            .expression_attribute_names("#k", "key")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":now_ms", n(now_ms))
            .expression_attribute_values(":now_s", n(now_ms / 1000))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Acquired),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                let returned = match e.err() {
                    PutItemError::ConditionalCheckFailedException(c) => c.item().cloned(),
                    _ => None,
                };
                let existing = match returned {
                    Some(item) => item,
                    None => self
                        .client
                        .get_item()
                        .table_name(&self.table)
                        .key("key", s(key))
                        .consistent_read(true)
                        .send()
                        .await
                        .map_err(|e| sdk_error("GetItem", e))?
                        .item
                        // Released or expired between the two calls: claiming again will do.
                        .ok_or_else(|| {
                            PortError::Retryable("idempotency record changed while read".into())
                        })?,
                };
                let ours = existing
                    .get("status")
                    .and_then(|v| v.as_s().ok())
                    .map(String::as_str)
                    == Some(IN_PROGRESS)
                    && existing.get("claim_id").and_then(|v| v.as_s().ok()) == Some(&claim_id);
                if ours {
                    return Ok(Claim::Acquired);
                }
                Self::read(&existing, request_hash)
            }
            Err(e) => Err(sdk_error("PutItem", e)),
        }
    }

    #[instrument(skip_all)]
    async fn complete(
        &self,
        key: &str,
        request_hash: &str,
        response: &StoredResponse,
        now_ms: i64,
    ) -> Result<(), PortError> {
        let json = serde_json::to_string(response).map_err(|e| data_error("stored response", e))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("key", s(key))
            .update_expression("SET #s = :completed, #r = :response, expires_at = :ttl")
            // Only our own claim: one that expired and was taken by another request is not ours
            // to complete.
            .condition_expression("#s = :in_progress AND request_hash = :hash")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#r", "response")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .expression_attribute_values(":hash", s(request_hash))
            .expression_attribute_values(":completed", s(COMPLETED))
            .expression_attribute_values(":response", s(&json))
            .expression_attribute_values(
                ":ttl",
                n((now_ms / 1000) + self.record_ttl.as_secs() as i64),
            )
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", e))?;
        Ok(())
    }

    #[instrument(skip_all)]
    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.client
            .delete_item()
            .table_name(&self.table)
            .key("key", s(key))
            .condition_expression("#s = :in_progress")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":in_progress", s(IN_PROGRESS))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| match e {
                SdkError::ServiceError(se) if se.err().is_conditional_check_failed_exception() => {
                    Ok(())
                }
                e => Err(sdk_error("DeleteItem", e)),
            })
    }
}
