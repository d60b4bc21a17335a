use crate::body::{JsonBody, PathParams};
use crate::caller::AppUser;
use crate::error::ApiError;
use crate::flow::{ApiFlow, FlowRoutes, Routes};
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use domain::PortError;
use domain::fitness::ports::{AppEventQueue, FitnessView};
use domain::fitness::{EventTypes, batch_items, ingest_batch, ingest_event};
use domain::ids::UserId;
use platform::ConfigError;
use platform::dynamo::fitness_store::DynamoFitnessStore;
use platform::sqs::FifoSender;
use platform::wiring::Aws;
use serde_json::{Value, json};
use std::sync::Arc;
use tracing::{info, instrument};

/// What the fitness routes reach the outside world through.
#[derive(Clone)]
pub struct Fitness {
    pub queue: Arc<dyn AppEventQueue>,
    pub view: Arc<dyn FitnessView>,
    /// The known event types, whose payloads the edge reads.
    pub types: Arc<EventTypes>,
}

pub const FLOW: ApiFlow = ApiFlow {
    name: "fitness",
    field_codes: &[],
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(aws: &Aws) -> Result<Routes, ConfigError> {
    Ok(routes(Fitness {
        queue: Arc::new(FifoSender::new(
            aws.sqs.clone(),
            aws.vars.queue_url("fitness-events")?,
        )),
        view: Arc::new(DynamoFitnessStore::reader(
            aws.dynamo.clone(),
            aws.vars.table("fitness")?,
        )),
        types: Arc::new(domain::fitness::event_types()),
    }))
}

#[cfg(any(test, feature = "memory"))]
fn in_memory(ports: &platform::wiring::Ports) -> Routes {
    use domain::fitness::memory::{InMemoryAppEventQueue, InMemoryFitness};
    routes(Fitness {
        queue: ports.port::<InMemoryAppEventQueue>(),
        view: ports.port::<InMemoryFitness>(),
        types: Arc::new(domain::fitness::event_types()),
    })
}

pub fn routes(state: Fitness) -> Routes {
    FlowRoutes::default()
        .post("/v1/event", post_event)
        .post("/v1/events", post_events)
        .get("/v1/users/{user_id}/activity", activity)
        .get("/v1/event-types", event_types)
        .with_state(Arc::new(state))
}

/// `POST /v1/event`: the legacy or the versioned shape; `202 {"event_id"}` once the event is on
/// the ingest queue (grouped by user, de-duplicated by its id). `403` for an event of another
/// user than the token's.
#[instrument(skip_all)]
pub async fn post_event(
    State(p): State<Arc<Fitness>>,
    AppUser(sender): AppUser,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let event = ingest_event(&*p.queue, &p.types, &body, &sender).await?;
    info!(event_id = %event.event_id, event_type = %event.type_name, "app event queued");
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"event_id": event.event_id})),
    )
        .into_response())
}

/// `POST /v1/events` with `{"events": [...]}` (1 to 25, either shape each): every event is
/// read and queued on its own, in order, with a result per event. `202` when all were queued,
/// `207` when some were not (their results carry the error body and status: `403` for an event
/// of another user than the token's).
#[instrument(skip_all)]
pub async fn post_events(
    State(p): State<Arc<Fitness>>,
    AppUser(sender): AppUser,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let items = batch_items(&body)?;
    let outcomes = ingest_batch(&*p.queue, &p.types, &items, &sender).await;
    let all_accepted = outcomes.iter().all(Result::is_ok);
    let results: Vec<Value> = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Ok(event_id) => json!({"index": index, "status": 202, "event_id": event_id}),
            Err(refused) => {
                let (status, mut body) = ApiError::from(refused).status_and_body();
                body["index"] = json!(index);
                body["status"] = json!(status.as_u16());
                body
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

/// `GET /v1/users/{user_id}/activity`: sessions, launches with their nudge, unknown-type counts;
/// the token's user's own only (`403` for another's).
#[instrument(skip(p, caller))]
pub async fn activity(
    State(p): State<Arc<Fitness>>,
    caller: AppUser,
    PathParams(user): PathParams<UserId>,
) -> Result<Json<Value>, ApiError> {
    caller.may_act_as(&user, "the activity")?;
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

/// An event this flow did not take in, in the API's error shape.
impl From<domain::fitness::Refused> for ApiError {
    fn from(e: domain::fitness::Refused) -> Self {
        match e {
            domain::fitness::Refused::Invalid(v) => Self::Validation(v),
            domain::fitness::Refused::NotYours(_) => Self::Forbidden {
                message: "an event of another user than the token's".into(),
            },
            domain::fitness::Refused::NotQueued(p) => Self::Port(p),
        }
    }
}

#[cfg(test)]
mod tests;
