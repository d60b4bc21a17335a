use crate::body::{JsonBody, PathParams};
use crate::caller::Caller;
use crate::error::ApiError;
use crate::flow::{ApiFlow, FlowRoutes, Routes};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::ids::UserId;
use domain::rentals::ReturnId;
use domain::rentals::ports::{RentalStore, ReturnQueue, StatsView};
use domain::rentals::stats::UserStats;
use domain::rentals::{Rental, ReturnScan, submit_return_scan};
use platform::ConfigError;
use platform::dynamo::rental_store::{DynamoRentalStore, RentalTables};
use platform::dynamo::stats_store::DynamoStatsView;
use platform::sqs::FifoSender;
use platform::wiring::Aws;
use serde_json::{Value, json};
use std::sync::Arc;
use tracing::instrument;

/// What the rental routes reach the outside world through.
#[derive(Clone)]
pub struct Rentals {
    pub store: Arc<dyn RentalStore>,
    pub stats: Arc<dyn StatsView>,
    pub returns: Arc<dyn ReturnQueue>,
}

pub const FLOW: ApiFlow = ApiFlow {
    name: "rentals",
    field_codes: &[],
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(aws: &Aws) -> Result<Routes, ConfigError> {
    let (dynamo, vars) = (&aws.dynamo, aws.vars);
    Ok(routes(Rentals {
        store: Arc::new(DynamoRentalStore::new(
            dynamo.clone(),
            RentalTables::from_vars(vars)?,
        )),
        stats: Arc::new(DynamoStatsView::new(
            dynamo.clone(),
            vars.table("user-stats")?,
        )),
        returns: Arc::new(FifoSender::new(
            aws.sqs.clone(),
            vars.queue_url("rental-returns")?,
        )),
    }))
}

#[cfg(any(test, feature = "memory"))]
fn in_memory(ports: &platform::wiring::Ports) -> Routes {
    use domain::rentals::memory::{InMemoryRentalStore, InMemoryReturnQueue, InMemoryStatsStore};
    routes(Rentals {
        store: ports.port::<InMemoryRentalStore>(),
        stats: ports.port::<InMemoryStatsStore>(),
        returns: ports.port::<InMemoryReturnQueue>(),
    })
}

pub fn routes(state: Rentals) -> Routes {
    FlowRoutes::default()
        .post("/rentals/returns", submit_return)
        .get("/rentals/returns/{return_id}", get_return)
        .get("/users/{user_id}/rentals", list_rentals)
        .get("/users/{user_id}/stats", user_stats)
        .with_state(Arc::new(state))
}

/// `POST /rentals/returns`: validates the scan, queues it durably and answers `202` with the
/// scan's id. Processing happens asynchronously; the same scan always gets the same id and is
/// processed once. The return records the bin that sent it (its API key's id).
#[instrument(skip_all)]
pub async fn submit_return(
    State(p): State<Arc<Rentals>>,
    caller: Caller,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let bin = match caller {
        Caller::ReturnBin(key_id) => Some(key_id),
        _ => None,
    };
    let scan = ReturnScan::from_json(&body)?.from_bin(bin);
    let return_id = submit_return_scan(&*p.returns, &*p.store, scan).await?;
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
    PathParams(id): PathParams<ReturnId>,
) -> Result<Json<Value>, ApiError> {
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
    if let Some(bin) = &record.scan.bin {
        body["bin"] = json!(bin);
    }
    Ok(Json(body))
}

/// `GET /users/{user_id}/rentals`: the user's rentals, oldest first.
#[instrument(skip(p))]
pub async fn list_rentals(
    State(p): State<Arc<Rentals>>,
    PathParams(user): PathParams<UserId>,
) -> Result<Json<Value>, ApiError> {
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
    PathParams(user): PathParams<UserId>,
) -> Result<Json<UserStats>, ApiError> {
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

#[cfg(test)]
mod tests;
