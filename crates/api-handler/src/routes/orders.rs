use crate::body::{JsonBody, PathParams};
use crate::error::ApiError;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use domain::ids::{OrderId, Sku};
use domain::orders::ports::{Inventory, OrderAnalyticsStore, OrderStore};
use domain::orders::{
    NewOrder, Order, StockLevel, StockSetting, change_status, place_order, status_from_json,
};
use domain::time::format_time;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use tracing::{info, instrument};

/// What the order routes reach the outside world through.
#[derive(Clone)]
pub struct Orders {
    pub store: Arc<dyn OrderStore>,
    pub inventory: Arc<dyn Inventory>,
    pub analytics: Arc<dyn OrderAnalyticsStore>,
}

pub fn router(state: Orders) -> Router {
    Router::new()
        .route("/orders", post(place))
        .route("/orders/{order_id}", get(get_order))
        .route("/orders/{order_id}/status", patch(set_status))
        .route("/inventory/{sku}", get(get_stock).put(put_stock))
        .route("/analytics/orders", get(analytics))
        .with_state(Arc::new(state))
}

/// Ids from one instance increase strictly, even within a millisecond.
static ORDER_IDS: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());

fn next_order_id() -> OrderId {
    let ulid = ORDER_IDS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .generate()
        // Only after 2^80 ids in one millisecond; a fresh random id is still unique.
        .unwrap_or_else(|_| ulid::Ulid::new());
    OrderId::from_ulid(ulid)
}

fn order_id(raw: String) -> Result<OrderId, ApiError> {
    OrderId::parse(raw).map_err(|e| ApiError::invalid_path_id("order_id", e))
}

fn sku(raw: String) -> Result<Sku, ApiError> {
    Sku::parse(raw).map_err(|e| ApiError::invalid_path_id("sku", e))
}

/// `POST /orders`: takes every line from stock with the order, atomically: `201 {"order_id",
/// "status"}`; `409 insufficient_stock` or `422 unknown_sku` naming the lines, taking nothing.
#[instrument(skip_all)]
pub async fn place(
    State(p): State<Arc<Orders>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let new = NewOrder::from_json(&body)?;
    let order = match place_order(&*p.store, next_order_id(), new, chrono::Utc::now()).await {
        Ok(order) => order,
        Err(e) => {
            let e = ApiError::from(e);
            if let ApiError::Refused { code, .. } = &e {
                platform::metrics::order_refused(code);
            }
            return Err(e);
        }
    };
    platform::metrics::order_placed();
    info!(order_id = %order.order_id, lines = order.items.len(), "order placed");
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, format!("/orders/{}", order.order_id))],
        Json(json!({"order_id": order.order_id, "status": order.status})),
    )
        .into_response())
}

/// `GET /orders/{order_id}`: the order with its history.
#[instrument(skip(p))]
pub async fn get_order(
    State(p): State<Arc<Orders>>,
    PathParams(raw): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let id = order_id(raw)?;
    let order = p
        .store
        .get(&id)
        .await?
        .ok_or(domain::orders::OrderError::NotFound(id))?;
    Ok(Json(order_json(&order)))
}

/// `PATCH /orders/{order_id}/status`: `200` with the order, changed or (when it already had
/// the status) as it was; `409 invalid_transition` off the lifecycle.
#[instrument(skip(p, body))]
pub async fn set_status(
    State(p): State<Arc<Orders>>,
    PathParams(raw): PathParams<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let id = order_id(raw)?;
    let to = status_from_json(&body)?;
    let (order, changed) = change_status(&*p.store, &id, to, chrono::Utc::now()).await?;
    info!(order_id = %id, status = %order.status, changed, "order status");
    Ok(Json(order_json(&order)))
}

/// `GET /inventory/{sku}`.
#[instrument(skip(p))]
pub async fn get_stock(
    State(p): State<Arc<Orders>>,
    PathParams(raw): PathParams<String>,
) -> Result<Json<Value>, ApiError> {
    let sku = sku(raw)?;
    let level = p
        .inventory
        .get(&sku)
        .await?
        .ok_or_else(|| ApiError::NotFound {
            code: "sku_not_found",
            message: format!("no SKU {sku}"),
        })?;
    Ok(Json(stock_json(&level)))
}

/// `PUT /inventory/{sku}`: sets the level and the threshold (creating the SKU).
#[instrument(skip(p, body))]
pub async fn put_stock(
    State(p): State<Arc<Orders>>,
    PathParams(raw): PathParams<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let sku = sku(raw)?;
    let setting = StockSetting::from_json(&body)?;
    let level = StockLevel {
        sku,
        available: setting.available,
        low_stock_threshold: setting.low_stock_threshold,
    };
    p.inventory.set(&level).await?;
    info!(sku = %level.sku, available = level.available, "stock set");
    Ok(Json(stock_json(&level)))
}

/// `GET /analytics/orders`.
#[instrument(skip(p))]
pub async fn analytics(State(p): State<Arc<Orders>>) -> Result<Json<Value>, ApiError> {
    let a = p.analytics.get().await?;
    Ok(Json(json!(a)))
}

fn order_json(o: &Order) -> Value {
    json!({
        "order_id": o.order_id,
        "customer_id": o.customer_id,
        "items": o.items,
        "status": o.status,
        "created_at": format_time(&o.created_at),
        "updated_at": format_time(&o.updated_at),
        "history": o.history.iter().map(|h| json!({"status": h.status, "at": format_time(&h.at)})).collect::<Vec<_>>(),
    })
}

fn stock_json(l: &StockLevel) -> Value {
    json!({
        "sku": l.sku,
        "available": l.available,
        "low_stock_threshold": l.low_stock_threshold,
        "low_stock": l.is_low(),
    })
}
