use crate::body::{JsonBody, PathParams};
use crate::error::ApiError;
use crate::flow::{ApiFlow, FlowRoutes, Routes, next_ulid};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::tasks::TaskId;
use domain::tasks::ports::TaskStore;
use domain::tasks::{NewTask, Task, TaskGroup, submit_task};
use platform::ConfigError;
use platform::config::Vars;
use platform::dynamo::task_store::DynamoTaskStore;
use platform::wiring::Aws;
use serde_json::{Value, json};
use std::sync::Arc;
use tracing::{info, instrument};

/// What the task routes reach the outside world through.
#[derive(Clone)]
pub struct Tasks {
    pub store: Arc<dyn TaskStore>,
    /// The message group every task travels in.
    pub group: TaskGroup,
}

pub const FLOW: ApiFlow = ApiFlow {
    name: "tasks",
    field_codes: domain::tasks::FIELD_CODES,
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(aws: &Aws) -> Result<Routes, ConfigError> {
    let store = DynamoTaskStore::new(
        aws.dynamo.clone(),
        aws.vars.table("tasks")?,
        aws.vars.table("outbox")?,
    );
    Ok(routes(Tasks {
        store: Arc::new(store),
        group: task_group(aws.vars)?,
    }))
}

/// `TASK_MESSAGE_GROUP`, default `tasks`: the one message group of the task stream.
fn task_group(vars: &Vars) -> Result<TaskGroup, ConfigError> {
    let raw = vars.parsed_or("TASK_MESSAGE_GROUP", TaskGroup::DEFAULT.to_owned())?;
    TaskGroup::parse(&raw).ok_or(ConfigError::Invalid {
        name: "TASK_MESSAGE_GROUP".into(),
        value: raw,
        reason: "1-128 printable ASCII characters without spaces".into(),
    })
}

#[cfg(any(test, feature = "memory"))]
fn in_memory(ports: &platform::wiring::Ports) -> Routes {
    routes(Tasks {
        store: ports.port::<domain::tasks::memory::InMemoryTaskStore>(),
        group: TaskGroup::clone(&ports.port::<TaskGroup>()),
    })
}

pub fn routes(state: Tasks) -> Routes {
    FlowRoutes::default()
        .post("/tasks", submit)
        .get("/tasks/{task_id}", get_task)
        .with_state(Arc::new(state))
}

/// `POST /tasks`: validates and sanitizes, then stores the task as `queued` with the event that
/// queues it, in one transaction: `202 {"task_id"}` once it is durably queued.
#[instrument(skip_all)]
pub async fn submit(
    State(p): State<Arc<Tasks>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let new = NewTask::from_json(&body)?;
    let task = submit_task(
        &*p.store,
        TaskId::from_ulid(next_ulid()),
        new,
        &p.group,
        chrono::Utc::now(),
    )
    .await?;
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
    PathParams(id): PathParams<TaskId>,
) -> Result<Json<Value>, ApiError> {
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

#[cfg(test)]
mod tests;
