//! The resources of the system, read from `infrastructure/topology.json` — the same file the CDK
//! stacks synthesize from. The local stack is provisioned from it, and the names it gives
//! resources become the functions' environment variables.

use serde::Deserialize;

const TOPOLOGY_JSON: &str = include_str!("../../../infrastructure/topology.json");

/// A DynamoDB table.
#[derive(Debug, Clone, Deserialize)]
pub struct TableSpec {
    #[serde(rename = "name")]
    pub logical: String,
    /// Environment variable that carries the table's name to the functions.
    pub env: String,
    pub partition_key: String,
    #[serde(default)]
    pub sort_key: Option<String>,
    #[serde(default)]
    pub indexes: Vec<IndexSpec>,
    /// New-image stream (the outbox).
    #[serde(default)]
    pub stream: bool,
    #[serde(default)]
    pub ttl_attribute: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IndexSpec {
    pub name: String,
    pub partition_key: String,
    #[serde(default)]
    pub sort_key: Option<String>,
}

/// An SQS FIFO queue with its FIFO dead-letter queue.
#[derive(Debug, Clone, Deserialize)]
pub struct QueueSpec {
    #[serde(rename = "name")]
    pub logical: String,
    /// Environment variable that carries the queue's URL.
    pub env: String,
    /// The function the queue feeds; its timeout sets the visibility timeout.
    pub consumer: String,
    #[serde(skip)]
    pub visibility_timeout_secs: u32,
    #[serde(skip)]
    pub max_receive_count: u32,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TopicSpec {
    #[serde(rename = "name")]
    pub logical: String,
    pub env: String,
}

/// A queue subscribed to a topic with raw delivery, filtered on the `event_type` attribute.
#[derive(Debug, Clone, Deserialize)]
pub struct SubscriptionSpec {
    pub topic: String,
    pub queue: String,
    pub event_types: Vec<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct FunctionSpec {
    pub name: String,
    pub timeout_seconds: u32,
    pub memory_mb: u32,
}

/// An event-source mapping: what feeds which function.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum EventSource {
    Queue {
        queue: String,
        function: String,
        batch_size: i32,
        max_concurrency: Option<u32>,
    },
    Stream {
        table: String,
        function: String,
        batch_size: i32,
    },
}

impl EventSource {
    pub fn function(&self) -> &str {
        match self {
            Self::Queue { function, .. } | Self::Stream { function, .. } => function,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Topology {
    pub max_receive_count: u32,
    pub functions: Vec<FunctionSpec>,
    pub tables: Vec<TableSpec>,
    pub queues: Vec<QueueSpec>,
    pub topics: Vec<TopicSpec>,
    pub subscriptions: Vec<SubscriptionSpec>,
    pub event_sources: Vec<EventSource>,
}

/// Visibility timeouts are six times the consuming function's timeout, as AWS recommends for
/// event-source mappings.
pub const VISIBILITY_TO_TIMEOUT_RATIO: u32 = 6;

impl Topology {
    /// The system's topology, as `infrastructure/topology.json` describes it.
    pub fn system() -> crate::Result<Self> {
        Self::parse(TOPOLOGY_JSON)
    }

    pub fn parse(json: &str) -> crate::Result<Self> {
        let mut t: Topology = serde_json::from_str(json)?;
        for q in &mut t.queues {
            let consumer = t
                .functions
                .iter()
                .find(|f| f.name == q.consumer)
                .ok_or_else(|| {
                    crate::DevError::Setup(format!(
                        "queue {} names unknown consumer {}",
                        q.logical, q.consumer
                    ))
                })?;
            q.visibility_timeout_secs = VISIBILITY_TO_TIMEOUT_RATIO * consumer.timeout_seconds;
            q.max_receive_count = t.max_receive_count;
        }
        Ok(t)
    }

    /// The same topology with every queue's visibility timeout replaced: tests use a short one
    /// to see redelivery without waiting minutes.
    pub fn with_visibility_timeout(mut self, secs: u32) -> Self {
        for q in &mut self.queues {
            q.visibility_timeout_secs = secs;
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_reference_resolves_and_names_are_unique() {
        let t = Topology::system().unwrap();
        let tables: HashSet<_> = t.tables.iter().map(|t| t.logical.as_str()).collect();
        let queues: HashSet<_> = t.queues.iter().map(|q| q.logical.as_str()).collect();
        let topics: HashSet<_> = t.topics.iter().map(|t| t.logical.as_str()).collect();
        let functions: HashSet<_> = t.functions.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(tables.len(), t.tables.len());
        assert_eq!(queues.len(), t.queues.len());
        for s in &t.subscriptions {
            assert!(
                topics.contains(s.topic.as_str()) && queues.contains(s.queue.as_str()),
                "{s:?}"
            );
        }
        for e in &t.event_sources {
            assert!(functions.contains(e.function()), "{e:?}");
            match e {
                EventSource::Queue { queue, .. } => assert!(queues.contains(queue.as_str())),
                EventSource::Stream { table, .. } => {
                    assert!(t.tables.iter().any(|x| &x.logical == table && x.stream))
                }
            }
        }
        let envs: Vec<_> = t
            .tables
            .iter()
            .map(|x| &x.env)
            .chain(t.queues.iter().map(|x| &x.env))
            .collect();
        assert_eq!(envs.iter().collect::<HashSet<_>>().len(), envs.len());
    }

    #[test]
    fn visibility_is_six_times_the_consumer_timeout() {
        let t = Topology::system().unwrap();
        let notifications = t
            .queues
            .iter()
            .find(|q| q.logical == "notifications")
            .unwrap();
        assert_eq!(notifications.visibility_timeout_secs, 6 * 20);
        assert!(
            t.queues
                .iter()
                .all(|q| q.max_receive_count == t.max_receive_count)
        );
    }

    #[test]
    fn an_unknown_consumer_is_an_error() {
        let json = TOPOLOGY_JSON.replace("\"consumer\": \"notifier\"", "\"consumer\": \"nobody\"");
        assert!(Topology::parse(&json).is_err());
    }

    #[test]
    fn the_rentals_index_is_the_one_the_adapter_queries() {
        let t = Topology::system().unwrap();
        let rentals = t.tables.iter().find(|x| x.logical == "rentals").unwrap();
        assert_eq!(
            rentals.indexes[0].name,
            platform::dynamo::RENTALS_BY_USER_INDEX
        );
    }
}
