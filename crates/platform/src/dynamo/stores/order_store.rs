use crate::dynamo::{Item, OutboxTable, Transaction, consistent_get, marker_put, n, s, transact};
use crate::aws::{data_error, sdk_error};
use crate::outbox::OutboxRecord;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{KeysAndAttributes, Put, TransactWriteItem, Update};
use domain::PortError;
use domain::events::Outbound;
use domain::ids::EventId;
use domain::orders::{OrderId, Sku};
use domain::orders::ports::{Inventory, OrderAnalyticsStore, OrderStore};
use domain::orders::{
    AnalyticsDelta, Expect, Order, OrderAnalytics, Restock, StockLevel, StockMove,
};
use std::collections::BTreeMap;
use tracing::instrument;

/// Orders and the inventory they draw on. The lifecycle and the stock ranges are the domain's
/// ([`Order::transition`], [`domain::orders::plan_stock`]); this store writes what they decide,
/// conditioned on what they were decided from.
#[derive(Clone)]
pub struct DynamoOrderStore {
    client: Client,
    orders: String,
    inventory: String,
    outbox: OutboxTable,
}

impl DynamoOrderStore {
    pub fn new(
        client: Client,
        orders: impl Into<String>,
        inventory: impl Into<String>,
        outbox: impl Into<String>,
    ) -> Self {
        Self {
            client,
            orders: orders.into(),
            inventory: inventory.into(),
            outbox: OutboxTable::Writes(outbox.into()),
        }
    }

    fn order_put(&self, order: &Order) -> Result<Put, PortError> {
        let item: Item = serde_dynamo::to_item(order).map_err(|e| data_error("order", e))?;
        Put::builder()
            .table_name(&self.orders)
            .set_item(Some(item))
            .build()
            .map_err(|e| data_error("Put", e))
    }

    /// A line's deduction under the condition of the range its level was read in (and the
    /// threshold that range was judged by).
    fn deduction(&self, m: &StockMove) -> Result<TransactWriteItem, PortError> {
        let u = Update::builder()
            .table_name(&self.inventory)
            .key("sku", s(m.sku.as_str()))
            .update_expression("SET available = available - :q")
            .expression_attribute_values(":q", n(m.quantity));
        let u = match m.expect {
            Expect::StaysAtOrAbove { threshold } => u
                .condition_expression("available >= :min AND low_stock_threshold = :t")
                .expression_attribute_values(
                    ":min",
                    n(u64::from(m.quantity) + u64::from(threshold)),
                )
                .expression_attribute_values(":t", n(threshold)),
            Expect::Crosses { from, threshold } => u
                .condition_expression("available = :from AND low_stock_threshold = :t")
                .expression_attribute_values(":from", n(from))
                .expression_attribute_values(":t", n(threshold)),
            Expect::StaysBelow { threshold } => u
                .condition_expression(
                    "available >= :q AND available < :t AND low_stock_threshold = :t",
                )
                .expression_attribute_values(":t", n(threshold)),
        };
        let u = u.build().map_err(|e| data_error("Update", e))?;
        Ok(TransactWriteItem::builder().update(u).build())
    }

    fn restock(&self, sku: &Sku, quantity: u32) -> Result<TransactWriteItem, PortError> {
        let u = Update::builder()
            .table_name(&self.inventory)
            .key("sku", s(sku.as_str()))
            .update_expression("ADD available :q")
            .condition_expression("attribute_exists(sku)")
            .expression_attribute_values(":q", n(quantity))
            .build()
            .map_err(|e| data_error("Update", e))?;
        Ok(TransactWriteItem::builder().update(u).build())
    }
}

fn level(item: Item, table: &str) -> Result<StockLevel, PortError> {
    serde_dynamo::from_item(item).map_err(|e| data_error(table, e))
}

#[async_trait]
impl OrderStore for DynamoOrderStore {
    #[instrument(skip_all, fields(skus = skus.len()))]
    async fn stock(&self, skus: &[Sku]) -> Result<Vec<StockLevel>, PortError> {
        let mut keys: Vec<Item> = skus
            .iter()
            .map(|k| Item::from([("sku".to_owned(), s(k.as_str()))]))
            .collect();
        let mut levels = Vec::with_capacity(skus.len());
        // BatchGetItem answers what it could and hands the rest back as unprocessed.
        for _ in 0..5 {
            if keys.is_empty() {
                return Ok(levels);
            }
            let request = KeysAndAttributes::builder()
                .set_keys(Some(std::mem::take(&mut keys)))
                .consistent_read(true)
                .build()
                .map_err(|e| data_error("KeysAndAttributes", e))?;
            let out = self
                .client
                .batch_get_item()
                .request_items(&self.inventory, request)
                .send()
                .await
                .map_err(|e| sdk_error("BatchGetItem", e))?;
            for item in out
                .responses
                .unwrap_or_default()
                .remove(&self.inventory)
                .unwrap_or_default()
            {
                levels.push(level(item, &self.inventory)?);
            }
            if let Some(rest) = out
                .unprocessed_keys
                .and_then(|mut u| u.remove(&self.inventory))
            {
                keys = rest.keys;
            }
        }
        if keys.is_empty() {
            Ok(levels)
        } else {
            Err(PortError::Retryable(
                "BatchGetItem kept keys unprocessed".into(),
            ))
        }
    }

    #[instrument(skip_all, fields(order_id = %order.order_id, lines = moves.len()))]
    async fn place(
        &self,
        order: &Order,
        moves: &[StockMove],
        event: &Outbound,
    ) -> Result<bool, PortError> {
        let mut put = self.order_put(order)?;
        put.condition_expression = Some("attribute_not_exists(order_id)".into());
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        for m in moves {
            items.push(self.deduction(m)?);
        }
        items.push(OutboxRecord::for_event(event)?.transact_put(self.outbox.table()?)?);
        match transact(&self.client, items).await? {
            Transaction::Committed => Ok(true),
            t if t.failed_at(0) => Err(PortError::Retryable(format!(
                "order id {} is taken",
                order.order_id
            ))),
            _ => Ok(false),
        }
    }

    #[instrument(skip(self))]
    async fn get(&self, id: &OrderId) -> Result<Option<Order>, PortError> {
        consistent_get(&self.client, &self.orders, &[("order_id", id.as_str())]).await
    }

    #[instrument(skip_all, fields(order_id = %next.order_id, status = %next.status))]
    async fn change(
        &self,
        prior: &Order,
        next: &Order,
        restock: &[Restock],
        event: &Outbound,
    ) -> Result<bool, PortError> {
        let mut put = self.order_put(next)?;
        put.condition_expression = Some("version = :v".into());
        put.expression_attribute_values = Some([(":v".to_owned(), n(prior.version))].into());
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        for r in restock {
            items.push(self.restock(&r.sku, r.quantity)?);
        }
        items.push(OutboxRecord::for_event(event)?.transact_put(self.outbox.table()?)?);
        match transact(&self.client, items).await? {
            Transaction::Committed => Ok(true),
            t if t.failed_at(0) => Ok(false),
            // The order's version held, so what failed is a restocked SKU that no longer exists
            // (or the event row, which only this version writes).
            t => Err(PortError::Permanent(format!(
                "order {}: a condition other than its version failed ({t:?}): a SKU to restock is missing",
                next.order_id
            ))),
        }
    }
}

#[async_trait]
impl Inventory for DynamoOrderStore {
    #[instrument(skip(self))]
    async fn get(&self, sku: &Sku) -> Result<Option<StockLevel>, PortError> {
        consistent_get(&self.client, &self.inventory, &[("sku", sku.as_str())]).await
    }

    #[instrument(skip(self))]
    async fn set(&self, l: &StockLevel) -> Result<(), PortError> {
        // An update, not a put: the SKU keeps its other attributes (its name).
        self.client
            .update_item()
            .table_name(&self.inventory)
            .key("sku", s(l.sku.as_str()))
            .update_expression("SET available = :a, low_stock_threshold = :t")
            .expression_attribute_values(":a", n(l.available))
            .expression_attribute_values(":t", n(l.low_stock_threshold))
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", e))?;
        Ok(())
    }
}

/// The counters are spread over this many items (`orders#0` …), an event's delta going to the
/// one its id hashes to: every order event updates the counts, and concurrent consumers writing
/// one item would meet in `TransactionConflict`s and share one item's write ceiling.
pub const ANALYTICS_SHARDS: u32 = 8;

fn analytics_key(shard: u32) -> String {
    format!("orders#{shard}")
}

/// Order analytics: counters on [`ANALYTICS_SHARDS`] items summed on read, each event added in
/// one transaction with a marker keyed by its id, so a redelivered event adds nothing.
#[derive(Clone)]
pub struct DynamoOrderAnalytics {
    client: Client,
    table: String,
    /// Where applied events are marked; a reader (the API) has none and applies nothing.
    markers: Option<String>,
}

impl DynamoOrderAnalytics {
    pub fn new(client: Client, table: impl Into<String>, markers: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            markers: Some(markers.into()),
        }
    }

    /// For the API: reads the counts, applies nothing.
    pub fn reader(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            markers: None,
        }
    }
}

#[async_trait]
impl OrderAnalyticsStore for DynamoOrderAnalytics {
    #[instrument(skip_all, fields(event_id = %event_id))]
    async fn apply(&self, event_id: &EventId, delta: &AnalyticsDelta) -> Result<bool, PortError> {
        let markers = self.markers.as_deref().ok_or_else(|| {
            PortError::Permanent("this analytics store only reads: it has no markers table".into())
        })?;
        let marker = marker_put(markers, format!("order-analytics#{event_id}"))?;
        // The id is a hash already: its last hex digits pick the shard evenly.
        let shard = u32::from_str_radix(
            &event_id.as_str()[event_id.as_str().len().saturating_sub(4)..],
            16,
        )
        .unwrap_or(0)
            % ANALYTICS_SHARDS;
        let mut update = Update::builder()
            .table_name(&self.table)
            .key("key", s(analytics_key(shard)));
        let mut adds = Vec::new();
        for (i, (name, amount)) in delta.counters.iter().enumerate() {
            adds.push(format!("#c{i} :v{i}"));
            update = update
                .expression_attribute_names(format!("#c{i}"), name)
                .expression_attribute_values(format!(":v{i}"), n(amount));
        }
        let update = update
            .update_expression(format!("ADD {}", adds.join(", ")))
            .build()
            .map_err(|e| data_error("Update", e))?;
        let items = vec![
            TransactWriteItem::builder().put(marker).build(),
            TransactWriteItem::builder().update(update).build(),
        ];
        Ok(transact(&self.client, items).await? == Transaction::Committed)
    }

    #[instrument(skip(self))]
    async fn get(&self) -> Result<OrderAnalytics, PortError> {
        let keys: Vec<Item> = (0..ANALYTICS_SHARDS)
            .map(|i| Item::from([("key".to_owned(), s(analytics_key(i)))]))
            .collect();
        let request = KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .consistent_read(true)
            .build()
            .map_err(|e| data_error("KeysAndAttributes", e))?;
        let out = self
            .client
            .batch_get_item()
            .request_items(&self.table, request)
            .send()
            .await
            .map_err(|e| sdk_error("BatchGetItem", e))?;
        if out.unprocessed_keys.as_ref().is_some_and(|u| !u.is_empty()) {
            return Err(PortError::Retryable(
                "BatchGetItem left analytics shards unread".into(),
            ));
        }
        let mut counters: BTreeMap<String, i64> = BTreeMap::new();
        for item in out
            .responses
            .unwrap_or_default()
            .remove(&self.table)
            .unwrap_or_default()
        {
            for (k, v) in item {
                if let Some(amount) = v.as_n().ok().and_then(|v| v.parse::<i64>().ok()) {
                    *counters.entry(k).or_default() += amount;
                }
            }
        }
        Ok(OrderAnalytics::from_counters(&counters))
    }
}
