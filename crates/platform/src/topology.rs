//! The resources of the system, read from `infrastructure/topology.json` — the same file the CDK
//! stacks synthesize from. The local stack is provisioned from it; the functions find their
//! resources through the environment variables it names (see [`crate::config::Vars`]).

use serde::Deserialize;
use std::collections::BTreeMap;

const TOPOLOGY_JSON: &str = include_str!("../../../infrastructure/topology.json");

/// `topology.json` does not hold together.
#[derive(Debug, thiserror::Error)]
#[error("infrastructure/topology.json: {0}")]
pub struct TopologyError(pub String);

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
    /// Reference data that `make seed` loads and `make reset` restores; tables without any hold
    /// processing state.
    #[serde(default)]
    pub reference_data: Option<ReferenceData>,
    /// How `make report` shows the table; not shown without one.
    #[serde(default)]
    pub report: Option<ReportSpec>,
}

/// A file of the workspace with a table's reference items (a JSON array of objects).
#[derive(Debug, Clone, Deserialize)]
pub struct ReferenceData {
    pub file: String,
    /// The field of the file's items that holds the table's partition key, when it is not named
    /// like the key.
    #[serde(default)]
    pub key_field: Option<String>,
}

/// A section of `make report`.
#[derive(Debug, Clone, Deserialize)]
pub struct ReportSpec {
    pub title: String,
    /// Attributes to print, in order; a dotted path reaches into a map.
    pub columns: Vec<String>,
    /// Attributes the rows are sorted by (numbers numerically, missing values last).
    #[serde(default)]
    pub sort: Vec<String>,
    /// Only items with this attribute are rows (a table may hold other items, a counter say).
    #[serde(default)]
    pub rows_with: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IndexSpec {
    pub name: String,
    pub partition_key: String,
    #[serde(default)]
    pub sort_key: Option<String>,
}

/// An SQS queue with its dead-letter queue of the same kind: FIFO unless `fifo` is `false` (a
/// standard queue, for per-message delays).
#[derive(Debug, Clone, Deserialize)]
pub struct QueueSpec {
    #[serde(rename = "name")]
    pub logical: String,
    /// Environment variable that carries the queue's URL.
    pub env: String,
    #[serde(default = "fifo_by_default")]
    pub fifo: bool,
    /// The function the queue feeds; its timeout sets the visibility timeout.
    pub consumer: String,
    #[serde(skip)]
    pub visibility_timeout_secs: u32,
    #[serde(skip)]
    pub max_receive_count: u32,
}

fn fifo_by_default() -> bool {
    true
}

impl QueueSpec {
    /// The queue's name with the suffix SQS requires of a FIFO queue.
    pub fn queue_name(&self, base: &str) -> String {
        if self.fifo {
            format!("{base}.fifo")
        } else {
            base.to_owned()
        }
    }
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
    /// The business and health metrics it writes (besides those every function writes).
    #[serde(default)]
    pub metrics: Vec<MetricSpec>,
    #[serde(default)]
    pub uses: Uses,
}

/// A metric a function writes as embedded metric format: declared in topology.json by the flow
/// that emits it, so that the dashboard and alarms (CDK) and the recorder (`crate::metrics`)
/// read one list.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricSpec {
    pub name: String,
    /// `Count` or `Milliseconds`.
    pub unit: String,
    /// Its dimensions besides the function's, in the order the documents list them.
    pub labels: Vec<String>,
    /// CloudWatch alarms on it (CDK builds them; the flow that cares declares them here).
    #[serde(default)]
    pub alarms: Vec<MetricAlarm>,
}

/// An alarm on a declared metric: `statistic` over 5-minute periods of the series with `labels`,
/// reaching (`>=`) or passing (`>`) `threshold` in `periods` periods in a row.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricAlarm {
    pub name: String,
    pub statistic: String,
    pub labels: BTreeMap<String, String>,
    pub threshold: serde_json::Number,
    pub comparison: String,
    pub periods: u32,
    pub description: String,
    /// The functions whose deploys the alarm rolls back (CDK); the metric's writer when empty.
    #[serde(default)]
    pub rolls_back: Vec<String>,
}

/// A flow setting a function's `config` names: its value in a deployment (unless the
/// environment's configuration overrides it) and on the local stack.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Setting {
    pub deployed: String,
    pub local: String,
}

/// Where the functions' metrics go and those every function writes.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Metrics {
    pub namespace: String,
    /// The dimension every metric carries: the Lambda function's name.
    pub function_dimension: String,
    pub every_function: Vec<MetricSpec>,
}

/// Everything a function may touch; each resource named here reaches it as an environment
/// variable and an IAM grant.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Uses {
    /// Table (or `table/index`) → DynamoDB actions.
    #[serde(default)]
    pub tables: BTreeMap<String, Vec<String>>,
    /// Queues it sends to.
    #[serde(default)]
    pub send: Vec<String>,
    /// Topics it publishes to.
    #[serde(default)]
    pub publish: Vec<String>,
    /// Variables the deployment supplies.
    #[serde(default)]
    pub config: Vec<String>,
}

impl Uses {
    /// The tables it uses, by name (an index key counts for its table).
    pub fn table_names(&self) -> impl Iterator<Item = &str> {
        let mut names: Vec<&str> = self
            .tables
            .keys()
            .map(|k| k.split('/').next().unwrap_or(k))
            .collect();
        names.dedup();
        names.into_iter()
    }
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
    /// The flows' settings by variable name.
    #[serde(default)]
    pub settings: BTreeMap<String, Setting>,
    pub metrics: Metrics,
}

/// Visibility timeouts are six times the consuming function's timeout, as AWS recommends for
/// event-source mappings.
pub const VISIBILITY_TO_TIMEOUT_RATIO: u32 = 6;

impl Topology {
    /// The system's topology, as `infrastructure/topology.json` describes it.
    pub fn system() -> Result<Self, TopologyError> {
        Self::parse(TOPOLOGY_JSON)
    }

    pub fn parse(json: &str) -> Result<Self, TopologyError> {
        let mut t: Topology =
            serde_json::from_str(json).map_err(|e| TopologyError(e.to_string()))?;
        for q in &mut t.queues {
            let consumer = t
                .functions
                .iter()
                .find(|f| f.name == q.consumer)
                .ok_or_else(|| {
                    TopologyError(format!(
                        "queue {} names unknown consumer {}",
                        q.logical, q.consumer
                    ))
                })?;
            q.visibility_timeout_secs = VISIBILITY_TO_TIMEOUT_RATIO * consumer.timeout_seconds;
            q.max_receive_count = t.max_receive_count;
        }
        Ok(t)
    }

    /// The local stack's value of setting `name`, if topology.json declares it.
    pub fn local_setting(&self, name: &str) -> Option<&str> {
        self.settings.get(name).map(|s| s.local.as_str())
    }

    /// Every metric the system's functions write: those every function writes, then each
    /// function's own.
    pub fn metrics_written(&self) -> impl Iterator<Item = &MetricSpec> {
        self.metrics
            .every_function
            .iter()
            .chain(self.functions.iter().flat_map(|f| f.metrics.iter()))
    }

    /// That `function` declares the metric `name` with exactly `labels` (a flow's test of the
    /// metrics it writes); the error says what topology.json lacks.
    pub fn declares_metric(
        &self,
        function: &str,
        name: &str,
        labels: &[&str],
    ) -> Result<(), String> {
        let declared = self
            .function(function)
            .map_err(|e| e.to_string())?
            .metrics
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| {
                format!("topology.json: function {function} has no metric {name} in its `metrics`")
            })?;
        if declared.labels != labels {
            return Err(format!(
                "topology.json: {function}'s metric {name} has labels {:?}, and the code writes {labels:?}",
                declared.labels
            ));
        }
        Ok(())
    }

    pub fn function(&self, name: &str) -> Result<&FunctionSpec, TopologyError> {
        self.functions
            .iter()
            .find(|f| f.name == name)
            .ok_or_else(|| TopologyError(format!("no function {name}")))
    }

    pub fn table(&self, name: &str) -> Result<&TableSpec, TopologyError> {
        self.tables
            .iter()
            .find(|t| t.logical == name)
            .ok_or_else(|| TopologyError(format!("no table {name}")))
    }

    pub fn queue(&self, name: &str) -> Result<&QueueSpec, TopologyError> {
        self.queues
            .iter()
            .find(|q| q.logical == name)
            .ok_or_else(|| TopologyError(format!("no queue {name}")))
    }

    pub fn topic(&self, name: &str) -> Result<&TopicSpec, TopologyError> {
        self.topics
            .iter()
            .find(|t| t.logical == name)
            .ok_or_else(|| TopologyError(format!("no topic {name}")))
    }

    /// Every environment variable `function` is given: one per resource it uses, and its
    /// configuration variables.
    pub fn env_names(&self, function: &str) -> Result<Vec<String>, TopologyError> {
        let uses = &self.function(function)?.uses;
        let mut names = Vec::new();
        for t in uses.table_names() {
            names.push(self.table(t)?.env.clone());
        }
        for q in &uses.send {
            names.push(self.queue(q)?.env.clone());
        }
        for t in &uses.publish {
            names.push(self.topic(t)?.env.clone());
        }
        names.extend(uses.config.iter().cloned());
        names.sort();
        names.dedup();
        Ok(names)
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
        let rentals = t.table("rentals").unwrap();
        assert_eq!(
            rentals.indexes[0].name,
            crate::dynamo::rental_store::RENTALS_BY_USER_INDEX
        );
        let reader = &t.function("rental-return").unwrap().uses;
        assert!(reader.tables.contains_key(&format!(
            "rentals/{}",
            crate::dynamo::rental_store::RENTALS_BY_USER_INDEX
        )));
    }

    #[test]
    fn what_a_function_uses_exists_and_names_its_variables() {
        let t = Topology::system().unwrap();
        for f in &t.functions {
            let names = t.env_names(&f.name).unwrap();
            for (key, actions) in &f.uses.tables {
                let (table, index) = key.split_once('/').unwrap_or((key, ""));
                let spec = t.table(table).unwrap();
                assert!(
                    index.is_empty() || spec.indexes.iter().any(|i| i.name == index),
                    "{key}"
                );
                assert!(!actions.is_empty(), "{}: {key} without actions", f.name);
            }
            assert!(!names.is_empty(), "{}", f.name);
        }
        let relay = t.env_names("outbox-relay").unwrap();
        assert!(relay.contains(&"TASKS_QUEUE_URL".to_owned()), "{relay:?}");
        assert!(relay.contains(&"DOMAIN_EVENTS_TOPIC_ARN".to_owned()));
    }

    #[test]
    fn reports_and_reference_data_name_real_files_and_columns() {
        let t = Topology::system().unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for table in &t.tables {
            if let Some(data) = &table.reference_data {
                assert!(root.join(&data.file).is_file(), "{}", data.file);
            }
            if let Some(r) = &table.report {
                assert!(!r.columns.is_empty(), "{}", table.logical);
            }
        }
    }
}
