use super::publisher::Publisher;
use super::record::OutboxRecord;
use crate::batch::{Budget, RecordError, RejectionSink, process_in_order};
use aws_lambda_events::event::dynamodb::{Event, EventRecord};
use aws_lambda_events::event::streams::{DynamoDbBatchItemFailure, DynamoDbEventResponse};
use tracing::debug;

/// Publishes the outbox rows in a stream batch, in stream order. Only inserts are published
/// (rows are written once and expire by TTL). A publish failure stops the batch and reports the
/// failing record's sequence number, so Lambda retries from there and order is kept; a row
/// that cannot be read is rejected for review.
pub async fn relay_stream_batch(
    event: Event,
    publisher: &dyn Publisher,
    rejections: &dyn RejectionSink,
    budget: Budget,
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
        budget,
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

#[cfg(test)]
mod tests {
    use super::*;
    use async_trait::async_trait;
    use domain::PortError;
    use std::collections::HashMap;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder {
        published: Mutex<Vec<String>>,
        fail_on: Option<String>,
        rejected: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Publisher for Recorder {
        async fn publish(&self, record: &OutboxRecord) -> Result<(), PortError> {
            if self.fail_on.as_deref() == Some(record.event_id.as_str()) {
                return Err(PortError::Retryable("throttled".into()));
            }
            self.published.lock().unwrap().push(record.event_id.clone());
            Ok(())
        }
    }

    #[async_trait]
    impl RejectionSink for Recorder {
        async fn reject(&self, _: &str, id: &str, _: &str, _: &str) -> Result<(), PortError> {
            self.rejected.lock().unwrap().push(id.to_owned());
            Ok(())
        }
    }

    fn row(event_id: &str) -> OutboxRecord {
        OutboxRecord {
            aggregate_id: "u1".into(),
            event_id: event_id.into(),
            destination: "domain-events".into(),
            message_group_id: "u1".into(),
            event_type: "RentalCompleted".into(),
            body: "{}".into(),
            created_at: "2025-02-10T11:00:00Z".into(),
        }
    }

    fn record(seq: &str, name: &str, image: serde_dynamo::Item) -> EventRecord {
        let mut r = EventRecord::default();
        r.event_name = name.into();
        r.change.sequence_number = Some(seq.into());
        r.change.new_image = image;
        r
    }

    fn stream(records: Vec<EventRecord>) -> Event {
        let mut e = Event::default();
        e.records = records;
        e
    }

    fn image(r: &OutboxRecord) -> serde_dynamo::Item {
        serde_dynamo::to_item(r).unwrap()
    }

    #[tokio::test]
    async fn publishes_inserts_in_order_and_ignores_removals() {
        let rec = Recorder::default();
        let event = stream(vec![
            record("1", "INSERT", image(&row("e1"))),
            record("2", "REMOVE", serde_dynamo::Item::default()),
            record("3", "INSERT", image(&row("e2"))),
        ]);
        let response = relay_stream_batch(event, &rec, &rec, Budget::unlimited()).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(*rec.published.lock().unwrap(), ["e1", "e2"]);
    }

    #[tokio::test]
    async fn a_publish_failure_reports_its_sequence_number_and_stops() {
        let rec = Recorder {
            fail_on: Some("e2".into()),
            ..Recorder::default()
        };
        let event = stream(vec![
            record("1", "INSERT", image(&row("e1"))),
            record("2", "INSERT", image(&row("e2"))),
            record("3", "INSERT", image(&row("e3"))),
        ]);
        let response = relay_stream_batch(event, &rec, &rec, Budget::unlimited()).await;
        let ids: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        assert_eq!(ids, [Some("2".to_string())]);
        assert_eq!(
            *rec.published.lock().unwrap(),
            ["e1"],
            "nothing after the failure"
        );
    }

    #[tokio::test]
    async fn an_unreadable_row_is_rejected_and_the_rest_published() {
        let rec = Recorder::default();
        let mut fields: HashMap<String, serde_dynamo::AttributeValue> = image(&row("bad")).into();
        fields.remove("body");
        let broken = serde_dynamo::Item::from(fields);
        let event = stream(vec![
            record("1", "INSERT", broken),
            record("2", "INSERT", image(&row("e2"))),
        ]);
        let response = relay_stream_batch(event, &rec, &rec, Budget::unlimited()).await;
        assert!(response.batch_item_failures.is_empty());
        assert_eq!(*rec.rejected.lock().unwrap(), ["1"]);
        assert_eq!(*rec.published.lock().unwrap(), ["e2"]);
    }
}
