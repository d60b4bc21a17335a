//! What every scenario shares: the API under load and how to authenticate to it, the recorder
//! of every request, this run's marker, the open model's pacer; one request as goose sends it;
//! the checks after the run and the reads they settle on.

use crate::auth::Auth;
use crate::record::Recorder;
use futures::StreamExt;
use goose::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Harness {
    pub api: String,
    pub auth: Auth,
    pub recorder: Recorder,
    /// Makes this run's bodies differ from every other run's.
    pub run: String,
    /// The open model's per-user rate (`--rate`); none: each user sends when answered.
    pub pacer: Option<crate::pace::Pacer>,
    counter: AtomicU64,
}

impl Harness {
    pub fn new(api: String, auth: Auth, pacer: Option<crate::pace::Pacer>) -> Self {
        Self {
            api: api.trim_end_matches('/').to_owned(),
            auth,
            recorder: Recorder::default(),
            run: format!("{:08x}", fastrand::u32(..)),
            pacer,
            counter: AtomicU64::new(0),
        }
    }

    /// A number no other request of this run has had.
    pub fn next(&self) -> u64 {
        self.counter.fetch_add(1, Ordering::Relaxed)
    }
}

/// One request with the body, headers and authentication it needs; the answer's status and
/// JSON body when it came.
pub async fn call(
    user: &mut GooseUser,
    h: &Harness,
    method: GooseMethod,
    path: &str,
    name: &str,
    body: Option<&Value>,
    expected: &[u16],
) -> Result<Option<(u16, Value)>, Box<TransactionError>> {
    let url = format!("{}{path}", h.api);
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    let (verb, mut builder) = match method {
        GooseMethod::Post => ("POST", user.client.post(&url)),
        GooseMethod::Patch => ("PATCH", user.client.patch(&url)),
        GooseMethod::Put => ("PUT", user.client.put(&url)),
        _ => ("GET", user.client.get(&url)),
    };
    if body.is_some() {
        builder = builder
            .header("content-type", "application/json")
            .body(bytes.clone());
    }
    // Only POSTs take an Idempotency-Key.
    if verb == "POST" {
        builder = builder.header("idempotency-key", format!("load-{}-{}", h.run, h.next()));
    }
    // A request that cannot be signed is the run's configuration error, reported once.
    let headers = h.auth.headers(verb, &url, path, &bytes).unwrap_or_default();
    for (k, v) in headers {
        builder = builder.header(k, v);
    }
    let request = GooseRequest::builder()
        .method(method)
        .path(path)
        .name(name)
        .set_request_builder(builder)
        .build();
    let sent = Instant::now();
    let answer = user.request(request).await?;
    h.recorder.record(
        sent,
        answer.response.as_ref().map(|r| r.status().as_u16()),
        expected,
    );
    match answer.response {
        Ok(r) if expected.contains(&r.status().as_u16()) => {
            let status = r.status().as_u16();
            Ok(Some((
                status,
                r.json::<Value>().await.unwrap_or(Value::Null),
            )))
        }
        _ => Ok(None),
    }
}

/// A POST the flow expects `202` for; the id in the answer's `field`, if it was accepted.
pub async fn submit(
    user: &mut GooseUser,
    h: &Harness,
    path: &str,
    body: &Value,
    field: &str,
) -> Result<Option<String>, Box<TransactionError>> {
    let name = format!("POST {path}");
    let answer = call(user, h, GooseMethod::Post, path, &name, Some(body), &[202]).await?;
    Ok(answer.and_then(|(_, b)| b[field].as_str().map(str::to_owned)))
}

/// A GET through the API with the run's authentication; its JSON answer when it is a 2xx.
pub async fn get_json(http: &reqwest::Client, h: &Harness, path: &str) -> Result<Value, String> {
    let url = format!("{}{path}", h.api);
    let mut request = http.get(&url);
    for (k, v) in h.auth.headers("GET", &url, path, b"")? {
        request = request.header(k, v);
    }
    let answer = request
        .send()
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(format!("GET {path}: HTTP {status}"));
    }
    answer.json().await.map_err(|e| format!("GET {path}: {e}"))
}

/// The local notification sink, when the run targets the local stack (`NOTIFY_URL`, or the
/// running stack's): a deployed API has none to read.
pub fn notify_url() -> Option<String> {
    std::env::var("NOTIFY_URL")
        .ok()
        .or_else(|| crate::stack::value("NOTIFY_URL"))
}

/// Everything the sink received; an error when it cannot be read, so that a check built on it
/// fails rather than passing on nothing.
pub async fn received(http: &reqwest::Client, notify: &str) -> Result<Vec<Value>, String> {
    let answer = http
        .get(format!("{notify}/v1/notify"))
        .send()
        .await
        .map_err(|e| format!("the notification sink at {notify}: {e}"))?;
    answer
        .json()
        .await
        .map_err(|e| format!("the notification sink at {notify}: {e}"))
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: String,
    pub checked: usize,
    pub failures: Vec<String>,
}

impl Check {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// What a read of an accepted id said.
enum Seen {
    Settled(Value),
    Pending,
    Missing,
    Unreadable(String),
}

async fn read(http: &reqwest::Client, h: &Harness, path: &str, done: &[&str]) -> Seen {
    let url = format!("{}{path}", h.api);
    let mut request = http.get(&url);
    for (k, v) in h.auth.headers("GET", &url, path, b"").unwrap_or_default() {
        request = request.header(k, v);
    }
    let answer = match request.send().await {
        Ok(a) => a,
        Err(e) => return Seen::Unreadable(e.to_string()),
    };
    match answer.status().as_u16() {
        200 => match answer.json::<Value>().await {
            Ok(v) if done.contains(&v["status"].as_str().unwrap_or_default()) => Seen::Settled(v),
            Ok(_) => Seen::Pending,
            Err(e) => Seen::Unreadable(e.to_string()),
        },
        404 => Seen::Missing,
        s => Seen::Unreadable(format!("HTTP {s}")),
    }
}

/// Reads every path until its status is one of `done`, or `settle` has passed; what is still
/// not done then is a failure.
pub async fn settle_all(
    http: &reqwest::Client,
    h: &Harness,
    paths: Vec<String>,
    done: &[&str],
    settle: Duration,
) -> (BTreeMap<String, Value>, Vec<String>) {
    let deadline = Instant::now() + settle;
    let mut open: BTreeSet<String> = paths.into_iter().collect();
    let mut settled = BTreeMap::new();
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let reads: Vec<(String, Seen)> = futures::stream::iter(open.iter().cloned())
            .map(|path| async move {
                let seen = read(http, h, &path, done).await;
                (path, seen)
            })
            .buffer_unordered(32)
            .collect()
            .await;
        for (path, seen) in reads {
            match seen {
                Seen::Settled(v) => {
                    open.remove(&path);
                    settled.insert(path, v);
                }
                Seen::Pending => {
                    last.insert(path, "still pending".into());
                }
                Seen::Missing => {
                    last.insert(path, "not found: accepted and lost".into());
                }
                Seen::Unreadable(e) => {
                    last.insert(path, e);
                }
            }
        }
        if open.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let failures = open
        .into_iter()
        .map(|p| format!("{p}: {}", last.get(&p).map_or("unknown", String::as_str)))
        .collect();
    (settled, failures)
}
