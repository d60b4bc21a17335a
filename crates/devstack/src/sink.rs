//! Stand-in for the external notification service. `POST /v1/notify` records what it receives
//! (a repeated `Idempotency-Key` is recorded and flagged as a duplicate); `GET /v1/notify` lists
//! everything, oldest first; `DELETE /v1/notify` forgets it all. `POST /v1/notify/faults`
//! `{"fail_next": n}` makes the next `n` notifications fail with 503, to watch retries;
//! `DEVSTACK_CHAOS` can make a share of them fail or time out (see `chaos`), and `GET /chaos`
//! answers what the stack's chaos injected.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Received {
    pub received_at: String,
    pub idempotency_key: Option<String>,
    pub duplicate: bool,
    pub body: Value,
}

#[derive(Default)]
pub struct Sink {
    received: Mutex<Vec<Received>>,
    fail_next: AtomicUsize,
}

impl Sink {
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
    pub fn fail_next(&self, n: usize) {
        self.fail_next.store(n, Ordering::SeqCst);
    }
}

pub fn router(sink: Arc<Sink>) -> Router {
    Router::new()
        .route("/v1/notify", post(notify).get(list).delete(clear))
        .route("/v1/notify/faults", post(faults))
        .route("/chaos", axum::routing::get(chaos_counts))
        .with_state(sink)
}

async fn notify(
    State(sink): State<Arc<Sink>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> (StatusCode, Json<Value>) {
    let failing = sink
        .fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    let chaos = crate::chaos::chaos().notify_fault();
    if failing || matches!(chaos, Some(crate::chaos::NotifyFault::Unavailable)) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "injected failure"})),
        );
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let duplicate = {
        let mut received = sink.received.lock().unwrap_or_else(|e| e.into_inner());
        let duplicate = key.is_some() && received.iter().any(|r| r.idempotency_key == key);
        received.push(Received {
            received_at: domain::time::format_time(&chrono::Utc::now()),
            idempotency_key: key,
            duplicate,
            body,
        });
        duplicate
    };
    if matches!(chaos, Some(crate::chaos::NotifyFault::Timeout)) {
        // Taken and recorded, answered after the caller gave up: it sends it again.
        tokio::time::sleep(crate::chaos::NOTIFY_HOLD).await;
    }
    (
        StatusCode::ACCEPTED,
        Json(json!({"status": if duplicate { "duplicate" } else { "accepted" }})),
    )
}

async fn list(State(sink): State<Arc<Sink>>) -> Json<Vec<Received>> {
    Json(sink.received())
}

async fn clear(State(sink): State<Arc<Sink>>) -> StatusCode {
    sink.received
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clear();
    StatusCode::NO_CONTENT
}

#[derive(Deserialize)]
struct Faults {
    fail_next: usize,
}

async fn faults(State(sink): State<Arc<Sink>>, Json(f): Json<Faults>) -> StatusCode {
    sink.fail_next(f.fail_next);
    StatusCode::NO_CONTENT
}

/// What the chaos of `DEVSTACK_CHAOS` injected so far, in the whole stack.
async fn chaos_counts() -> Json<crate::chaos::ChaosCounts> {
    Json(crate::chaos::chaos().counts())
}

/// Serves the sink on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, sink: Arc<Sink>) -> std::io::Result<()> {
    axum::serve(listener, router(sink)).await
}
