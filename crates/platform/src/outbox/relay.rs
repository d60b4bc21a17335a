use super::publisher::Publisher;
use super::record::OutboxRecord;
use crate::batch::{RecordError, RejectionSink, process_in_order};
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use tracing::debug;

/// Publishes the outbox rows in a stream batch, in stream order. Only inserts are published
/// (rows are written once and expire by TTL). A publish failure stops the batch and reports the
/// failing record's sequence number, so Lambda retries from there and order is kept; a row
/// that cannot be read is rejected for review.
pub async fn relay_stream_batch(
    event: Event,
    publisher: &impl Publisher,
    rejections: &impl RejectionSink,
) -> DynamoDbEventResponse {
    let records: Vec<(String, EventRecord)> = event
        .records
        .into_iter()
        .map(|r| {
            (
                r.change
                    .sequence_number
                    .clone()
                    .unwrap_or_else(|| r.event_id.clone()),
                r,
            )
        })
        .collect();
    let failed = process_in_order(
        "outbox",
        records,
        |r| serde_json::to_string(&r.change.new_image).unwrap_or_default(),
        rejections,
        |r| async move {
            if r.event_name != "INSERT" {
                debug!(event_name = %r.event_name, "not an insert; nothing to publish");
                return Ok(());
            }
            let row: OutboxRecord = serde_dynamo::from_item(r.change.new_image)
                .map_err(|e| RecordError::Permanent(format!("unreadable outbox row: {e}")))?;
            publisher.publish(&row).await.map_err(RecordError::from)
        },
    )
    .await;
    let mut response = DynamoDbEventResponse::default();
    // Lambda resumes from the lowest reported sequence number; reporting the first is enough.
    response.batch_item_failures = failed
        .into_iter()
        .take(1)
        .map(|id| {
            let mut f = DynamoDbBatchItemFailure::default();
            f.item_identifier = Some(id);
            f
        })
        .collect();
    response
}
