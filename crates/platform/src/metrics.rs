//! Business and health metrics, written as CloudWatch embedded metric format (EMF) documents on
//! stdout by `metrics_cloudwatch_embedded`, a recorder for the `metrics` facade: CloudWatch
//! Logs turns them into metrics in namespace [`NAMESPACE`], with the dimension `FunctionName`
//! and the metric's own labels. The consumers' `main` runs the runtime through [`run`],
//! api-handler's through `metrics_cloudwatch_embedded`'s `run_http` with [`collector`]; both
//! flush after every invocation; without a recorder (unit and integration
//! tests calling handlers in-process) the calls below cost next to nothing and write nothing.
//!
//! Every metric is declared in `infrastructure/topology.json` (a function's `metrics`, and the
//! top-level `metrics.every_function`), by the flow that writes it; the CDK dashboard and alarms
//! read the same list. The backbone's metrics are written here; a flow's are named and written
//! by its own code (a test there checks its declaration).

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use metrics_cloudwatch_embedded::Collector;
use std::time::Duration;

pub const NAMESPACE: &str = "Rentals";
/// The dimension every metric carries, the Lambda function's name (unique per environment).
pub const FUNCTION_DIMENSION: &str = "FunctionName";

pub const NOTIFICATIONS_SENT: &str = "NotificationsSent";
/// No labels: the alarm's metric (the logs and rejections say which and why).
pub const NOTIFICATIONS_FAILED: &str = "NotificationsFailed";
pub const NOTIFICATION_LATENCY: &str = "NotificationLatency";
/// A notification that was due at a time (its data's `due_at`, the fitness nudge's): how long
/// after that it was sent.
pub const NOTIFICATION_LATENESS: &str = "NotificationLateness";
/// Every consumer, by source (queue or stream): records rejected permanently (recorded for
/// review), retried (a failure and every record after it, reported back) and untried (too little
/// time left, reported back).
pub const BATCH_FAILURES: &str = "BatchFailures";
pub const COLD_STARTS: &str = "ColdStart";

/// The recorder of this process, installed on first use: namespace, `FunctionName`, a
/// `ColdStart` count on the first invocation, the request id as a property of each document.
/// `None` if another recorder was installed first (then the metrics go to that one).
pub fn collector() -> Option<&'static Collector> {
    static COLLECTOR: std::sync::OnceLock<Option<&'static Collector>> = std::sync::OnceLock::new();
    *COLLECTOR.get_or_init(|| {
        let function =
            std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "local".to_owned());
        let collector = metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(NAMESPACE)
            .with_dimension(FUNCTION_DIMENSION, function)
            .lambda_cold_start_metric(COLD_STARTS)
            .with_lambda_request_id("RequestId")
            .init()
            .ok();
        describe();
        collector
    })
}

/// `lambda_runtime::run` with the metrics flushed after every invocation.
pub async fn run<A, F, Fut, R>(handler: F) -> Result<(), lambda_runtime::Error>
where
    F: FnMut(lambda_runtime::LambdaEvent<A>) -> Fut,
    Fut: Future<Output = Result<R, lambda_runtime::Error>>,
    A: serde::de::DeserializeOwned,
    R: serde::Serialize,
{
    match collector() {
        Some(c) => metrics_cloudwatch_embedded::lambda::handler::run(c, handler).await,
        None => lambda_runtime::run(lambda_runtime::service_fn(handler)).await,
    }
}

/// Every metric topology.json declares, with its unit (a function describes the others' too:
/// harmless, and the one list).
fn describe() {
    let Ok(topology) = crate::topology::Topology::system() else {
        return;
    };
    for m in topology.metrics_written() {
        let name = m.name.clone();
        match m.unit.as_str() {
            "Milliseconds" => describe_histogram!(name, Unit::Milliseconds, m.name.clone()),
            _ => describe_counter!(name, Unit::Count, m.name.clone()),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A notification of `kind` delivered after `latency` (every attempt included), `lateness`
/// after the time it was due, if it had one.
pub fn notification_sent(kind: &'static str, latency: Duration, lateness: Option<Duration>) {
    counter!(NOTIFICATIONS_SENT, "kind" => kind).increment(1);
    histogram!(NOTIFICATION_LATENCY).record(ms(latency));
    if let Some(late) = lateness {
        histogram!(NOTIFICATION_LATENESS, "kind" => kind).record(ms(late));
    }
}

/// A notification not delivered: the service unavailable after every attempt (tried again
/// with the message) or refusing it (recorded as rejected).
pub fn notification_failed() {
    counter!(NOTIFICATIONS_FAILED).increment(1);
}

/// One more of a flow's counter `name` (declared in topology.json with `labels`' names).
pub fn count(name: &'static str, labels: &[(&'static str, &'static str)]) {
    let labels: Vec<metrics::Label> = labels
        .iter()
        .map(|(k, v)| metrics::Label::from_static_parts(k, v))
        .collect();
    counter!(name, labels).increment(1);
}

/// Records of a batch from `source` that did not succeed: `rejected`, `retried` or `untried`.
pub fn batch_failures(source: &str, kind: &'static str, count: usize) {
    if count > 0 {
        counter!(BATCH_FAILURES, "source" => source.to_owned(), "kind" => kind)
            .increment(count as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topology::{MetricSpec, Topology};
    use serde_json::Value;

    #[test]
    fn documents_are_emf_with_namespace_function_and_labels() {
        let c = collector().unwrap();
        count("TestCounted", &[("reason", "invalid_qr")]);
        count("TestCounted", &[("reason", "invalid_qr")]);
        count("TestPlain", &[]);
        notification_sent(
            "training_nudge",
            Duration::from_millis(42),
            Some(Duration::from_secs(2)),
        );
        batch_failures("tasks", "retried", 3);
        batch_failures("tasks", "rejected", 0);
        let mut out = Vec::new();
        c.flush(&mut out).unwrap();
        let docs: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let find = |metric: &str| {
            docs.iter()
                .find(|d| d.get(metric).is_some())
                .unwrap_or_else(|| panic!("{metric} in {docs:?}"))
        };
        let counted = find("TestCounted");
        assert_eq!(counted["TestCounted"], 2);
        assert_eq!(counted["reason"], "invalid_qr");
        assert_eq!(counted[FUNCTION_DIMENSION], "local");
        let directive = &counted["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(
            directive["Dimensions"][0],
            serde_json::json!([FUNCTION_DIMENSION, "reason"])
        );
        assert!(counted["_aws"]["Timestamp"].as_u64().unwrap() > 0);
        assert_eq!(find("TestPlain")["TestPlain"], 1);
        assert_eq!(find(NOTIFICATIONS_SENT)["kind"], "training_nudge");
        assert_eq!(
            find(NOTIFICATION_LATENCY)[NOTIFICATION_LATENCY],
            serde_json::json!([42.0])
        );
        let units = &find(NOTIFICATION_LATENCY)["_aws"]["CloudWatchMetrics"][0]["Metrics"];
        assert!(
            units.as_array().unwrap().contains(
                &serde_json::json!({"Name": NOTIFICATION_LATENCY, "Unit": "Milliseconds"})
            ),
            "{units}"
        );
        assert_eq!(find(BATCH_FAILURES)["kind"], "retried");
        assert_eq!(find(BATCH_FAILURES)[BATCH_FAILURES], 3);
        let late = find(NOTIFICATION_LATENESS);
        assert_eq!(late[NOTIFICATION_LATENESS], serde_json::json!([2000.0]));
        assert_eq!(late["kind"], "training_nudge");
        // Nothing left over: a second flush writes nothing new.
        let mut again = Vec::new();
        c.flush(&mut again).unwrap();
        assert!(!String::from_utf8(again).unwrap().contains("TestCounted"));
    }

    fn spec(name: &str, unit: &str, labels: &[&str]) -> MetricSpec {
        MetricSpec {
            name: name.into(),
            unit: unit.into(),
            labels: labels.iter().map(|l| (*l).into()).collect(),
            alarms: vec![],
        }
    }

    #[test]
    fn the_backbone_s_metrics_are_declared_as_written() {
        let topology = Topology::system().unwrap();
        assert_eq!(topology.metrics.namespace, NAMESPACE);
        assert_eq!(topology.metrics.function_dimension, FUNCTION_DIMENSION);
        assert_eq!(
            topology.metrics.every_function,
            [
                spec(BATCH_FAILURES, "Count", &["source", "kind"]),
                spec(COLD_STARTS, "Count", &[]),
            ]
        );
        // The notifier's, with the alarms flows declare on them.
        let notifier = &topology.function("notifier").unwrap().metrics;
        let written = [
            spec(NOTIFICATIONS_SENT, "Count", &["kind"]),
            spec(NOTIFICATIONS_FAILED, "Count", &[]),
            spec(NOTIFICATION_LATENCY, "Milliseconds", &[]),
            spec(NOTIFICATION_LATENESS, "Milliseconds", &["kind"]),
        ];
        assert_eq!(notifier.len(), written.len());
        for (declared, written) in notifier.iter().zip(written) {
            assert_eq!(
                (&declared.name, &declared.unit, &declared.labels),
                (&written.name, &written.unit, &written.labels)
            );
        }
    }

    #[test]
    fn every_metric_is_named_once_with_a_unit_the_dashboard_draws() {
        let topology = Topology::system().unwrap();
        let mut names = std::collections::BTreeSet::new();
        for m in topology.metrics_written() {
            assert!(
                names.insert(m.name.as_str()),
                "{} is declared twice",
                m.name
            );
            assert!(
                ["Count", "Milliseconds"].contains(&m.unit.as_str()),
                "{}: unit {} (Count or Milliseconds)",
                m.name,
                m.unit
            );
        }
    }
}
