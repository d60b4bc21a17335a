//! Flow 5: food orders and their inventory. Placing an order takes every line's units from stock
//! in one transaction with the order and its event, or takes nothing; a cancellation puts them
//! back the same way. An order moves `placed → preparing → out_for_delivery → delivered`, and
//! may be cancelled while `placed` or `preparing`. A SKU crossing its low-stock threshold is
//! decided inside the transaction that crosses it, so each crossing is reported once.

pub mod analytics;
pub mod events;
mod ids;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
mod notification;
mod order;
pub mod ports;
mod service;
mod stock;
mod validation;

pub use ids::{OrderId, Sku};

pub use analytics::{AnalyticsDelta, CountOrders, OrderAnalytics};
pub use events::{LowStock, LowStockCrossing, OrderStatusChanged, RaiseLowStock};

/// The events someone is told about: the customer of a status change, the kitchen of low stock
/// (each a [`crate::notifications::Notify`]).
pub type Notified = (OrderStatusChanged, LowStock);
pub use order::{NewOrder, Order, OrderLine, OrderStatus, StatusChange, Transition};
pub use service::{OrderError, change_status, place_order};
pub use stock::{
    Expect, Restock, Shortage, StockLevel, StockMove, StockPlan, holds, plan_restock, plan_stock,
};
pub use validation::{
    CODES as FIELD_CODES, MAX_LINES, MAX_QUANTITY, StockSetting, status_from_json,
};

/// The bodies this flow reads from outside (see [`crate::edge`]).
pub const EDGE: crate::edge::Edge = crate::edge::Edge {
    json: &[
        crate::edge::Parser {
            name: "order",
            parse: |v| NewOrder::from_json(v).map(drop),
            sample: r#"{"customer_id": "c1", "items": [{"sku": "s1", "quantity": 1}]}"#,
            fields: &["customer_id", "items", "sku", "quantity"],
        },
        crate::edge::Parser {
            name: "order status",
            parse: |v| status_from_json(v).map(drop),
            sample: r#"{"status": "preparing"}"#,
            fields: &["status"],
        },
        crate::edge::Parser {
            name: "stock setting",
            parse: |v| StockSetting::from_json(v).map(drop),
            sample: r#"{"available": 3, "low_stock_threshold": 1}"#,
            fields: &["available", "low_stock_threshold"],
        },
    ],
    text: &[],
};
