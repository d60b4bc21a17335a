use super::record::{Destination, OutboxRecord};
use crate::aws::sdk_error;
use aws_sdk_sns::types::MessageAttributeValue as SnsAttribute;
use aws_sdk_sqs::types::MessageAttributeValue as SqsAttribute;
use domain::PortError;
use std::future::Future;
use tracing::instrument;

/// Publishes one outbox row. Must be safe to call twice for the same row: the message
/// de-duplication id is the event id, so a FIFO destination drops the repeat.
pub trait Publisher: Send + Sync {
    fn publish(&self, record: &OutboxRecord) -> impl Future<Output = Result<(), PortError>> + Send;
}

#[derive(Clone)]
pub struct AwsPublisher {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    topic_arn: String,
    work_queue_url: Option<String>,
}

impl AwsPublisher {
    pub fn new(
        sns: aws_sdk_sns::Client,
        sqs: aws_sdk_sqs::Client,
        topic_arn: impl Into<String>,
        work_queue_url: Option<String>,
    ) -> Self {
        Self {
            sns,
            sqs,
            topic_arn: topic_arn.into(),
            work_queue_url,
        }
    }
}

impl Publisher for AwsPublisher {
    #[instrument(skip_all, fields(event_id = %record.event_id, event_type = %record.event_type,
                                  destination = ?record.destination))]
    async fn publish(&self, record: &OutboxRecord) -> Result<(), PortError> {
        match record.destination {
            Destination::DomainEvents => {
                let event_type = SnsAttribute::builder()
                    .data_type("String")
                    .string_value(&record.event_type)
                    .build()
                    .map_err(|e| PortError::Permanent(format!("message attribute: {e}")))?;
                self.sns
                    .publish()
                    .topic_arn(&self.topic_arn)
                    .message(&record.body)
                    .message_group_id(&record.message_group_id)
                    .message_deduplication_id(&record.event_id)
                    .message_attributes("event_type", event_type)
                    .send()
                    .await
                    .map_err(|e| sdk_error("Publish", e))?;
            }
            Destination::WorkQueue => {
                let Some(queue_url) = &self.work_queue_url else {
                    return Err(PortError::Permanent("no work queue configured".into()));
                };
                let event_type = SqsAttribute::builder()
                    .data_type("String")
                    .string_value(&record.event_type)
                    .build()
                    .map_err(|e| PortError::Permanent(format!("message attribute: {e}")))?;
                self.sqs
                    .send_message()
                    .queue_url(queue_url)
                    .message_body(&record.body)
                    .message_group_id(&record.message_group_id)
                    .message_deduplication_id(&record.event_id)
                    .message_attributes("event_type", event_type)
                    .send()
                    .await
                    .map_err(|e| sdk_error("SendMessage", e))?;
            }
        }
        Ok(())
    }
}
