use crate::body::{JsonBody, PathParams};
use crate::error::ApiError;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::fitness::ports::{AppEventQueue, FitnessView};
use domain::fitness::{AppEvent, EventTypes};
use domain::ids::UserId;
use domain::{FieldCode, PortError, Problems};
use serde_json::{Value, json};
use std::sync::Arc;
use tracing::{info, instrument};

/// The most events `POST /v1/events` takes at once.
pub const MAX_BATCH: usize = 25;

/// What the fitness routes reach the outside world through.
#[derive(Clone)]
pub struct Fitness {
    pub queue: Arc<dyn AppEventQueue>,
    pub view: Arc<dyn FitnessView>,
    /// The known event types, whose payloads the edge reads.
    pub types: Arc<EventTypes>,
}

pub fn router(state: Fitness) -> Router {
    Router::new()
        .route("/v1/event", post(post_event))
        .route("/v1/events", post(post_events))
        .route("/v1/users/{user_id}/activity", get(activity))
        .route("/v1/event-types", get(event_types))
        .with_state(Arc::new(state))
}

/// `POST /v1/event`: the legacy or the versioned shape; `202 {"event_id"}` once the event is on
/// the ingest queue (grouped by user, de-duplicated by its id).
#[instrument(skip_all)]
pub async fn post_event(
    State(p): State<Arc<Fitness>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let event = AppEvent::from_json(&body, &p.types)?;
    let queued = p.queue.enqueue(std::slice::from_ref(&event)).await;
    queued
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(PortError::Retryable("the queue answered nothing".into())))?;
    info!(event_id = %event.event_id, event_type = %event.type_name, "app event queued");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"event_id": event.event_id})),
    )
        .into_response())
}

/// `POST /v1/events` with `{"events": [...]}` (1 to 25, either shape each): every event is
/// read and queued on its own, in order, with a result per event. `202` when all were queued,
/// `207` when some were not (their results carry the error body and status).
#[instrument(skip_all)]
pub async fn post_events(
    State(p): State<Arc<Fitness>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let mut problems = Problems::new("event batch");
    let root = problems.root(&body)?;
    let field = root.field("events");
    let items: Vec<Value> = problems
        .array(
            &field,
            1..=MAX_BATCH,
            FieldCode::NoItems,
            FieldCode::TooManyItems,
        )
        .map(|items| items.iter().filter_map(|f| f.value.cloned()).collect())
        .unwrap_or_default();
    problems.finish(|| Some(()))?;
    let read: Vec<Result<AppEvent, ApiError>> = items
        .iter()
        .map(|v| AppEvent::from_json(v, &p.types).map_err(ApiError::from))
        .collect();
    let valid: Vec<AppEvent> = read
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    let mut queued = p.queue.enqueue(&valid).await.into_iter();
    let mut all_accepted = true;
    let results: Vec<Value> = read
        .into_iter()
        .enumerate()
        .map(|(index, r)| {
            let outcome = r.and_then(|e| {
                queued
                    .next()
                    .unwrap_or_else(|| Err(PortError::Retryable("not queued".into())))
                    .map(|()| e.event_id)
                    .map_err(ApiError::from)
            });
            match outcome {
                Ok(event_id) => {
                    json!({"index": index, "status": 202, "event_id": event_id})
                }
                Err(e) => {
                    all_accepted = false;
                    let (status, mut body) = e.status_and_body();
                    body["index"] = json!(index);
                    body["status"] = json!(status.as_u16());
                    body
                }
            }
        })
        .collect();
    let status = if all_accepted {
        StatusCode::ACCEPTED
    } else {
        StatusCode::MULTI_STATUS
    };
    Ok((status, Json(json!({"results": results}))).into_response())
}

/// `GET /v1/users/{user_id}/activity`: sessions, launches with their nudge, unknown-type counts.
#[instrument(skip(p))]
pub async fn activity(
    State(p): State<Arc<Fitness>>,
    PathParams(user_id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let user = UserId::parse(user_id).map_err(|e| ApiError::invalid_path_id("user_id", e))?;
    let a = p.view.activity(&user).await?;
    let mut body = serde_json::to_value(&a).map_err(|e| PortError::Permanent(e.to_string()))?;
    body["user_id"] = json!(user);
    Ok(Json(body))
}

/// `GET /v1/event-types`: the types this service handles, and the unknown ones received with
/// their counts.
#[instrument(skip(p))]
pub async fn event_types(State(p): State<Arc<Fitness>>) -> Result<Json<Value>, ApiError> {
    let unknown = p.view.unknown_type_counts().await?;
    Ok(Json(json!({
        "known": p.types.names().collect::<Vec<_>>(),
        "unknown": unknown,
    })))
}
