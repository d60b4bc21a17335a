//! The Lambda Runtime API, served by devstack for the function instances it starts itself, and
//! the pools of instances behind it: what Lambda does for a function, on this machine.
//!
//! The part of the Runtime API a runtime client uses is served: `GET
//! /2018-06-01/runtime/invocation/next`, `POST .../invocation/{id}/response` and `.../error`,
//! and `POST .../runtime/init/error`. One API per function; any number of that function's
//! instances long-poll it for events, each taking one at a time, as in Lambda.
//!
//! A [`Pool`] starts instances of a function's binary on demand, up to its concurrency, when an
//! invocation finds none idle; an instance that exits is replaced by the next invocation that
//! needs one; when the binary is rebuilt (`cargo build`), the running instances are stopped so
//! that the next invocations start the new build.

mod pool;

pub use pool::{LocalLambda, Pool};

use crate::{DevError, Result};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use std::collections::HashMap;
use std::path::Path;
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};
use tokio::sync::{Mutex, mpsc, oneshot};

/// How an invocation ended.
#[derive(Debug)]
pub enum Outcome {
    Response(Bytes),
    Error(String),
}

struct Invocation {
    id: String,
    event: Bytes,
    deadline: Duration,
}

#[derive(Default)]
struct State_ {
    queue: Mutex<Option<mpsc::UnboundedReceiver<Invocation>>>,
    pending: std::sync::Mutex<HashMap<String, oneshot::Sender<Outcome>>>,
    idle: AtomicUsize,
    init_error: std::sync::Mutex<Option<String>>,
    first_ready: OnceLock<Instant>,
}

/// A Runtime API on a free loopback port, for the instances of one function.
pub struct RuntimeApi {
    pub address: String,
    invocations: mpsc::UnboundedSender<Invocation>,
    state: Arc<State_>,
    next_id: AtomicU64,
    server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    pub async fn start() -> Result<Self> {
        let (tx, rx) = mpsc::unbounded_channel();
        let state = Arc::new(State_ {
            queue: Mutex::new(Some(rx)),
            ..State_::default()
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            invocations: tx,
            state,
            next_id: AtomicU64::new(0),
            server,
        })
    }

    /// Instances waiting for an event right now.
    pub fn idle(&self) -> usize {
        self.state.idle.load(Ordering::Relaxed)
    }

    /// When an instance first asked for an event.
    pub fn first_ready(&self) -> Option<Instant> {
        self.state.first_ready.get().copied()
    }

    /// What an instance reported when it failed to initialize, if one did.
    pub fn init_error(&self) -> Option<String> {
        self.state.init_error.lock().ok().and_then(|e| e.clone())
    }

    /// Queues `event` for the next free instance and waits up to `timeout` for its outcome; an
    /// invocation not answered by then is abandoned (its late answer is refused).
    pub async fn invoke(&self, event: Bytes, timeout: Duration) -> Option<Outcome> {
        let id = format!(
            "{:016x}-{:08x}",
            self.next_id.fetch_add(1, Ordering::Relaxed),
            fastrand::u32(..)
        );
        let (done, outcome) = oneshot::channel();
        if let Ok(mut pending) = self.state.pending.lock() {
            pending.insert(id.clone(), done);
        }
        let invocation = Invocation {
            id: id.clone(),
            event,
            deadline: timeout,
        };
        if self.invocations.send(invocation).is_err() {
            return None;
        }
        let answer = tokio::time::timeout(timeout, outcome).await;
        if let Ok(mut pending) = self.state.pending.lock() {
            pending.remove(&id);
        }
        answer.ok().and_then(Result::ok)
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Counts an instance as idle while it waits in `next`, also when its request is dropped.
struct Idle<'a>(&'a AtomicUsize);

impl<'a> Idle<'a> {
    fn enter(counter: &'a AtomicUsize) -> Self {
        counter.fetch_add(1, Ordering::Relaxed);
        Self(counter)
    }
}

impl Drop for Idle<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

async fn next(State(state): State<Arc<State_>>) -> Response {
    let _ = state.first_ready.set(Instant::now());
    let idle = Idle::enter(&state.idle);
    // One waiting instance at a time holds the queue; the others wait for the lock, so each
    // event goes to exactly one instance.
    let mut queue = state.queue.lock().await;
    let Some(receiver) = queue.as_mut() else {
        return StatusCode::GONE.into_response();
    };
    let invocation = loop {
        let Some(invocation) = receiver.recv().await else {
            return StatusCode::GONE.into_response();
        };
        // An invocation its caller gave up on while it waited is not handed out.
        let wanted = state
            .pending
            .lock()
            .map(|p| p.contains_key(&invocation.id))
            .unwrap_or(true);
        if wanted {
            break invocation;
        }
    };
    drop(queue);
    drop(idle);
    let deadline = chrono::Utc::now().timestamp_millis()
        + i64::try_from(invocation.deadline.as_millis()).unwrap_or(i64::MAX / 2);
    let mut headers = HeaderMap::new();
    let values = [
        ("lambda-runtime-aws-request-id", invocation.id.clone()),
        ("lambda-runtime-deadline-ms", deadline.to_string()),
        (
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:000000000000:function:local".into(),
        ),
        (
            "lambda-runtime-trace-id",
            format!("Root=1-{}", invocation.id),
        ),
        ("content-type", "application/json".into()),
    ];
    for (name, value) in values {
        if let Ok(v) = HeaderValue::from_str(&value) {
            headers.insert(name, v);
        }
    }
    (headers, invocation.event).into_response()
}

fn finish(state: &State_, id: &str, outcome: Outcome) -> StatusCode {
    let waiting = state.pending.lock().ok().and_then(|mut p| p.remove(id));
    match waiting {
        Some(done) => {
            let _ = done.send(outcome);
            StatusCode::ACCEPTED
        }
        // As Lambda: the invocation timed out, or the answer is stale.
        None => StatusCode::GONE,
    }
}

async fn response(
    State(state): State<Arc<State_>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    finish(&state, &id, Outcome::Response(body))
}

async fn error(
    State(state): State<Arc<State_>>,
    UrlPath(id): UrlPath<String>,
    body: Bytes,
) -> StatusCode {
    let text = String::from_utf8_lossy(&body).into_owned();
    finish(&state, &id, Outcome::Error(text))
}

async fn init_error(State(state): State<Arc<State_>>, body: Bytes) -> StatusCode {
    if let Ok(mut e) = state.init_error.lock() {
        *e = Some(String::from_utf8_lossy(&body).into_owned());
    }
    StatusCode::ACCEPTED
}

/// Starts one instance of `binary` against `api`, its output appended to `log`.
pub fn spawn_instance(
    function: &str,
    binary: &Path,
    env: &[(String, String)],
    api: &RuntimeApi,
    log: Option<&Path>,
) -> Result<tokio::process::Child> {
    let (stdout, stderr) = match log {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            (Stdio::from(file.try_clone()?), Stdio::from(file))
        }
        None => (Stdio::null(), Stdio::null()),
    };
    tokio::process::Command::new(binary)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("AWS_LAMBDA_RUNTIME_API", &api.address)
        .env("AWS_LAMBDA_FUNCTION_NAME", function)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "local")
        .env(
            "AWS_LAMBDA_LOG_GROUP_NAME",
            format!("/aws/lambda/{function}"),
        )
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| {
            DevError::Setup(format!(
                "cannot start {}: {e} (build it: cargo build --workspace --bins)",
                binary.display()
            ))
        })
}
