use crate::body::{JsonBody, PathParams};
use crate::error::ApiError;
use crate::flow::{ApiFlow, FlowRoutes, Routes, next_ulid};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::FieldError;
use domain::orders::ports::{Inventory, OrderAnalyticsStore, OrderStore};
use domain::orders::{
    NewOrder, Order, StockLevel, StockSetting, change_status, place_order, status_from_json,
};
use domain::orders::{OrderId, Sku};
use domain::time::format_time;
use platform::ConfigError;
use platform::dynamo::order_store::{DynamoOrderAnalytics, DynamoOrderStore};
use platform::wiring::Aws;
use serde_json::{Value, json};
use std::sync::Arc;
use tracing::{info, instrument};

/// Orders placed, as topology.json declares them for the api-handler.
pub const ORDERS_PLACED: &str = "OrdersPlaced";
/// Orders refused, with the label `reason`: the refusal's code (`unknown_sku`,
/// `insufficient_stock`).
pub const ORDERS_REFUSED: &str = "OrdersRefused";

/// What the order routes reach the outside world through.
#[derive(Clone)]
pub struct Orders {
    pub store: Arc<dyn OrderStore>,
    pub inventory: Arc<dyn Inventory>,
    pub analytics: Arc<dyn OrderAnalyticsStore>,
}

pub const FLOW: ApiFlow = ApiFlow {
    name: "orders",
    field_codes: domain::orders::FIELD_CODES,
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(aws: &Aws) -> Result<Routes, ConfigError> {
    let (dynamo, vars) = (&aws.dynamo, aws.vars);
    let store = Arc::new(DynamoOrderStore::new(
        dynamo.clone(),
        vars.table("orders")?,
        vars.table("inventory")?,
        vars.table("outbox")?,
    ));
    Ok(routes(Orders {
        store: store.clone(),
        inventory: store,
        analytics: Arc::new(DynamoOrderAnalytics::reader(
            dynamo.clone(),
            vars.table("order-analytics")?,
        )),
    }))
}

#[cfg(any(test, feature = "memory"))]
fn in_memory(ports: &platform::wiring::Ports) -> Routes {
    use domain::orders::memory::{InMemoryOrderAnalytics, InMemoryOrders};
    let orders = ports.port::<InMemoryOrders>();
    routes(Orders {
        store: orders.clone(),
        inventory: orders,
        analytics: ports.port::<InMemoryOrderAnalytics>(),
    })
}

pub fn routes(state: Orders) -> Routes {
    FlowRoutes::default()
        .post("/orders", place)
        .get("/orders/{order_id}", get_order)
        .patch("/orders/{order_id}/status", set_status)
        .get("/inventory/{sku}", get_stock)
        .put("/inventory/{sku}", put_stock)
        .get("/analytics/orders", analytics)
        .with_state(Arc::new(state))
}

/// `POST /orders`: takes every line from stock with the order, atomically: `201 {"order_id",
/// "status"}`; `409 insufficient_stock` or `422 unknown_sku` naming the lines, taking nothing.
#[instrument(skip_all)]
pub async fn place(
    State(p): State<Arc<Orders>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let new = NewOrder::from_json(&body)?;
    let order = match place_order(
        &*p.store,
        OrderId::from_ulid(next_ulid()),
        new,
        chrono::Utc::now(),
    )
    .await
    {
        Ok(order) => order,
        Err(e) => {
            let e = ApiError::from(e);
            if let ApiError::Refused { code, .. } = &e {
                platform::metrics::count(ORDERS_REFUSED, &[("reason", code)]);
            }
            return Err(e);
        }
    };
    platform::metrics::count(ORDERS_PLACED, &[]);
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
    PathParams(id): PathParams<OrderId>,
) -> Result<Json<Value>, ApiError> {
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
    PathParams(id): PathParams<OrderId>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let to = status_from_json(&body)?;
    let (order, changed) = change_status(&*p.store, &id, to, chrono::Utc::now()).await?;
    info!(order_id = %id, status = %order.status, changed, "order status");
    Ok(Json(order_json(&order)))
}

/// `GET /inventory/{sku}`.
#[instrument(skip(p))]
pub async fn get_stock(
    State(p): State<Arc<Orders>>,
    PathParams(sku): PathParams<Sku>,
) -> Result<Json<Value>, ApiError> {
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
    PathParams(sku): PathParams<Sku>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
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

/// The order flow's refusals (`409`, `422` with a detail per line), in the API's error shape.
impl From<domain::orders::OrderError> for ApiError {
    fn from(e: domain::orders::OrderError) -> Self {
        use domain::FieldCode;
        match e {
            domain::orders::OrderError::UnknownSku(lines) => Self::Refused {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code: "unknown_sku",
                message: "the inventory holds no such SKU".into(),
                details: lines
                    .into_iter()
                    .map(|(i, sku)| {
                        FieldError::new(
                            format!("items[{i}].sku"),
                            FieldCode::UNKNOWN_SKU,
                            format!("no SKU {sku}"),
                        )
                    })
                    .collect(),
            },
            domain::orders::OrderError::InsufficientStock(short) => Self::Refused {
                status: StatusCode::CONFLICT,
                code: "insufficient_stock",
                message: "not enough stock for every line; nothing was taken".into(),
                details: short
                    .into_iter()
                    .map(|s| {
                        FieldError::new(
                            format!("items[{}].sku", s.line),
                            FieldCode::INSUFFICIENT_STOCK,
                            format!(
                                "{}: {} requested, {} available",
                                s.sku, s.requested, s.available
                            ),
                        )
                    })
                    .collect(),
            },
            domain::orders::OrderError::NotFound(id) => Self::NotFound {
                code: "order_not_found",
                message: format!("no order {id}"),
            },
            e @ domain::orders::OrderError::InvalidTransition { .. } => Self::Refused {
                status: StatusCode::CONFLICT,
                code: "invalid_transition",
                message: e.to_string(),
                details: vec![],
            },
            domain::orders::OrderError::Port(e) => Self::Port(e),
        }
    }
}

#[cfg(test)]
mod metrics {
    use super::*;
    use platform::topology::Topology;

    #[test]
    fn the_order_metrics_are_declared_for_the_api_handler() {
        let topology = Topology::system().unwrap();
        topology
            .declares_metric("api-handler", ORDERS_PLACED, &[])
            .unwrap();
        topology
            .declares_metric("api-handler", ORDERS_REFUSED, &["reason"])
            .unwrap();
    }
}

#[cfg(test)]
mod tests;
