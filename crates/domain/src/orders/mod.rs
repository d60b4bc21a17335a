//! Flow 5: food orders and their inventory. Placing an order takes every line's units from stock
//! in one transaction with the order and its event, or takes nothing; a cancellation puts them
//! back the same way. An order moves `placed → preparing → out_for_delivery → delivered`, and
//! may be cancelled while `placed` or `preparing`. A SKU crossing its low-stock threshold is
//! decided inside the transaction that crosses it, so each crossing is reported once.

pub mod analytics;
pub mod events;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
mod notification;
mod order;
pub mod ports;
mod service;
mod stock;
mod validation;

pub use analytics::{AnalyticsDelta, CountOrders, OrderAnalytics};
pub use events::{LowStock, LowStockCrossing, OrderStatusChanged, RaiseLowStock};
pub use order::{NewOrder, Order, OrderLine, OrderStatus, StatusChange, Transition};
pub use service::{OrderError, PLACE_ATTEMPTS, change_status, place_order};
pub use stock::{Expect, Shortage, StockLevel, StockMove, StockPlan, holds, plan_stock};
pub use validation::{MAX_LINES, MAX_QUANTITY, StockSetting, status_from_json};
