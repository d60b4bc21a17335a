use super::record::OutboxRecord;
use crate::ConfigError;
use crate::aws::sdk_error;
use crate::config::Vars;
use async_trait::async_trait;
use aws_sdk_sns::types::MessageAttributeValue as SnsAttribute;
use aws_sdk_sqs::types::MessageAttributeValue as SqsAttribute;
use domain::PortError;
use std::collections::BTreeMap;
use tracing::instrument;

/// Publishes one outbox row. Must be safe to call twice for the same row: the message
/// de-duplication id is the event id, so a FIFO destination drops the repeat.
#[async_trait]
pub trait Publisher: Send + Sync {
    async fn publish(&self, record: &OutboxRecord) -> Result<(), PortError>;
}

/// Where a channel of topology.json is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    Topic { arn: String },
    Queue { url: String },
}

/// Publishes to the channels a function declares in topology.json (`send` queues, `publish`
/// topics), found by name; a row for any other channel is refused.
#[derive(Clone)]
pub struct AwsPublisher {
    sns: aws_sdk_sns::Client,
    sqs: aws_sdk_sqs::Client,
    channels: BTreeMap<String, Channel>,
}

impl AwsPublisher {
    pub fn new(
        sns: aws_sdk_sns::Client,
        sqs: aws_sdk_sqs::Client,
        channels: BTreeMap<String, Channel>,
    ) -> Self {
        Self { sns, sqs, channels }
    }

    /// Every channel `function` declares, each of which must be configured.
    pub fn from_vars(
        sdk: &aws_config::SdkConfig,
        vars: &Vars,
        function: &str,
    ) -> Result<Self, ConfigError> {
        let uses = &vars
            .topology()
            .function(function)
            .map_err(|e| ConfigError::Topology(e.to_string()))?
            .uses;
        let mut channels = BTreeMap::new();
        for queue in &uses.send {
            let url = vars.queue_url(queue)?;
            channels.insert(queue.clone(), Channel::Queue { url });
        }
        for topic in &uses.publish {
            let arn = vars.topic_arn(topic)?;
            channels.insert(topic.clone(), Channel::Topic { arn });
        }
        Ok(Self::new(
            aws_sdk_sns::Client::new(sdk),
            aws_sdk_sqs::Client::new(sdk),
            channels,
        ))
    }

    pub fn channels(&self) -> &BTreeMap<String, Channel> {
        &self.channels
    }
}

#[async_trait]
impl Publisher for AwsPublisher {
    #[instrument(skip_all, fields(event_id = %record.event_id, event_type = %record.event_type,
                                  destination = %record.destination))]
    async fn publish(&self, record: &OutboxRecord) -> Result<(), PortError> {
        let attribute_error = |e| PortError::Permanent(format!("message attribute: {e}"));
        match self.channels.get(&record.destination) {
            None => {
                return Err(PortError::Permanent(format!(
                    "this relay publishes to no channel named {:?}",
                    record.destination
                )));
            }
            Some(Channel::Topic { arn }) => {
                let event_type = SnsAttribute::builder()
                    .data_type("String")
                    .string_value(&record.event_type)
                    .build()
                    .map_err(attribute_error)?;
                self.sns
                    .publish()
                    .topic_arn(arn)
                    .message(crate::sqs::wire_safe(&record.body))
                    .message_group_id(&record.message_group_id)
                    .message_deduplication_id(&record.event_id)
                    .message_attributes("event_type", event_type)
                    .send()
                    .await
                    .map_err(|e| sdk_error("Publish", e))?;
            }
            Some(Channel::Queue { url }) => {
                let event_type = SqsAttribute::builder()
                    .data_type("String")
                    .string_value(&record.event_type)
                    .build()
                    .map_err(attribute_error)?;
                self.sqs
                    .send_message()
                    .queue_url(url)
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
