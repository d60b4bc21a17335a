//! The resources of the system, described once. The local stack is provisioned from this, and
//! the names it gives resources become the functions' environment variables.

/// A DynamoDB table.
#[derive(Debug, Clone)]
pub struct TableSpec {
    pub logical: &'static str,
    /// Environment variable that carries the table's name to the functions.
    pub env: &'static str,
    pub partition_key: &'static str,
    pub sort_key: Option<&'static str>,
    pub indexes: Vec<IndexSpec>,
    /// New-image stream (the outbox).
    pub stream: bool,
    pub ttl_attribute: Option<&'static str>,
}

#[derive(Debug, Clone)]
pub struct IndexSpec {
    pub name: &'static str,
    pub partition_key: &'static str,
    pub sort_key: Option<&'static str>,
}

/// An SQS FIFO queue with its FIFO dead-letter queue.
#[derive(Debug, Clone)]
pub struct QueueSpec {
    pub logical: &'static str,
    /// Environment variable that carries the queue's URL.
    pub env: &'static str,
    pub visibility_timeout_secs: u32,
    pub max_receive_count: u32,
}

#[derive(Debug, Clone)]
pub struct TopicSpec {
    pub logical: &'static str,
    pub env: &'static str,
}

/// A queue subscribed to a topic with raw delivery, filtered on the `event_type` attribute.
#[derive(Debug, Clone)]
pub struct SubscriptionSpec {
    pub topic: &'static str,
    pub queue: &'static str,
    pub event_types: Vec<&'static str>,
}

/// An event-source mapping: what feeds which function.
#[derive(Debug, Clone)]
pub enum EventSource {
    Queue {
        queue: &'static str,
        function: &'static str,
        batch_size: i32,
    },
    Stream {
        table: &'static str,
        function: &'static str,
        batch_size: i32,
    },
}

#[derive(Debug, Clone)]
pub struct Topology {
    pub tables: Vec<TableSpec>,
    pub queues: Vec<QueueSpec>,
    pub topics: Vec<TopicSpec>,
    pub subscriptions: Vec<SubscriptionSpec>,
    pub event_sources: Vec<EventSource>,
}

/// Visibility timeouts are six times the consuming function's timeout, as AWS recommends for
/// event-source mappings.
const fn visibility_for(function_timeout_secs: u32) -> u32 {
    6 * function_timeout_secs
}

/// Deliveries before a message moves to its dead-letter queue.
pub const MAX_RECEIVE_COUNT: u32 = 3;

fn table(logical: &'static str, env: &'static str, partition_key: &'static str) -> TableSpec {
    TableSpec {
        logical,
        env,
        partition_key,
        sort_key: None,
        indexes: vec![],
        stream: false,
        ttl_attribute: None,
    }
}

impl Topology {
    pub fn system() -> Self {
        Self {
            tables: vec![
                table("users", "USERS_TABLE", "user_id"),
                table("assets", "ASSETS_TABLE", "asset_id"),
                TableSpec {
                    indexes: vec![IndexSpec {
                        name: platform::dynamo::RENTALS_BY_USER_INDEX,
                        partition_key: "user_id",
                        sort_key: Some("created_at"),
                    }],
                    ..table("rentals", "RENTALS_TABLE", "rental_id")
                },
                table("returns", "RETURNS_TABLE", "return_id"),
                TableSpec {
                    sort_key: Some("event_id"),
                    stream: true,
                    ttl_attribute: Some("expires_at"),
                    ..table("outbox", "OUTBOX_TABLE", "aggregate_id")
                },
                table("user-stats", "STATS_TABLE", "user_id"),
                TableSpec {
                    ttl_attribute: Some("expires_at"),
                    ..table("processed", "PROCESSED_TABLE", "key")
                },
                table("rejections", "REJECTIONS_TABLE", "rejection_id"),
            ],
            queues: vec![
                QueueSpec {
                    logical: "rental-returns",
                    env: "RETURNS_QUEUE_URL",
                    visibility_timeout_secs: visibility_for(10),
                    max_receive_count: MAX_RECEIVE_COUNT,
                },
                QueueSpec {
                    logical: "notifications",
                    env: "NOTIFICATIONS_QUEUE_URL",
                    visibility_timeout_secs: visibility_for(20),
                    max_receive_count: MAX_RECEIVE_COUNT,
                },
                QueueSpec {
                    logical: "projections",
                    env: "PROJECTIONS_QUEUE_URL",
                    visibility_timeout_secs: visibility_for(10),
                    max_receive_count: MAX_RECEIVE_COUNT,
                },
            ],
            topics: vec![TopicSpec {
                logical: "domain-events",
                env: "DOMAIN_EVENTS_TOPIC_ARN",
            }],
            subscriptions: vec![
                SubscriptionSpec {
                    topic: "domain-events",
                    queue: "notifications",
                    event_types: vec!["RentalCompleted"],
                },
                SubscriptionSpec {
                    topic: "domain-events",
                    queue: "projections",
                    event_types: vec!["RentalCompleted"],
                },
            ],
            event_sources: vec![
                EventSource::Queue {
                    queue: "rental-returns",
                    function: "rental-return",
                    batch_size: 10,
                },
                EventSource::Queue {
                    queue: "notifications",
                    function: "notifier",
                    batch_size: 10,
                },
                EventSource::Queue {
                    queue: "projections",
                    function: "queue-processor",
                    batch_size: 10,
                },
                EventSource::Stream {
                    table: "outbox",
                    function: "outbox-relay",
                    batch_size: 100,
                },
            ],
        }
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
        let t = Topology::system();
        let tables: HashSet<_> = t.tables.iter().map(|t| t.logical).collect();
        let queues: HashSet<_> = t.queues.iter().map(|q| q.logical).collect();
        let topics: HashSet<_> = t.topics.iter().map(|t| t.logical).collect();
        assert_eq!(tables.len(), t.tables.len());
        assert_eq!(queues.len(), t.queues.len());
        for s in &t.subscriptions {
            assert!(
                topics.contains(s.topic) && queues.contains(s.queue),
                "{s:?}"
            );
        }
        for e in &t.event_sources {
            match e {
                EventSource::Queue { queue, .. } => assert!(queues.contains(queue)),
                EventSource::Stream { table, .. } => {
                    assert!(t.tables.iter().any(|x| x.logical == *table && x.stream))
                }
            }
        }
        let envs: Vec<_> = t
            .tables
            .iter()
            .map(|x| x.env)
            .chain(t.queues.iter().map(|x| x.env))
            .collect();
        assert_eq!(envs.iter().collect::<HashSet<_>>().len(), envs.len());
    }
}
