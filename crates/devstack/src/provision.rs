//! Creates the topology's resources on the emulator, idempotently, and reports their names.

use crate::topology::{TableSpec, Topology};
use crate::{DevError, Result};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType, StreamSpecification, StreamViewType,
    TimeToLiveSpecification,
};
use aws_sdk_sqs::types::QueueAttributeName;
use platform::sdk_error;
use std::collections::BTreeMap;

pub const REGION: &str = "us-east-1";

/// A provisioned queue and its dead-letter queue.
#[derive(Debug, Clone)]
pub struct QueueRef {
    pub url: String,
    pub arn: String,
    pub dlq_url: String,
    pub dlq_arn: String,
}

/// Physical names of everything provisioned, by logical name, and the environment the functions
/// need to find them.
#[derive(Debug, Clone, Default)]
pub struct Resources {
    pub tables: BTreeMap<String, String>,
    pub queues: BTreeMap<String, QueueRef>,
    pub topics: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
}

impl Resources {
    pub fn table(&self, logical: &str) -> Result<&str> {
        self.tables
            .get(logical)
            .map(String::as_str)
            .ok_or_else(|| missing("table", logical))
    }
    pub fn queue(&self, logical: &str) -> Result<&QueueRef> {
        self.queues
            .get(logical)
            .ok_or_else(|| missing("queue", logical))
    }
    pub fn topic(&self, logical: &str) -> Result<&str> {
        self.topics
            .get(logical)
            .map(String::as_str)
            .ok_or_else(|| missing("topic", logical))
    }
}

fn missing(kind: &str, logical: &str) -> DevError {
    DevError::Setup(format!("the topology has no {kind} named {logical}"))
}

/// Provisions `topology` with every physical name starting with `prefix`.
pub async fn provision(
    sdk: &aws_config::SdkConfig,
    topology: &Topology,
    prefix: &str,
) -> Result<Resources> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let sns = aws_sdk_sns::Client::new(sdk);
    let mut r = Resources::default();
    for spec in &topology.tables {
        let name = format!("{prefix}{}", spec.logical);
        create_table(&dynamo, spec, &name).await?;
        r.env.insert(spec.env.clone(), name.clone());
        r.tables.insert(spec.logical.clone(), name);
    }
    for spec in &topology.queues {
        let queue = create_queue_with_dlq(&sqs, spec, prefix).await?;
        r.env.insert(spec.env.clone(), queue.url.clone());
        r.queues.insert(spec.logical.clone(), queue);
    }
    for spec in &topology.topics {
        let arn = create_topic(&sns, &format!("{prefix}{}.fifo", spec.logical)).await?;
        r.env.insert(spec.env.clone(), arn.clone());
        r.topics.insert(spec.logical.clone(), arn);
    }
    for spec in &topology.subscriptions {
        let topic = r.topic(&spec.topic)?.to_owned();
        let queue_arn = r.queue(&spec.queue)?.arn.clone();
        subscribe(&sns, &topic, &queue_arn, &spec.event_types).await?;
    }
    tracing::debug!(
        prefix,
        tables = r.tables.len(),
        queues = r.queues.len(),
        topics = r.topics.len(),
        "provisioned"
    );
    Ok(r)
}

/// `spec`'s queue and its dead-letter queue, which it sends a message to after the topology's
/// `maxReceiveCount` receives.
async fn create_queue_with_dlq(
    sqs: &aws_sdk_sqs::Client,
    spec: &crate::topology::QueueSpec,
    prefix: &str,
) -> Result<QueueRef> {
    let base = format!("{prefix}{}", spec.logical);
    let dlq_name = spec.queue_name(&format!("{base}-dlq"));
    let dlq_url = create_queue(sqs, &dlq_name, spec.fifo, None).await?;
    let dlq_arn = queue_arn(sqs, &dlq_url).await?;
    let redrive = serde_json::json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count});
    let attrs = [
        (
            QueueAttributeName::VisibilityTimeout,
            spec.visibility_timeout_secs.to_string(),
        ),
        (QueueAttributeName::RedrivePolicy, redrive.to_string()),
    ];
    let url = create_queue(sqs, &spec.queue_name(&base), spec.fifo, Some(&attrs)).await?;
    let arn = queue_arn(sqs, &url).await?;
    Ok(QueueRef {
        url,
        arn,
        dlq_url,
        dlq_arn,
    })
}

/// A FIFO topic whose messages carry their own de-duplication ids.
async fn create_topic(sns: &aws_sdk_sns::Client, name: &str) -> Result<String> {
    let out = sns
        .create_topic()
        .name(name)
        .attributes("FifoTopic", "true")
        .attributes("ContentBasedDeduplication", "false")
        .send()
        .await
        .map_err(|e| sdk_error("CreateTopic", e))?;
    out.topic_arn
        .ok_or_else(|| DevError::Setup("CreateTopic returned no ARN".into()))
}

/// Subscribes the queue to the topic's `event_types` (raw delivery), unless it is already.
async fn subscribe(
    sns: &aws_sdk_sns::Client,
    topic: &str,
    queue_arn: &str,
    event_types: &[String],
) -> Result<()> {
    let existing = sns
        .list_subscriptions_by_topic()
        .topic_arn(topic)
        .send()
        .await
        .map_err(|e| sdk_error("ListSubscriptionsByTopic", e))?;
    if existing
        .subscriptions()
        .iter()
        .any(|s| s.endpoint() == Some(queue_arn))
    {
        return Ok(());
    }
    let filter = serde_json::json!({ "event_type": event_types });
    sns.subscribe()
        .topic_arn(topic)
        .protocol("sqs")
        .endpoint(queue_arn)
        .attributes("RawMessageDelivery", "true")
        .attributes("FilterPolicy", filter.to_string())
        .send()
        .await
        .map_err(|e| sdk_error("Subscribe", e))?;
    Ok(())
}

async fn create_table(
    client: &aws_sdk_dynamodb::Client,
    spec: &TableSpec,
    name: &str,
) -> Result<()> {
    let mut request = client
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for attr in key_attributes(spec) {
        request = request.attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(attr)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .map_err(setup)?,
        );
    }
    request = request.key_schema(key(&spec.partition_key, KeyType::Hash)?);
    if let Some(sk) = &spec.sort_key {
        request = request.key_schema(key(sk, KeyType::Range)?);
    }
    for index in &spec.indexes {
        let mut gsi = GlobalSecondaryIndex::builder()
            .index_name(&index.name)
            .key_schema(key(&index.partition_key, KeyType::Hash)?)
            .projection(
                Projection::builder()
                    .projection_type(ProjectionType::All)
                    .build(),
            );
        if let Some(sk) = &index.sort_key {
            gsi = gsi.key_schema(key(sk, KeyType::Range)?);
        }
        request = request.global_secondary_indexes(gsi.build().map_err(setup)?);
    }
    if spec.stream {
        request = request.stream_specification(
            StreamSpecification::builder()
                .stream_enabled(true)
                .stream_view_type(StreamViewType::NewImage)
                .build()
                .map_err(setup)?,
        );
    }
    match request.send().await {
        Ok(_) => {}
        Err(e)
            if e.as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception()) =>
        {
            return Ok(());
        }
        Err(e) => return Err(sdk_error("CreateTable", e).into()),
    }
    match &spec.ttl_attribute {
        Some(attr) => expire_by(client, name, attr).await,
        None => Ok(()),
    }
}

/// Items of table `name` expire at the epoch seconds in `attr`.
async fn expire_by(client: &aws_sdk_dynamodb::Client, name: &str, attr: &str) -> Result<()> {
    client
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(
            TimeToLiveSpecification::builder()
                .enabled(true)
                .attribute_name(attr)
                .build()
                .map_err(setup)?,
        )
        .send()
        .await
        .map_err(|e| sdk_error("UpdateTimeToLive", e))?;
    Ok(())
}

/// Every attribute a key of the table or of one of its indexes names, once.
fn key_attributes(spec: &TableSpec) -> Vec<&str> {
    let mut attributes = vec![spec.partition_key.as_str()];
    attributes.extend(spec.sort_key.as_deref());
    for index in &spec.indexes {
        attributes.push(index.partition_key.as_str());
        attributes.extend(index.sort_key.as_deref());
    }
    attributes.sort_unstable();
    attributes.dedup();
    attributes
}

fn key(attr: &str, kind: KeyType) -> Result<KeySchemaElement> {
    KeySchemaElement::builder()
        .attribute_name(attr)
        .key_type(kind)
        .build()
        .map_err(setup)
}

fn setup(e: impl std::fmt::Display) -> DevError {
    DevError::Setup(e.to_string())
}

async fn create_queue(
    client: &aws_sdk_sqs::Client,
    name: &str,
    fifo: bool,
    extra: Option<&[(QueueAttributeName, String)]>,
) -> Result<String> {
    let mut request = client.create_queue().queue_name(name);
    if fifo {
        request = request
            .attributes(QueueAttributeName::FifoQueue, "true")
            .attributes(QueueAttributeName::ContentBasedDeduplication, "false");
    }
    for (k, v) in extra.unwrap_or_default() {
        request = request.attributes(k.clone(), v);
    }
    let out = request
        .send()
        .await
        .map_err(|e| sdk_error("CreateQueue", e))?;
    out.queue_url
        .ok_or_else(|| DevError::Setup("CreateQueue returned no URL".into()))
}

async fn queue_arn(client: &aws_sdk_sqs::Client, url: &str) -> Result<String> {
    let out = client
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| sdk_error("GetQueueAttributes", e))?;
    out.attributes
        .and_then(|mut a| a.remove(&QueueAttributeName::QueueArn))
        .ok_or_else(|| DevError::Setup(format!("no ARN for queue {url}")))
}
