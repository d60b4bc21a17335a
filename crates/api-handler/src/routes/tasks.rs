use crate::body::{JsonBody, PathParams};
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::ids::TaskId;
use domain::tasks::ports::TaskStore;
use domain::tasks::{NewTask, Task, TaskGroup, submit_task};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tracing::{info, instrument};

/// What the task routes reach the outside world through.
#[derive(Clone)]
pub struct Tasks {
    pub store: Arc<dyn TaskStore>,
    /// The message group every task travels in.
    pub group: TaskGroup,
}

pub fn router(state: Tasks) -> Router {
    Router::new()
        .route("/tasks", post(submit))
        .route("/tasks/{task_id}", get(get_task))
        .with_state(Arc::new(state))
}

/// Ids from one instance increase strictly, even within a millisecond.
static TASK_IDS: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());

fn next_task_id() -> TaskId {
    let ulid = TASK_IDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .generate()
        // Only after 2^80 ids in one millisecond; a fresh random id is still unique.
        .unwrap_or_else(|_| ulid::Ulid::new());
    TaskId::from_ulid(ulid)
}

/// `POST /tasks`: validates and sanitizes, then stores the task as `queued` with the event that
/// queues it, in one transaction: `202 {"task_id"}` once it is durably queued.
#[instrument(skip_all)]
pub async fn submit(
    State(p): State<Arc<Tasks>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let new = NewTask::from_json(&body)?;
    let task = submit_task(&*p.store, next_task_id(), new, &p.group, chrono::Utc::now()).await?;
    info!(task_id = %task.task_id, priority = ?task.priority, "task queued");
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/tasks/{}", task.task_id))],
        Json(json!({"task_id": task.task_id})),
    )
        .into_response())
}

/// `GET /tasks/{task_id}`: the task, its status and, once processing started, its position in
/// processing order.
#[instrument(skip(p))]
pub async fn get_task(
    State(p): State<Arc<Tasks>>,
    PathParams(raw): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let id = TaskId::parse(raw).map_err(|e| ApiError::invalid_path_id("task_id", e))?;
    let task = p.store.get(&id).await?.ok_or_else(|| ApiError::NotFound {
        code: "task_not_found",
        message: format!("no task {id}"),
    })?;
    Ok(Json(task_json(&task)))
}

/// The stored shape, with every optional field present (null until set) so clients see one
/// schema.
fn task_json(t: &Task) -> Value {
    let time =
        |v: &Option<chrono::DateTime<chrono::Utc>>| v.as_ref().map(domain::time::format_time);
    json!({
        "task_id": t.task_id,
        "title": t.title,
        "description": t.description,
        "priority": t.priority,
        "due_date": time(&t.due_date),
        "status": t.status,
        "sequence": t.sequence,
        "attempts": t.attempts,
        "last_error": t.last_error,
        "created_at": domain::time::format_time(&t.created_at),
        "started_at": time(&t.started_at),
        "finished_at": time(&t.finished_at),
    })
}
