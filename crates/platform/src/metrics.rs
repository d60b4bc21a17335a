//! Business and health metrics, written as CloudWatch embedded metric format (EMF) documents on
//! stdout by `metrics_cloudwatch_embedded`, a recorder for the `metrics` facade: CloudWatch
//! Logs turns them into metrics in namespace [`NAMESPACE`], with the dimension `FunctionName`
//! and the metric's own labels. The functions' `main` runs the runtime through [`run`] or
//! [`run_http`], which flush after every invocation; without a recorder (unit and integration
//! tests calling handlers in-process) the calls below cost next to nothing and write nothing.
//!
//! Every metric is named once here ([`CATALOGUE`]); `infrastructure/metrics.json` lists the
//! same for the CDK dashboard and alarms, and a test keeps the two equal.

use metrics::{Unit, counter, describe_counter, describe_histogram, histogram};
use metrics_cloudwatch_embedded::Collector;
use std::time::Duration;

pub const NAMESPACE: &str = "Rentals";
/// The dimension every metric carries, the Lambda function's name (unique per environment).
pub const FUNCTION_DIMENSION: &str = "FunctionName";

/// One metric: its name, unit, labels (dimensions besides `FunctionName`) and the function
/// that emits it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricSpec {
    pub name: &'static str,
    pub unit: &'static str,
    pub labels: &'static [&'static str],
    pub function: &'static str,
}

const fn spec(
    name: &'static str,
    unit: &'static str,
    labels: &'static [&'static str],
    function: &'static str,
) -> MetricSpec {
    MetricSpec {
        name,
        unit,
        labels,
        function,
    }
}

pub const RETURNS_COMPLETED: &str = "ReturnsCompleted";
pub const RETURNS_REJECTED: &str = "ReturnsRejected";
pub const NOTIFICATIONS_SENT: &str = "NotificationsSent";
pub const NOTIFICATIONS_FAILED: &str = "NotificationsFailed";
pub const NOTIFICATION_LATENCY: &str = "NotificationLatency";
pub const NOTIFICATION_LATENESS: &str = "NotificationLateness";
pub const ORDERS_PLACED: &str = "OrdersPlaced";
pub const ORDERS_REFUSED: &str = "OrdersRefused";
pub const BATCH_FAILURES: &str = "BatchFailures";
pub const COLD_STARTS: &str = "ColdStart";

pub const CATALOGUE: &[MetricSpec] = &[
    spec(RETURNS_COMPLETED, "Count", &[], "rental-return"),
    spec(RETURNS_REJECTED, "Count", &["reason"], "rental-return"),
    spec(NOTIFICATIONS_SENT, "Count", &["kind"], "notifier"),
    // No labels: the alarm's metric (the logs and rejections say which and why).
    spec(NOTIFICATIONS_FAILED, "Count", &[], "notifier"),
    spec(NOTIFICATION_LATENCY, "Milliseconds", &[], "notifier"),
    // A notification that was due at a time (its data's `due_at`, the fitness nudge's): how long
    // after that it was sent.
    spec(NOTIFICATION_LATENESS, "Milliseconds", &["kind"], "notifier"),
    spec(ORDERS_PLACED, "Count", &[], "api-handler"),
    spec(ORDERS_REFUSED, "Count", &["reason"], "api-handler"),
    // Stock alerts are the notifications of kind `low_stock` (NotificationsSent), counted once
    // each as the notifier sends them.
    // Every consumer, by source (queue or stream): records rejected permanently (recorded for
    // review), retried (a failure and every record after it, reported back) and untried (too
    // little time left, reported back).
    spec(BATCH_FAILURES, "Count", &["source", "kind"], "*"),
    spec(COLD_STARTS, "Count", &[], "*"),
];

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

fn describe() {
    for m in CATALOGUE {
        match m.unit {
            "Milliseconds" => describe_histogram!(m.name, Unit::Milliseconds, m.name),
            _ => describe_counter!(m.name, Unit::Count, m.name),
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A return decided for the first time (a duplicate scan counts nothing).
pub fn return_decided(rejection: Option<&'static str>) {
    match rejection {
        None => counter!(RETURNS_COMPLETED).increment(1),
        Some(reason) => counter!(RETURNS_REJECTED, "reason" => reason).increment(1),
    }
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

pub fn order_placed() {
    counter!(ORDERS_PLACED).increment(1);
}

/// `reason`: the error code of the refusal (`unknown_sku`, `insufficient_stock`).
pub fn order_refused(reason: &'static str) {
    counter!(ORDERS_REFUSED, "reason" => reason).increment(1);
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
    use serde_json::Value;

    #[test]
    fn documents_are_emf_with_namespace_function_and_labels() {
        let c = collector().unwrap();
        return_decided(None);
        return_decided(Some("invalid_qr"));
        return_decided(Some("invalid_qr"));
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
        let rejected = find(RETURNS_REJECTED);
        assert_eq!(rejected[RETURNS_REJECTED], 2);
        assert_eq!(rejected["reason"], "invalid_qr");
        assert_eq!(rejected[FUNCTION_DIMENSION], "local");
        let directive = &rejected["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(
            directive["Dimensions"][0],
            serde_json::json!([FUNCTION_DIMENSION, "reason"])
        );
        assert!(rejected["_aws"]["Timestamp"].as_u64().unwrap() > 0);
        assert_eq!(find(RETURNS_COMPLETED)[RETURNS_COMPLETED], 1);
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
        assert!(!String::from_utf8(again).unwrap().contains(RETURNS_REJECTED));
    }

    #[test]
    fn the_catalogue_is_the_one_the_dashboard_and_alarms_read() {
        let doc: Value =
            serde_json::from_str(include_str!("../../../infrastructure/metrics.json")).unwrap();
        assert_eq!(doc["namespace"], NAMESPACE);
        assert_eq!(doc["function_dimension"], FUNCTION_DIMENSION);
        let listed: Vec<Value> = CATALOGUE
            .iter()
            .map(|m| {
                serde_json::json!({"name": m.name, "unit": m.unit, "labels": m.labels,
                    "function": m.function})
            })
            .collect();
        assert_eq!(doc["metrics"], Value::Array(listed));
    }

    #[test]
    fn every_metric_is_named_once() {
        let mut names: Vec<_> = CATALOGUE.iter().map(|m| m.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATALOGUE.len());
    }
}
