use crate::body::{JsonBody, PathParams};
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use domain::ids::{ReturnId, UserId};
use domain::rentals::ports::{RentalStore, ReturnQueue, StatsView};
use domain::rentals::stats::UserStats;
use domain::rentals::{Rental, ReturnRecord, ReturnScan};
use serde_json::{Value, json};
use std::sync::Arc;
use tracing::{instrument, warn};

/// What the rental routes reach the outside world through.
#[derive(Clone)]
pub struct Rentals {
    pub store: Arc<dyn RentalStore>,
    pub stats: Arc<dyn StatsView>,
    pub returns: Arc<dyn ReturnQueue>,
}

pub fn router(state: Rentals) -> Router {
    Router::new()
        .route("/rentals/returns", post(submit_return))
        .route("/rentals/returns/{return_id}", get(get_return))
        .route("/users/{user_id}/rentals", get(list_rentals))
        .route("/users/{user_id}/stats", get(user_stats))
        .with_state(Arc::new(state))
}

/// `POST /rentals/returns`: validates the scan, queues it durably and answers `202` with the
/// scan's id. Processing happens asynchronously; the same scan always gets the same id and is
/// processed once.
#[instrument(skip_all)]
pub async fn submit_return(
    State(p): State<Arc<Rentals>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let scan = ReturnScan::from_json(&body)?;
    let return_id = scan.return_id();
    p.returns.enqueue(&scan).await?;
    // The scan is durably queued: that is the promise of 202. The pending record only lets
    // readers tell "queued" from "unknown"; failing to write it must not fail the request.
    if let Err(e) = p.store.record_pending(&ReturnRecord::pending(scan)).await {
        warn!(error = %e, %return_id, "could not record pending return");
    }
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, format!("/rentals/returns/{return_id}"))],
        Json(json!({"return_id": return_id})),
    )
        .into_response())
}

/// `GET /rentals/returns/{return_id}`
#[instrument(skip(p))]
pub async fn get_return(
    State(p): State<Arc<Rentals>>,
    PathParams(return_id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let id = ReturnId::parse(return_id).map_err(|e| ApiError::invalid_path_id("return_id", e))?;
    let record = p
        .store
        .find_return(&id)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            code: "return_not_found",
            message: format!("no return {id}"),
        })?;
    let mut body = serde_json::to_value(&record.state)
        .map_err(|e| domain::PortError::Permanent(e.to_string()))?;
    body["return_id"] = json!(record.return_id);
    Ok(Json(body))
}

/// `GET /users/{user_id}/rentals`: the user's rentals, oldest first.
#[instrument(skip(p))]
pub async fn list_rentals(
    State(p): State<Arc<Rentals>>,
    PathParams(user_id): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let user = UserId::parse(user_id).map_err(|e| ApiError::invalid_path_id("user_id", e))?;
    let mut rentals = p.store.rentals_of(&user).await?;
    // Rentals only exist for known users: the user is looked up only when there are none, so
    // the common read is one DynamoDB call.
    if rentals.is_empty() {
        known_user(&p, &user).await?;
    }
    rentals.sort_by(Rental::oldest_first);
    let rentals: Vec<Value> = rentals.iter().map(rental_json).collect();
    Ok(Json(json!({ "rentals": rentals })))
}

/// `GET /users/{user_id}/stats`: returns count, on-time returns, reward points.
#[instrument(skip(p))]
pub async fn user_stats(
    State(p): State<Arc<Rentals>>,
    PathParams(user_id): PathParams<String>,
) -> Result<Json<UserStats>, ApiError> {
    let user = UserId::parse(user_id).map_err(|e| ApiError::invalid_path_id("user_id", e))?;
    // Stats only exist for known users: as for rentals, the user is looked up only without them.
    let stats = match p.stats.get(&user).await? {
        Some(stats) => stats,
        None => {
            known_user(&p, &user).await?;
            UserStats::empty(user)
        }
    };
    Ok(Json(stats))
}

/// `404 user_not_found` unless `user` is one of the reference users.
async fn known_user(p: &Rentals, user: &UserId) -> Result<(), ApiError> {
    match p.store.find_user(user).await? {
        Some(_) => Ok(()),
        None => Err(ApiError::NotFound {
            code: "user_not_found",
            message: format!("no user {user}"),
        }),
    }
}

fn rental_json(r: &Rental) -> Value {
    use domain::time::format_time;
    json!({
        "rental_id": r.rental_id,
        "user_id": r.user_id,
        "asset_id": r.asset_id,
        "status": r.status,
        "created_at": format_time(&r.created_at),
        "expires_at": format_time(&r.expires_at),
        "eligible_asset_types": r.eligible_asset_types,
        "returned_at": r.returned_at.as_ref().map(format_time),
        "returned_at_location_id": r.returned_at_location_id,
    })
}
