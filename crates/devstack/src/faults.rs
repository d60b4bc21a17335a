//! AWS's failures on demand, in front of DynamoDB Local.
//!
//! DynamoDB cancels a transaction that touches an item another transaction is writing
//! (`TransactionCanceledException` with `TransactionConflict`), throttles a hot partition
//! (`ProvisionedThroughputExceededException`) and now and then answers `500`. DynamoDB Local
//! serializes conflicting transactions and never throttles, so code that must survive those
//! answers would go untested. This proxy forwards every request to the emulator and answers a
//! configurable share of them with AWS's own error instead, in AWS's wire format, so the real SDK
//! clients classify them as they would in AWS.
//!
//! The local stack puts it in front of DynamoDB Local when `DEVSTACK_DYNAMODB_FAULTS` is set
//! (e.g. `conflict=0.2,throttle=0.05`); tests start it directly and switch faults on and off.

use crate::{DevError, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tracing::warn;

/// The variable that switches faults on in the local stack.
pub const FAULTS_VAR: &str = "DEVSTACK_DYNAMODB_FAULTS";

/// Shares (0–1) of requests answered with a fault instead of the emulator's answer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Faults {
    /// Of `TransactWriteItems` / `TransactGetItems` calls: cancelled with `TransactionConflict`.
    pub conflict: f64,
    /// Of data-plane calls: `ProvisionedThroughputExceededException`.
    pub throttle: f64,
    /// Of data-plane calls: `500 InternalServerError`.
    pub server_error: f64,
    /// Of data-plane calls: done by the emulator, then answered `500` as if the answer was lost
    /// on the way back (the SDK retries a write that has happened).
    pub lost_answer: f64,
}

impl Faults {
    /// Reads `conflict=0.2,throttle=0.05,server_error=0.01,lost_answer=0.01` (any subset, any
    /// order).
    pub fn parse(spec: &str) -> Result<Self> {
        let mut faults = Faults::default();
        let names = ["conflict", "throttle", "server_error", "lost_answer"];
        for (name, share) in parse_shares(FAULTS_VAR, spec, &names)? {
            match name {
                "conflict" => faults.conflict = share,
                "throttle" => faults.throttle = share,
                "server_error" => faults.server_error = share,
                _ => faults.lost_answer = share,
            }
        }
        Ok(faults)
    }

    /// The faults `DEVSTACK_DYNAMODB_FAULTS` asks for, if it is set and not empty.
    pub fn from_env() -> Result<Option<Self>> {
        match std::env::var(FAULTS_VAR) {
            Ok(spec) if !spec.trim().is_empty() => Self::parse(&spec).map(Some),
            _ => Ok(None),
        }
    }
}

/// `NAME=SHARE,…` with every NAME one of `names` and every SHARE between 0 and 1, as `var`
/// (named in the error) gives them: the form of every fault switch of the local stack.
pub fn parse_shares<'n>(var: &str, spec: &str, names: &[&'n str]) -> Result<Vec<(&'n str, f64)>> {
    let mut out = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let bad = || {
            DevError::Setup(format!(
                "{var}: `{part}` is not NAME=SHARE with NAME one of {} and SHARE between 0 and 1",
                names.join(", ")
            ))
        };
        let (name, share) = part.split_once('=').ok_or_else(bad)?;
        let share: f64 = share.trim().parse().map_err(|_| bad())?;
        if !(0.0..=1.0).contains(&share) {
            return Err(bad());
        }
        let name = names.iter().find(|n| **n == name.trim()).ok_or_else(bad)?;
        out.push((*name, share));
    }
    Ok(out)
}

/// What the proxy did, by kind.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct FaultCounts {
    pub forwarded: u64,
    pub conflicts: u64,
    pub throttles: u64,
    pub server_errors: u64,
    pub lost_answers: u64,
}

#[derive(Default)]
struct Counters {
    forwarded: AtomicU64,
    conflicts: AtomicU64,
    throttles: AtomicU64,
    server_errors: AtomicU64,
    lost_answers: AtomicU64,
}

pub struct FaultProxy {
    upstream: String,
    http: reqwest::Client,
    faults: Mutex<Faults>,
    rng: Mutex<fastrand::Rng>,
    counters: Counters,
}

enum Fault {
    Conflict,
    Throttle,
    ServerError,
    LostAnswer,
}

impl FaultProxy {
    /// A proxy to the DynamoDB endpoint `upstream`, injecting `faults`; `seed` makes the choice of
    /// requests repeatable.
    pub fn new(upstream: impl Into<String>, faults: Faults, seed: u64) -> Arc<Self> {
        Arc::new(Self {
            upstream: upstream.into(),
            http: reqwest::Client::new(),
            faults: Mutex::new(faults),
            rng: Mutex::new(fastrand::Rng::with_seed(seed)),
            counters: Counters::default(),
        })
    }

    /// Changes the faults from the next request on.
    pub fn set(&self, faults: Faults) {
        if let Ok(mut f) = self.faults.lock() {
            *f = faults;
        }
    }

    pub fn counts(&self) -> FaultCounts {
        let c = &self.counters;
        FaultCounts {
            forwarded: c.forwarded.load(Ordering::Relaxed),
            conflicts: c.conflicts.load(Ordering::Relaxed),
            throttles: c.throttles.load(Ordering::Relaxed),
            server_errors: c.server_errors.load(Ordering::Relaxed),
            lost_answers: c.lost_answers.load(Ordering::Relaxed),
        }
    }

    /// DynamoDB's calls (all `POST /`) pass through; `GET /faults` answers what was injected so
    /// far, so a load run can report the conflicts its requests met.
    pub fn router(self: Arc<Self>) -> Router {
        Router::new()
            .route("/faults", axum::routing::get(counts))
            .fallback(handle)
            .with_state(self)
    }

    fn choose(&self, operation: &str) -> Option<Fault> {
        let faults = self.faults.lock().map(|f| *f).unwrap_or_default();
        // Table management (the local stack's own provisioning) is never disturbed.
        if !DATA_PLANE.contains(&operation) {
            return None;
        }
        let roll = self.rng.lock().map(|mut r| r.f64()).unwrap_or(1.0);
        let transaction = operation.starts_with("Transact");
        let conflict = if transaction { faults.conflict } else { 0.0 };
        if roll < conflict {
            Some(Fault::Conflict)
        } else if roll < conflict + faults.throttle {
            Some(Fault::Throttle)
        } else if roll < conflict + faults.throttle + faults.server_error {
            Some(Fault::ServerError)
        } else if roll < conflict + faults.throttle + faults.server_error + faults.lost_answer {
            Some(Fault::LostAnswer)
        } else {
            None
        }
    }
}

const DATA_PLANE: &[&str] = &[
    "GetItem",
    "PutItem",
    "UpdateItem",
    "DeleteItem",
    "Query",
    "Scan",
    "BatchGetItem",
    "BatchWriteItem",
    "TransactWriteItems",
    "TransactGetItems",
];

async fn counts(State(proxy): State<Arc<FaultProxy>>) -> axum::Json<FaultCounts> {
    axum::Json(proxy.counts())
}

/// Serves `proxy` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, proxy: Arc<FaultProxy>) {
    if let Err(e) = axum::serve(listener, proxy.router()).await {
        warn!(error = %e, "fault proxy stopped");
    }
}

async fn handle(State(proxy): State<Arc<FaultProxy>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, 16 * 1024 * 1024).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request too large").into_response();
    };
    let operation = parts
        .headers
        .get("x-amz-target")
        .and_then(|t| t.to_str().ok())
        .and_then(|t| t.rsplit('.').next())
        .unwrap_or_default()
        .to_owned();
    let counters = &proxy.counters;
    match proxy.choose(&operation) {
        Some(Fault::Conflict) => {
            counters.conflicts.fetch_add(1, Ordering::Relaxed);
            conflict(&body)
        }
        Some(Fault::Throttle) => {
            counters.throttles.fetch_add(1, Ordering::Relaxed);
            aws_error(
                StatusCode::BAD_REQUEST,
                "ProvisionedThroughputExceededException",
                json!({"message": "The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API."}),
            )
        }
        Some(Fault::ServerError) => {
            counters.server_errors.fetch_add(1, Ordering::Relaxed);
            aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                json!({"message": "Internal server error"}),
            )
        }
        Some(Fault::LostAnswer) => {
            counters.lost_answers.fetch_add(1, Ordering::Relaxed);
            let _ = forward(&proxy, parts.method, &parts.headers, body).await;
            aws_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalServerError",
                json!({"message": "Internal server error"}),
            )
        }
        None => {
            counters.forwarded.fetch_add(1, Ordering::Relaxed);
            forward(&proxy, parts.method, &parts.headers, body).await
        }
    }
}

/// A cancellation as DynamoDB words it: one reason per item, the first item in conflict.
fn conflict(body: &Bytes) -> Response {
    let items = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v["TransactItems"].as_array().map(Vec::len))
        .unwrap_or(1)
        .max(1);
    let reasons: Vec<Value> = (0..items)
        .map(|i| {
            if i == 0 {
                json!({"Code": "TransactionConflict", "Message": "Transaction is ongoing for the item"})
            } else {
                json!({"Code": "None"})
            }
        })
        .collect();
    let listed: Vec<&str> = (0..items)
        .map(|i| {
            if i == 0 {
                "TransactionConflict"
            } else {
                "None"
            }
        })
        .collect();
    aws_error(
        StatusCode::BAD_REQUEST,
        "TransactionCanceledException",
        json!({
            "message": format!("Transaction cancelled, please refer cancellation reasons for specific reasons [{}]", listed.join(", ")),
            "CancellationReasons": reasons,
        }),
    )
}

/// An error in the awsJson1_0 protocol DynamoDB speaks.
fn aws_error(status: StatusCode, code: &str, mut fields: Value) -> Response {
    fields["__type"] = json!(format!("com.amazonaws.dynamodb.v20120810#{code}"));
    let mut response = (status, fields.to_string()).into_response();
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

async fn forward(
    proxy: &FaultProxy,
    method: axum::http::Method,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let mut request = proxy.http.request(method, &proxy.upstream).body(body);
    for (name, value) in headers {
        if name != "host" && name != "content-length" {
            request = request.header(name, value);
        }
    }
    let answer = match request.send().await {
        Ok(answer) => answer,
        Err(e) => {
            warn!(error = %e, "DynamoDB Local did not answer");
            return aws_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                json!({"message": "DynamoDB Local did not answer"}),
            );
        }
    };
    let status = answer.status();
    let headers = answer.headers().clone();
    let body = answer.bytes().await.unwrap_or_default();
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = status;
    for (name, value) in &headers {
        if name != "content-length" && name != "transfer-encoding" && name != "connection" {
            response.headers_mut().append(name, value.clone());
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fault_specs_parse_or_say_what_is_wrong() {
        assert_eq!(
            Faults::parse("conflict=0.2, throttle=0.05").unwrap(),
            Faults {
                conflict: 0.2,
                throttle: 0.05,
                ..Faults::default()
            }
        );
        assert_eq!(Faults::parse("lost_answer=0.1").unwrap().lost_answer, 0.1);
        assert_eq!(Faults::parse("").unwrap(), Faults::default());
        for bad in ["conflict", "conflict=2", "conflict=x", "latency=0.1"] {
            let e = Faults::parse(bad).unwrap_err().to_string();
            assert!(e.contains(FAULTS_VAR), "{e}");
        }
    }

    #[test]
    fn conflicts_hit_only_transactions_and_management_calls_are_never_disturbed() {
        let all = Faults {
            conflict: 1.0,
            ..Faults::default()
        };
        let proxy = FaultProxy::new("http://unused", all, 7);
        assert!(matches!(
            proxy.choose("TransactWriteItems"),
            Some(Fault::Conflict)
        ));
        assert!(proxy.choose("PutItem").is_none());
        proxy.set(Faults {
            throttle: 1.0,
            ..Faults::default()
        });
        assert!(matches!(proxy.choose("PutItem"), Some(Fault::Throttle)));
        assert!(proxy.choose("CreateTable").is_none());
        assert!(proxy.choose("DescribeStream").is_none());
    }

    #[test]
    fn a_share_of_requests_is_answered_with_a_fault() {
        let proxy = FaultProxy::new(
            "http://unused",
            Faults {
                conflict: 0.25,
                ..Faults::default()
            },
            42,
        );
        let hits = (0..4000)
            .filter(|_| proxy.choose("TransactWriteItems").is_some())
            .count();
        assert!((800..1200).contains(&hits), "{hits} of 4000");
    }

    #[tokio::test]
    async fn a_cancellation_gives_one_reason_per_item() {
        let body = Bytes::from(r#"{"TransactItems":[{"Put":{}},{"Update":{}},{"Put":{}}]}"#);
        let response = conflict(&body);
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(
            v["__type"]
                .as_str()
                .unwrap()
                .ends_with("#TransactionCanceledException")
        );
        let codes: Vec<&str> = v["CancellationReasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["Code"].as_str().unwrap())
            .collect();
        assert_eq!(codes, ["TransactionConflict", "None", "None"]);
    }
}
