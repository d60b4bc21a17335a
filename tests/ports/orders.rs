//! The order flow's ports, run against the in-memory adapters and the DynamoDB Local ones:
//! `Inventory` (a level set reads back), `OrderStore` (a placement takes every line within the
//! range it was planned in, with the order and its event, or writes nothing; a taken order id is
//! a retryable error; a change is written only over the version it was decided from, restocking
//! existing SKUs, and restocking a SKU that is not held is permanent) and `OrderAnalyticsStore`
//! (each event counted once).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::events::{DomainEvent, Outbound};
use domain::ids::UserId;
use domain::orders::{OrderId, Sku};
use domain::orders::memory::{InMemoryOrderAnalytics, InMemoryOrders};
use domain::orders::ports::{Inventory, OrderAnalyticsStore, OrderStore};
use domain::orders::{
    AnalyticsDelta, Expect, NewOrder, Order, OrderAnalytics, OrderLine, OrderStatus,
    OrderStatusChanged, Restock, StockLevel, StockMove, StockPlan, Transition, plan_restock,
    plan_stock,
};
use domain::time::parse_event_time;
use integration_tests::DynamoTables;
use platform::dynamo::order_store::{DynamoOrderAnalytics, DynamoOrderStore};
use std::collections::BTreeMap;

/// The order flow's ports on one adapter, and its outbox.
#[async_trait]
trait OrderPorts: Send + Sync {
    fn orders(&self) -> &dyn OrderStore;
    fn inventory(&self) -> &dyn Inventory;
    fn analytics(&self) -> &dyn OrderAnalyticsStore;
    /// The events written with placements and changes, ordered by id.
    async fn outbox(&self) -> Vec<DomainEvent>;
}

#[derive(Default)]
struct Memory {
    orders: InMemoryOrders,
    analytics: InMemoryOrderAnalytics,
}

#[async_trait]
impl OrderPorts for Memory {
    fn orders(&self) -> &dyn OrderStore {
        &self.orders
    }
    fn inventory(&self) -> &dyn Inventory {
        &self.orders
    }
    fn analytics(&self) -> &dyn OrderAnalyticsStore {
        &self.analytics
    }
    async fn outbox(&self) -> Vec<DomainEvent> {
        let mut events = self.orders.events();
        events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        events
    }
}

struct Dynamo {
    tables: DynamoTables,
    orders: DynamoOrderStore,
    analytics: DynamoOrderAnalytics,
}

#[async_trait]
impl OrderPorts for Dynamo {
    fn orders(&self) -> &dyn OrderStore {
        &self.orders
    }
    fn inventory(&self) -> &dyn Inventory {
        &self.orders
    }
    fn analytics(&self) -> &dyn OrderAnalyticsStore {
        &self.analytics
    }
    async fn outbox(&self) -> Vec<DomainEvent> {
        self.tables
            .outbox()
            .await
            .into_iter()
            .map(|r| r.1)
            .collect()
    }
}

async fn in_memory() -> Memory {
    Memory::default()
}

async fn dynamodb_local() -> Dynamo {
    let tables = DynamoTables::start(&[
        "orders",
        "inventory",
        "outbox",
        "order-analytics",
        "processed",
    ])
    .await;
    let orders = DynamoOrderStore::new(
        tables.client.clone(),
        tables.table("orders"),
        tables.table("inventory"),
        tables.table("outbox"),
    );
    let analytics = DynamoOrderAnalytics::new(
        tables.client.clone(),
        tables.table("order-analytics"),
        tables.table("processed"),
    );
    Dynamo {
        tables,
        orders,
        analytics,
    }
}

integration_tests::contract_tests!(in_memory: in_memory, dynamodb_local: dynamodb_local;
    what_was_never_stored_reads_as_absent,
    a_level_set_reads_back_and_a_second_set_replaces_it,
    a_placement_takes_every_line_and_writes_the_order_and_its_event,
    a_placement_whose_level_left_its_planned_range_writes_nothing,
    a_placement_on_a_sku_the_inventory_does_not_hold_writes_nothing,
    a_taken_order_id_is_refused_retryably_and_writes_nothing,
    a_change_is_written_only_over_the_version_it_was_decided_from,
    a_cancellation_adds_its_lines_back_to_the_current_levels,
    restocking_a_sku_the_inventory_does_not_hold_is_permanent_and_writes_nothing,
    of_two_placements_racing_to_cross_a_threshold_exactly_one_is_written,
    each_analytics_event_is_counted_once,
);

fn at(s: &str) -> DateTime<Utc> {
    parse_event_time(s).unwrap()
}

fn sku(s: &str) -> Sku {
    Sku::parse(s).unwrap()
}

fn level(s: &str, available: u32, low_stock_threshold: u32) -> StockLevel {
    StockLevel {
        sku: sku(s),
        available,
        low_stock_threshold,
    }
}

async fn set(p: &dyn OrderPorts, levels: &[StockLevel]) {
    for l in levels {
        p.inventory().set(l).await.unwrap();
    }
}

async fn level_of(p: &dyn OrderPorts, s: &str) -> Option<StockLevel> {
    p.inventory().get(&sku(s)).await.unwrap()
}

/// Order `id` of `lines` (SKU, units), placed.
fn order(id: &str, lines: &[(&str, u32)]) -> Order {
    Order::placed(
        OrderId::parse(id).unwrap(),
        NewOrder {
            customer_id: UserId::parse("pc_c1").unwrap(),
            items: lines
                .iter()
                .map(|(s, quantity)| OrderLine {
                    sku: sku(s),
                    quantity: *quantity,
                })
                .collect(),
        },
        at("2026-12-01T12:00:00Z"),
    )
}

/// What the domain writes for placing `order` on `levels` (as read): its moves and its event.
fn placement(order: &Order, levels: &[StockLevel]) -> (Vec<StockMove>, Outbound) {
    let StockPlan::Take(moves) = plan_stock(&order.items, levels) else {
        panic!("the levels hold the order's lines")
    };
    let event = OrderStatusChanged::of(None, order, vec![])
        .outbound(order.version)
        .unwrap();
    (moves, event)
}

/// `order` moved to `to`, with its event and what it gives back to stock.
fn changed(order: &Order, to: OrderStatus) -> (Order, Vec<Restock>, Outbound) {
    let Transition::Changed(next) = order.transition(to, at("2026-12-01T12:30:00Z")) else {
        panic!("{} may become {to}", order.status)
    };
    let event = OrderStatusChanged::of(Some(order), &next, vec![])
        .outbound(next.version)
        .unwrap();
    let restock = plan_restock(order, &next);
    (next, restock, event)
}

async fn get(p: &dyn OrderPorts, id: &OrderId) -> Option<Order> {
    p.orders().get(id).await.unwrap()
}

async fn what_was_never_stored_reads_as_absent(p: &dyn OrderPorts) {
    set(p, &[level("pc-a", 3, 1)]).await;
    assert_eq!(level_of(p, "pc-none").await, None);
    assert_eq!(p.orders().stock(&[sku("pc-none")]).await.unwrap(), vec![]);
    assert_eq!(get(p, &OrderId::parse("ord_pc_none").unwrap()).await, None);
    assert_eq!(
        p.analytics().get().await.unwrap(),
        OrderAnalytics::from_counters(&BTreeMap::new()),
        "every count 0"
    );
    assert_eq!(p.outbox().await, vec![]);
}

async fn a_level_set_reads_back_and_a_second_set_replaces_it(p: &dyn OrderPorts) {
    set(p, &[level("pc-a", 10, 2), level("pc-b", 5, 0)]).await;
    assert_eq!(level_of(p, "pc-a").await, Some(level("pc-a", 10, 2)));
    set(p, &[level("pc-a", 7, 3)]).await;
    assert_eq!(level_of(p, "pc-a").await, Some(level("pc-a", 7, 3)));

    let mut levels = p
        .orders()
        .stock(&[sku("pc-a"), sku("pc-none"), sku("pc-b")])
        .await
        .unwrap();
    levels.sort_by(|x, y| x.sku.cmp(&y.sku));
    assert_eq!(
        levels,
        vec![level("pc-a", 7, 3), level("pc-b", 5, 0)],
        "the SKUs held, each as last set"
    );
}

async fn a_placement_takes_every_line_and_writes_the_order_and_its_event(p: &dyn OrderPorts) {
    let levels = [
        level("pc-a", 10, 2),
        level("pc-b", 5, 0),
        level("pc-c", 4, 3),
    ];
    set(p, &levels).await;
    // Each kind of move: stays above its threshold, takes the last units, crosses it.
    let o = order("ord_pc_1", &[("pc-a", 3), ("pc-b", 5), ("pc-c", 2)]);
    let (moves, event) = placement(&o, &levels);
    assert!(matches!(moves[2].expect, Expect::Crosses { from: 4, .. }));
    assert!(p.orders().place(&o, &moves, &event).await.unwrap());
    assert_eq!(get(p, &o.order_id).await, Some(o.clone()));
    assert_eq!(level_of(p, "pc-a").await, Some(level("pc-a", 7, 2)));
    assert_eq!(level_of(p, "pc-b").await, Some(level("pc-b", 0, 0)));
    assert_eq!(level_of(p, "pc-c").await, Some(level("pc-c", 2, 3)));
    assert_eq!(p.outbox().await, vec![event.event]);

    // Below the threshold now: the next order stays below it.
    let levels = p.orders().stock(&[sku("pc-c")]).await.unwrap();
    let o2 = order("ord_pc_2", &[("pc-c", 2)]);
    let (moves, event) = placement(&o2, &levels);
    assert!(matches!(moves[0].expect, Expect::StaysBelow { .. }));
    assert!(p.orders().place(&o2, &moves, &event).await.unwrap());
    assert_eq!(level_of(p, "pc-c").await, Some(level("pc-c", 0, 3)));
}

async fn a_placement_whose_level_left_its_planned_range_writes_nothing(p: &dyn OrderPorts) {
    // (SKU, level the order was planned on, units, level when it is written)
    let cases = [
        ("pc-above", (10, 2), 3, (4, 2)),
        ("pc-threshold", (10, 2), 3, (10, 1)),
        ("pc-cross", (4, 3), 2, (5, 3)),
        ("pc-below", (2, 5), 2, (1, 5)),
    ];
    for (i, &(s, (planned, threshold), units, (now, now_threshold))) in cases.iter().enumerate() {
        let read = level(s, planned, threshold);
        let current = level(s, now, now_threshold);
        // With a line that still holds: the order takes all its lines or none.
        let good = level(&format!("pc-good-{i}"), 100, 0);
        set(p, &[current.clone(), good.clone()]).await;
        let o = order(
            &format!("ord_pc_{i}"),
            &[(good.sku.as_str(), 1), (s, units)],
        );
        let (moves, event) = placement(&o, &[read, good.clone()]);
        assert!(
            !p.orders().place(&o, &moves, &event).await.unwrap(),
            "{s}: planned on {planned}/{threshold}, now {now}/{now_threshold}"
        );
        assert_eq!(get(p, &o.order_id).await, None, "{s}");
        assert_eq!(level_of(p, s).await, Some(current), "{s}");
        assert_eq!(level_of(p, good.sku.as_str()).await, Some(good), "{s}");
    }
    assert_eq!(p.outbox().await, vec![]);
}

async fn a_placement_on_a_sku_the_inventory_does_not_hold_writes_nothing(p: &dyn OrderPorts) {
    set(p, &[level("pc-a", 10, 0)]).await;
    let o = order("ord_pc_1", &[("pc-a", 1), ("pc-none", 1)]);
    let moves = vec![
        StockMove {
            sku: sku("pc-a"),
            quantity: 1,
            expect: Expect::StaysAtOrAbove { threshold: 0 },
        },
        StockMove {
            sku: sku("pc-none"),
            quantity: 1,
            expect: Expect::StaysAtOrAbove { threshold: 0 },
        },
    ];
    let event = OrderStatusChanged::of(None, &o, vec![])
        .outbound(o.version)
        .unwrap();
    assert!(!p.orders().place(&o, &moves, &event).await.unwrap());
    assert_eq!(get(p, &o.order_id).await, None);
    assert_eq!(level_of(p, "pc-a").await, Some(level("pc-a", 10, 0)));
    assert_eq!(level_of(p, "pc-none").await, None, "no SKU created");
    assert_eq!(p.outbox().await, vec![]);
}

async fn a_taken_order_id_is_refused_retryably_and_writes_nothing(p: &dyn OrderPorts) {
    let levels = [level("pc-a", 10, 2)];
    set(p, &levels).await;
    let o = order("ord_pc_1", &[("pc-a", 3)]);
    let (moves, event) = placement(&o, &levels);
    assert!(p.orders().place(&o, &moves, &event).await.unwrap());

    // Another order under the same id, planned on the current level.
    let again = order("ord_pc_1", &[("pc-a", 1)]);
    let (moves, mut again_event) = placement(&again, &[level("pc-a", 7, 2)]);
    again_event.event.event_id = DomainEvent::derive_id("OrderStatusChanged", "again");
    let err = p
        .orders()
        .place(&again, &moves, &again_event)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "a new id will do: {err}");
    // Planned on a stale level as well: the taken id is still what it answers.
    let (stale_moves, _) = placement(&again, &[level("pc-a", 10, 2)]);
    let stale = StockMove {
        expect: Expect::Crosses {
            from: 10,
            threshold: 2,
        },
        ..stale_moves[0].clone()
    };
    let err = p
        .orders()
        .place(&again, &[stale], &again_event)
        .await
        .unwrap_err();
    assert!(err.is_retryable(), "{err}");

    assert_eq!(get(p, &o.order_id).await, Some(o));
    assert_eq!(level_of(p, "pc-a").await, Some(level("pc-a", 7, 2)));
    assert_eq!(p.outbox().await, vec![event.event]);
}

async fn a_change_is_written_only_over_the_version_it_was_decided_from(p: &dyn OrderPorts) {
    let levels = [level("pc-a", 10, 2)];
    set(p, &levels).await;
    let o = order("ord_pc_1", &[("pc-a", 3)]);
    let (moves, placed_event) = placement(&o, &levels);
    assert!(p.orders().place(&o, &moves, &placed_event).await.unwrap());

    let (preparing, restock, event) = changed(&o, OrderStatus::Preparing);
    assert!(restock.is_empty());
    assert!(
        p.orders()
            .change(&o, &preparing, &restock, &event)
            .await
            .unwrap()
    );
    assert_eq!(get(p, &o.order_id).await, Some(preparing.clone()));

    // Decided from the placed order (a stale read): a cancellation and its restock.
    let (cancelled, restock, stale_event) = changed(&o, OrderStatus::Cancelled);
    assert!(!restock.is_empty());
    assert!(
        !p.orders()
            .change(&o, &cancelled, &restock, &stale_event)
            .await
            .unwrap()
    );
    assert_eq!(get(p, &o.order_id).await, Some(preparing), "unchanged");
    assert_eq!(
        level_of(p, "pc-a").await,
        Some(level("pc-a", 7, 2)),
        "nothing restocked"
    );
    let mut events = vec![placed_event.event, event.event];
    events.sort_by(|x, y| x.event_id.cmp(&y.event_id));
    assert_eq!(p.outbox().await, events);

    let ghost = order("ord_pc_ghost", &[("pc-a", 1)]);
    let (next, restock, ghost_event) = changed(&ghost, OrderStatus::Preparing);
    assert!(
        !p.orders()
            .change(&ghost, &next, &restock, &ghost_event)
            .await
            .unwrap(),
        "an order never placed has no version"
    );
    assert_eq!(get(p, &ghost.order_id).await, None);
    assert_eq!(p.outbox().await.len(), 2);
}

async fn a_cancellation_adds_its_lines_back_to_the_current_levels(p: &dyn OrderPorts) {
    let levels = [level("pc-a", 10, 2), level("pc-b", 5, 0)];
    set(p, &levels).await;
    let o = order("ord_pc_1", &[("pc-a", 3), ("pc-b", 2)]);
    let (moves, _) = placement(&o, &levels);
    let event = OrderStatusChanged::of(None, &o, vec![])
        .outbound(o.version)
        .unwrap();
    assert!(p.orders().place(&o, &moves, &event).await.unwrap());
    // A delivery of stock in the meantime.
    set(p, &[level("pc-a", 20, 2)]).await;

    let (cancelled, restock, event) = changed(&o, OrderStatus::Cancelled);
    assert!(
        p.orders()
            .change(&o, &cancelled, &restock, &event)
            .await
            .unwrap()
    );
    assert_eq!(get(p, &o.order_id).await, Some(cancelled));
    assert_eq!(level_of(p, "pc-a").await, Some(level("pc-a", 23, 2)));
    assert_eq!(level_of(p, "pc-b").await, Some(level("pc-b", 5, 0)));
}

async fn restocking_a_sku_the_inventory_does_not_hold_is_permanent_and_writes_nothing(
    p: &dyn OrderPorts,
) {
    let levels = [level("pc-a", 10, 2)];
    set(p, &levels).await;
    let o = order("ord_pc_1", &[("pc-a", 3)]);
    let (moves, placed_event) = placement(&o, &levels);
    assert!(p.orders().place(&o, &moves, &placed_event).await.unwrap());

    let (cancelled, mut restock, event) = changed(&o, OrderStatus::Cancelled);
    restock.push(Restock {
        sku: sku("pc-gone"),
        quantity: 1,
    });
    let err = p
        .orders()
        .change(&o, &cancelled, &restock, &event)
        .await
        .unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(get(p, &o.order_id).await, Some(o));
    assert_eq!(level_of(p, "pc-a").await, Some(level("pc-a", 7, 2)));
    assert_eq!(level_of(p, "pc-gone").await, None);
    assert_eq!(p.outbox().await, vec![placed_event.event]);
}

async fn of_two_placements_racing_to_cross_a_threshold_exactly_one_is_written(p: &dyn OrderPorts) {
    let levels = [level("pc-a", 5, 3)];
    set(p, &levels).await;
    let (a, b) = (
        order("ord_pc_1", &[("pc-a", 3)]),
        order("ord_pc_2", &[("pc-a", 3)]),
    );
    let ((moves_a, event_a), (moves_b, event_b)) = (placement(&a, &levels), placement(&b, &levels));
    assert!(matches!(moves_a[0].expect, Expect::Crosses { from: 5, .. }));
    let (ra, rb) = tokio::join!(
        p.orders().place(&a, &moves_a, &event_a),
        p.orders().place(&b, &moves_b, &event_b)
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(ra != rb, "exactly one crosses: {ra} {rb}");
    let (winner, loser, event) = if ra { (a, b, event_a) } else { (b, a, event_b) };
    assert_eq!(get(p, &winner.order_id).await, Some(winner));
    assert_eq!(get(p, &loser.order_id).await, None);
    assert_eq!(level_of(p, "pc-a").await, Some(level("pc-a", 2, 3)));
    assert_eq!(p.outbox().await, vec![event.event]);
}

async fn each_analytics_event_is_counted_once(p: &dyn OrderPorts) {
    let first = order("ord_pc_1", &[("pc-a", 2), ("pc-b", 3)]);
    let second = order("ord_pc_2", &[("pc-a", 1)]);
    let (cancelled, _, _) = changed(&first, OrderStatus::Cancelled);
    let changes = [
        OrderStatusChanged::of(None, &first, vec![]),
        OrderStatusChanged::of(None, &second, vec![]),
        OrderStatusChanged::of(Some(&first), &cancelled, vec![]),
    ];
    for (i, change) in changes.iter().enumerate() {
        let id = change.outbound(i as u32 + 1).unwrap().event.event_id;
        let delta = AnalyticsDelta::of(change);
        assert!(p.analytics().apply(&id, &delta).await.unwrap(), "{i}");
        assert!(
            !p.analytics().apply(&id, &delta).await.unwrap(),
            "{i}: applied before"
        );
    }
    let counts = p.analytics().get().await.unwrap();
    assert_eq!(
        (
            counts.orders_total,
            counts.items_sold,
            counts.cancelled_total
        ),
        (2, 1, 1)
    );
    assert_eq!(
        counts.by_status,
        BTreeMap::from([
            ("placed", 1),
            ("preparing", 0),
            ("out_for_delivery", 0),
            ("delivered", 0),
            ("cancelled", 1),
        ])
    );
}
