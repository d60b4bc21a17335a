//! What the order flow needs from storage.

use super::analytics::{AnalyticsDelta, OrderAnalytics};
use super::order::Order;
use super::stock::{Restock, StockLevel, StockMove};
use crate::PortError;
use crate::events::Outbound;
use crate::ids::EventId;
use crate::orders::{OrderId, Sku};
use async_trait::async_trait;

#[async_trait]
pub trait OrderStore: Send + Sync {
    /// The current levels of `skus` (strongly consistent); a SKU the inventory does not hold is
    /// absent from the answer.
    async fn stock(&self, skus: &[Sku]) -> Result<Vec<StockLevel>, PortError>;
    /// Writes the new order, every line's deduction and the event in one transaction. `false`,
    /// writing nothing, when a SKU's level is no longer in the range its move was planned for.
    async fn place(
        &self,
        order: &Order,
        moves: &[StockMove],
        event: &Outbound,
    ) -> Result<bool, PortError>;
    async fn get(&self, id: &OrderId) -> Result<Option<Order>, PortError>;
    /// Writes `next` in place of `prior` with the event and `restock` (added to existing SKUs)
    /// in one transaction, provided the stored order still has `prior`'s version. `false`,
    /// writing nothing, when the order changed since it was read.
    async fn change(
        &self,
        prior: &Order,
        next: &Order,
        restock: &[Restock],
        event: &Outbound,
    ) -> Result<bool, PortError>;
}

#[async_trait]
pub trait Inventory: Send + Sync {
    async fn get(&self, sku: &Sku) -> Result<Option<StockLevel>, PortError>;
    /// Sets a SKU's level and threshold, creating the SKU if needed.
    async fn set(&self, level: &StockLevel) -> Result<(), PortError>;
}

#[async_trait]
pub trait OrderAnalyticsStore: Send + Sync {
    /// Applies the delta of one event once: `false` when that event was applied before.
    async fn apply(&self, event_id: &EventId, delta: &AnalyticsDelta) -> Result<bool, PortError>;
    async fn get(&self) -> Result<OrderAnalytics, PortError>;
}
