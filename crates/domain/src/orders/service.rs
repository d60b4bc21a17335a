//! The order use cases: placing an order against stock, and moving it along its lifecycle.

use super::events::{LowStockCrossing, OrderStatusChanged};
use super::order::{NewOrder, Order, OrderStatus, Transition};
use super::ports::OrderStore;
use super::stock::{Shortage, StockPlan, plan_restock, plan_stock};
use crate::PortError;
use crate::contention::{Try, optimistically};
use crate::orders::{OrderId, Sku};
use chrono::{DateTime, Utc};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OrderError {
    #[error("unknown SKU")]
    UnknownSku(Vec<(usize, Sku)>),
    #[error("insufficient stock")]
    InsufficientStock(Vec<Shortage>),
    #[error("no order {0}")]
    NotFound(OrderId),
    #[error("an order that is {from} cannot become {to}")]
    InvalidTransition { from: OrderStatus, to: OrderStatus },
    #[error(transparent)]
    Port(#[from] PortError),
}

/// Places `new` as `order_id`: every line is taken from stock in one transaction with the order
/// and its `OrderStatusChanged`, which records the SKUs this placement took below their
/// threshold. Nothing is taken when any line is short or unknown.
pub async fn place_order(
    store: &dyn OrderStore,
    order_id: OrderId,
    new: NewOrder,
    at: DateTime<Utc>,
) -> Result<Order, OrderError> {
    let order = Order::placed(order_id, new, at);
    let skus: Vec<Sku> = order.items.iter().map(|l| l.sku.clone()).collect();
    let (order, skus) = (&order, &skus);
    // A try loses when a SKU's level left the range it was read in.
    optimistically("stock", (), |()| async move {
        let levels = store.stock(skus).await?;
        let moves = match plan_stock(&order.items, &levels) {
            StockPlan::Take(moves) => moves,
            StockPlan::Unknown(lines) => return Err(OrderError::UnknownSku(lines)),
            StockPlan::Short(lines) => return Err(OrderError::InsufficientStock(lines)),
        };
        let low_stock = moves
            .iter()
            .filter_map(|m| match m.expect {
                super::Expect::Crosses { from, threshold } => Some(LowStockCrossing {
                    sku: m.sku.clone(),
                    available: from - m.quantity,
                    threshold,
                }),
                _ => None,
            })
            .collect();
        let event = OrderStatusChanged::of(None, order, low_stock).outbound(order.version)?;
        Ok(match store.place(order, &moves, &event).await? {
            true => Try::Done(order.clone()),
            false => Try::Lost(()),
        })
    })
    .await
}

/// Moves order `id` to `to`: `(order, true)` after a change, `(order, false)` when it already had
/// that status (no change, no event).
pub async fn change_status(
    store: &dyn OrderStore,
    id: &OrderId,
    to: OrderStatus,
    at: DateTime<Utc>,
) -> Result<(Order, bool), OrderError> {
    optimistically(&format!("order {id}"), (), |()| async move {
        let prior = store
            .get(id)
            .await?
            .ok_or_else(|| OrderError::NotFound(id.clone()))?;
        let next = match prior.transition(to, at) {
            Transition::Unchanged => return Ok(Try::Done((prior, false))),
            Transition::Invalid { from, to } => {
                return Err(OrderError::InvalidTransition { from, to });
            }
            Transition::Changed(next) => next,
        };
        let event =
            OrderStatusChanged::of(Some(&prior), &next, Vec::new()).outbound(next.version)?;
        let restock = plan_restock(&prior, &next);
        Ok(match store.change(&prior, &next, &restock, &event).await? {
            true => Try::Done((next, true)),
            false => Try::Lost(()),
        })
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::StockLevel;
    use crate::orders::memory::InMemoryOrders;
    use crate::orders::order::tests::new_order as new;
    use crate::time::parse_event_time;

    fn at() -> DateTime<Utc> {
        parse_event_time("2026-12-01T12:00:00Z").unwrap()
    }

    fn store(levels: &[(&str, u32, u32)]) -> InMemoryOrders {
        let s = InMemoryOrders::default();
        for (sku, available, threshold) in levels {
            s.put_level(StockLevel {
                sku: Sku::parse(*sku).unwrap(),
                available: *available,
                low_stock_threshold: *threshold,
            });
        }
        s
    }

    fn id(n: u32) -> OrderId {
        OrderId::parse(format!("ord_{n}")).unwrap()
    }

    #[tokio::test]
    async fn all_lines_or_none() {
        let s = store(&[("a", 10, 2), ("b", 1, 0)]);
        let err = place_order(&s, id(1), new(&[("a", 3), ("b", 2)]), at())
            .await
            .unwrap_err();
        let OrderError::InsufficientStock(short) = err else {
            panic!("{err:?}")
        };
        assert_eq!(short[0].sku.as_str(), "b");
        assert_eq!(s.available("a"), Some(10));
        assert!(s.events().is_empty());
        place_order(&s, id(2), new(&[("a", 3), ("b", 1)]), at())
            .await
            .unwrap();
        assert_eq!((s.available("a"), s.available("b")), (Some(7), Some(0)));
    }

    #[tokio::test]
    async fn an_unknown_sku_takes_nothing() {
        let s = store(&[("a", 10, 2)]);
        let err = place_order(&s, id(1), new(&[("a", 1), ("zz", 1)]), at())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            OrderError::UnknownSku(vec![(1, Sku::parse("zz").unwrap())])
        );
        assert_eq!(s.available("a"), Some(10));
    }

    #[tokio::test]
    async fn the_placement_that_crosses_the_threshold_records_it_once() {
        let s = store(&[("a", 5, 2)]);
        for n in 1..=5 {
            place_order(&s, id(n), new(&[("a", 1)]), at())
                .await
                .unwrap();
        }
        let crossings: Vec<_> = s
            .events()
            .into_iter()
            .map(|e| e.decode::<OrderStatusChanged>().unwrap().low_stock)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(crossings.len(), 1, "5 → 4 → 3 → 2 → 1 crosses 2 once");
        assert_eq!(
            (crossings[0][0].available, crossings[0][0].threshold),
            (1, 2)
        );
        let err = place_order(&s, id(9), new(&[("a", 1)]), at())
            .await
            .unwrap_err();
        assert!(matches!(err, OrderError::InsufficientStock(_)));
    }

    #[tokio::test]
    async fn a_cancellation_restocks_and_re_arms_the_alert() {
        let s = store(&[("a", 3, 2)]);
        let o = place_order(&s, id(1), new(&[("a", 2)]), at())
            .await
            .unwrap();
        assert_eq!(s.available("a"), Some(1));
        let (c, changed) = change_status(&s, &o.order_id, OrderStatus::Cancelled, at())
            .await
            .unwrap();
        assert!(changed);
        assert_eq!(c.status, OrderStatus::Cancelled);
        assert_eq!(s.available("a"), Some(3));
        place_order(&s, id(2), new(&[("a", 2)]), at())
            .await
            .unwrap();
        let crossings = s
            .events()
            .into_iter()
            .filter_map(|e| e.decode::<OrderStatusChanged>().ok())
            .filter(|e| !e.low_stock.is_empty())
            .count();
        assert_eq!(crossings, 2, "the restock re-armed it");
    }

    #[tokio::test]
    async fn the_same_status_again_changes_nothing_and_a_wrong_one_is_refused() {
        let s = store(&[("a", 3, 0)]);
        let o = place_order(&s, id(1), new(&[("a", 1)]), at())
            .await
            .unwrap();
        let (_, changed) = change_status(&s, &o.order_id, OrderStatus::Placed, at())
            .await
            .unwrap();
        assert!(!changed);
        assert_eq!(s.events().len(), 1);
        let err = change_status(&s, &o.order_id, OrderStatus::Delivered, at())
            .await
            .unwrap_err();
        assert_eq!(
            err,
            OrderError::InvalidTransition {
                from: OrderStatus::Placed,
                to: OrderStatus::Delivered
            }
        );
        for to in [
            OrderStatus::Preparing,
            OrderStatus::OutForDelivery,
            OrderStatus::Delivered,
        ] {
            assert!(change_status(&s, &o.order_id, to, at()).await.unwrap().1);
        }
        let err = change_status(&s, &o.order_id, OrderStatus::Cancelled, at())
            .await
            .unwrap_err();
        assert!(matches!(err, OrderError::InvalidTransition { .. }));
        assert_eq!(
            s.available("a"),
            Some(2),
            "a delivered order keeps its units"
        );
        let missing = change_status(&s, &id(404), OrderStatus::Preparing, at())
            .await
            .unwrap_err();
        assert_eq!(missing, OrderError::NotFound(id(404)));
    }

    /// The restock is planned here, not in a store: every line once on a cancellation, from
    /// whatever status, and nothing on any other change.
    #[tokio::test]
    async fn only_a_cancellation_gives_the_lines_back() {
        let s = store(&[("a", 9, 0), ("b", 9, 0)]);
        let o = place_order(&s, id(1), new(&[("a", 2), ("b", 1)]), at())
            .await
            .unwrap();
        let Transition::Changed(preparing) = o.transition(OrderStatus::Preparing, at()) else {
            panic!()
        };
        assert_eq!(plan_restock(&o, &preparing), vec![]);
        let Transition::Changed(cancelled) = preparing.transition(OrderStatus::Cancelled, at())
        else {
            panic!()
        };
        let restock: Vec<(String, u32)> = plan_restock(&preparing, &cancelled)
            .into_iter()
            .map(|r| (r.sku.to_string(), r.quantity))
            .collect();
        assert_eq!(restock, vec![("a".into(), 2), ("b".into(), 1)]);
        assert_eq!(plan_restock(&cancelled, &cancelled), vec![]);
    }

    #[tokio::test]
    async fn of_two_concurrent_changes_from_one_version_one_is_written() {
        let s = store(&[("a", 3, 0)]);
        let o = place_order(&s, id(1), new(&[("a", 1)]), at())
            .await
            .unwrap();
        let Transition::Changed(a) = o.transition(OrderStatus::Preparing, at()) else {
            panic!()
        };
        let Transition::Changed(b) = o.transition(OrderStatus::Cancelled, at()) else {
            panic!()
        };
        let ea = OrderStatusChanged::of(Some(&o), &a, vec![])
            .outbound(a.version)
            .unwrap();
        let eb = OrderStatusChanged::of(Some(&o), &b, vec![])
            .outbound(b.version)
            .unwrap();
        assert!(s.change(&o, &a, &[], &ea).await.unwrap());
        let restock = plan_restock(&o, &b);
        assert!(!s.change(&o, &b, &restock, &eb).await.unwrap());
        assert_eq!(
            s.available("a"),
            Some(2),
            "the losing cancellation restocked nothing"
        );
    }
}
