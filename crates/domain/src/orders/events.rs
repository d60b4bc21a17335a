//! The events of the order flow.

use super::order::{Order, OrderLine, OrderStatus};
use crate::PortError;
use crate::events::{Delivery, DomainEvent, Event, EventHandler, EventOutbox, Outbound};
use crate::ids::UserId;
use crate::orders::{OrderId, Sku};
use crate::time::serde_time;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A SKU this change took below its low-stock threshold, decided in the change's transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowStockCrossing {
    pub sku: Sku,
    pub available: u32,
    pub threshold: u32,
}

/// An order's status changed (`previous` is absent when it was placed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderStatusChanged {
    pub order_id: OrderId,
    pub customer_id: UserId,
    pub status: OrderStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous: Option<OrderStatus>,
    pub items: Vec<OrderLine>,
    #[serde(with = "serde_time")]
    pub at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub low_stock: Vec<LowStockCrossing>,
}

/// Fans out through the domain-events topic: to the customer's tracking notifications and to
/// the projections (analytics, low-stock alerts).
impl Event for OrderStatusChanged {
    const TYPE: &'static str = "OrderStatusChanged";
    const CHANNEL: &'static str = "domain-events";
}

impl OrderStatusChanged {
    /// The change from `prior` (none when placed) to `order`.
    pub fn of(prior: Option<&Order>, order: &Order, low_stock: Vec<LowStockCrossing>) -> Self {
        Self {
            order_id: order.order_id.clone(),
            customer_id: order.customer_id.clone(),
            status: order.status,
            previous: prior.map(|p| p.status),
            items: order.items.clone(),
            at: order.updated_at,
            low_stock,
        }
    }

    /// One order is one aggregate (one FIFO group); the id derives from the order's version,
    /// which one change only can take.
    pub fn outbound(&self, version: u32) -> Result<Outbound, PortError> {
        let cause = format!("{}#{version}#{}", self.order_id, self.status);
        Outbound::new(self, &cause, self.order_id.as_str(), self.at)
    }
}

/// A SKU's stock fell below its threshold (once per crossing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LowStock {
    pub sku: Sku,
    pub available: u32,
    pub threshold: u32,
    /// The order whose placement crossed it.
    pub order_id: OrderId,
    #[serde(with = "serde_time")]
    pub at: DateTime<Utc>,
}

impl Event for LowStock {
    const TYPE: &'static str = "LowStock";
    const CHANNEL: &'static str = "domain-events";
}

impl LowStock {
    /// Grouped by SKU; the id derives from the crossing order and the SKU, so a redelivered
    /// placement raises the same event.
    pub fn outbound(&self) -> Result<Outbound, PortError> {
        let cause = format!("{}#{}", self.order_id, self.sku);
        Outbound::new(self, &cause, format!("sku#{}", self.sku), self.at)
    }
}

/// Raises the `LowStock` events a placement's transaction recorded.
#[derive(Clone)]
pub struct RaiseLowStock(pub Arc<dyn EventOutbox>);

#[async_trait]
impl EventHandler<OrderStatusChanged> for RaiseLowStock {
    async fn handle(
        &self,
        e: OrderStatusChanged,
        _: &DomainEvent,
        _: Delivery,
    ) -> Result<(), PortError> {
        let events = e
            .low_stock
            .iter()
            .map(|c| {
                LowStock {
                    sku: c.sku.clone(),
                    available: c.available,
                    threshold: c.threshold,
                    order_id: e.order_id.clone(),
                    at: e.at,
                }
                .outbound()
            })
            .collect::<Result<Vec<_>, _>>()?;
        if events.is_empty() {
            return Ok(());
        }
        self.0.emit(&events).await
    }
}
