//! Order analytics: counts kept from `OrderStatusChanged` events, each event applied once.

use super::events::OrderStatusChanged;
use super::order::OrderStatus;
use super::ports::OrderAnalyticsStore;
use crate::PortError;
use crate::events::{Delivery, DomainEvent, EventHandler};
use async_trait::async_trait;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;
use tracing::info;

/// `GET /analytics/orders`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrderAnalytics {
    /// Orders now in each status (every status present, 0 when none).
    pub by_status: BTreeMap<&'static str, i64>,
    /// Orders ever placed.
    pub orders_total: i64,
    /// Units of orders placed, less the units of cancelled ones.
    pub items_sold: i64,
    pub cancelled_total: i64,
}

impl OrderAnalytics {
    /// The counts from stored totals by counter name (those of [`AnalyticsDelta::counters`]);
    /// a counter never written is 0.
    pub fn from_counters(counters: &BTreeMap<String, i64>) -> Self {
        let get = |name: &str| counters.get(name).copied().unwrap_or(0);
        Self {
            by_status: OrderStatus::ALL
                .into_iter()
                .map(|s| (s.as_str(), get(&status_counter(s))))
                .collect(),
            orders_total: get("orders_total"),
            items_sold: get("items_sold"),
            cancelled_total: get("cancelled_total"),
        }
    }
}

fn status_counter(s: OrderStatus) -> String {
    format!("status_{}", s.as_str())
}

/// What one status change adds to the counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnalyticsDelta {
    /// Counter name → amount added (negative to subtract).
    pub counters: BTreeMap<String, i64>,
}

impl AnalyticsDelta {
    pub fn of(e: &OrderStatusChanged) -> Self {
        let mut counters = BTreeMap::new();
        let units = e.items.iter().map(|l| i64::from(l.quantity)).sum::<i64>();
        *counters.entry(status_counter(e.status)).or_insert(0) += 1;
        match e.previous {
            Some(previous) => *counters.entry(status_counter(previous)).or_insert(0) -= 1,
            None => {
                counters.insert("orders_total".into(), 1);
                counters.insert("items_sold".into(), units);
            }
        }
        if e.status == OrderStatus::Cancelled {
            counters.insert("cancelled_total".into(), 1);
            *counters.entry("items_sold".into()).or_insert(0) -= units;
        }
        Self { counters }
    }
}

/// Keeps the analytics counts.
#[derive(Clone)]
pub struct CountOrders(pub Arc<dyn OrderAnalyticsStore>);

#[async_trait]
impl EventHandler<OrderStatusChanged> for CountOrders {
    async fn handle(
        &self,
        e: OrderStatusChanged,
        envelope: &DomainEvent,
        _: Delivery,
    ) -> Result<(), PortError> {
        let applied = self
            .0
            .apply(&envelope.event_id, &AnalyticsDelta::of(&e))
            .await?;
        if !applied {
            info!(event_id = %envelope.event_id, "order event already counted");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::Transition;
    use crate::orders::order::tests::order;

    fn apply(total: &mut BTreeMap<String, i64>, d: AnalyticsDelta) {
        for (k, v) in d.counters {
            *total.entry(k).or_insert(0) += v;
        }
    }

    #[test]
    fn a_placed_then_cancelled_order_leaves_one_cancelled_and_nothing_sold() {
        let o = order(&[("a", 2), ("b", 3)]);
        let mut total = BTreeMap::new();
        apply(
            &mut total,
            AnalyticsDelta::of(&OrderStatusChanged::of(None, &o, vec![])),
        );
        let a = OrderAnalytics::from_counters(&total);
        assert_eq!(
            (a.orders_total, a.items_sold, a.by_status["placed"]),
            (1, 5, 1)
        );
        let Transition::Changed(c) = o.transition(OrderStatus::Cancelled, o.created_at) else {
            panic!()
        };
        apply(
            &mut total,
            AnalyticsDelta::of(&OrderStatusChanged::of(Some(&o), &c, vec![])),
        );
        let a = OrderAnalytics::from_counters(&total);
        assert_eq!(a.orders_total, 1);
        assert_eq!(a.items_sold, 0);
        assert_eq!(a.cancelled_total, 1);
        assert_eq!(a.by_status["placed"], 0);
        assert_eq!(a.by_status["cancelled"], 1);
        assert_eq!(a.by_status.len(), 5);
    }
}
