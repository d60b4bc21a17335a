//! The order flow's ports in memory, writing under the DynamoDB adapter's conditions.

use super::analytics::{AnalyticsDelta, OrderAnalytics};
use super::order::Order;
use super::ports::{Inventory, OrderAnalyticsStore, OrderStore};
use super::stock::{Restock, StockLevel, StockMove, holds};
use crate::PortError;
use crate::events::{DomainEvent, EventOutbox, Outbound};
use crate::ids::EventId;
use crate::orders::{OrderId, Sku};
use async_trait::async_trait;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct State {
    orders: BTreeMap<OrderId, Order>,
    stock: BTreeMap<Sku, StockLevel>,
    events: Vec<DomainEvent>,
}

/// Orders and inventory in one lock, as one DynamoDB transaction covers both.
#[derive(Default)]
pub struct InMemoryOrders {
    state: Mutex<State>,
}

impl InMemoryOrders {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn put_level(&self, level: StockLevel) {
        self.lock().stock.insert(level.sku.clone(), level);
    }

    pub fn available(&self, sku: &str) -> Option<u32> {
        let sku = Sku::parse(sku).ok()?;
        self.lock().stock.get(&sku).map(|l| l.available)
    }

    pub fn events(&self) -> Vec<DomainEvent> {
        self.lock().events.clone()
    }
}

#[async_trait]
impl OrderStore for InMemoryOrders {
    async fn stock(&self, skus: &[Sku]) -> Result<Vec<StockLevel>, PortError> {
        let s = self.lock();
        Ok(skus
            .iter()
            .filter_map(|k| s.stock.get(k).cloned())
            .collect())
    }

    async fn place(
        &self,
        order: &Order,
        moves: &[StockMove],
        event: &Outbound,
    ) -> Result<bool, PortError> {
        let mut s = self.lock();
        if s.orders.contains_key(&order.order_id) {
            return Err(PortError::Retryable(format!(
                "order id {} is taken",
                order.order_id
            )));
        }
        let all_hold = moves
            .iter()
            .all(|m| s.stock.get(&m.sku).is_some_and(|l| holds(m, l)));
        if !all_hold {
            return Ok(false);
        }
        for m in moves {
            if let Some(l) = s.stock.get_mut(&m.sku) {
                l.available -= m.quantity;
            }
        }
        s.orders.insert(order.order_id.clone(), order.clone());
        s.events.push(event.event.clone());
        Ok(true)
    }

    async fn get(&self, id: &OrderId) -> Result<Option<Order>, PortError> {
        Ok(self.lock().orders.get(id).cloned())
    }

    async fn change(
        &self,
        prior: &Order,
        next: &Order,
        restock: &[Restock],
        event: &Outbound,
    ) -> Result<bool, PortError> {
        let mut s = self.lock();
        let current = s.orders.get(&prior.order_id).map(|o| o.version);
        if current != Some(prior.version) {
            return Ok(false);
        }
        if let Some(missing) = restock.iter().find(|r| !s.stock.contains_key(&r.sku)) {
            return Err(PortError::Permanent(format!(
                "no SKU {} to restock",
                missing.sku
            )));
        }
        for r in restock {
            if let Some(level) = s.stock.get_mut(&r.sku) {
                level.available += r.quantity;
            }
        }
        s.orders.insert(next.order_id.clone(), next.clone());
        s.events.push(event.event.clone());
        Ok(true)
    }
}

#[async_trait]
impl Inventory for InMemoryOrders {
    async fn get(&self, sku: &Sku) -> Result<Option<StockLevel>, PortError> {
        Ok(self.lock().stock.get(sku).cloned())
    }

    async fn set(&self, level: &StockLevel) -> Result<(), PortError> {
        self.put_level(level.clone());
        Ok(())
    }
}

/// Analytics counters and the events applied.
#[derive(Default)]
pub struct InMemoryOrderAnalytics {
    state: Mutex<(BTreeMap<String, i64>, BTreeSet<EventId>)>,
}

#[async_trait]
impl OrderAnalyticsStore for InMemoryOrderAnalytics {
    async fn apply(&self, event_id: &EventId, delta: &AnalyticsDelta) -> Result<bool, PortError> {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !s.1.insert(event_id.clone()) {
            return Ok(false);
        }
        for (k, v) in &delta.counters {
            *s.0.entry(k.clone()).or_insert(0) += v;
        }
        Ok(true)
    }

    async fn get(&self) -> Result<OrderAnalytics, PortError> {
        let s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        Ok(OrderAnalytics::from_counters(&s.0))
    }
}

/// Events emitted by handlers, each id once.
#[derive(Default)]
pub struct InMemoryOutbox {
    events: Mutex<Vec<Outbound>>,
}

impl InMemoryOutbox {
    pub fn emitted(&self) -> Vec<Outbound> {
        self.events
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

#[async_trait]
impl EventOutbox for InMemoryOutbox {
    async fn emit(&self, events: &[Outbound]) -> Result<(), PortError> {
        let mut all = self.events.lock().unwrap_or_else(|e| e.into_inner());
        for e in events {
            if !all.iter().any(|x| x.event.event_id == e.event.event_id) {
                all.push(e.clone());
            }
        }
        Ok(())
    }
}
