//! The orders scenario: clients that place orders (60 %), read them and the stock (25 %), move
//! their own orders along (10 %) and cancel some (5 %). Every placement takes one unit of a hot
//! SKU, which every client shares; half also take a reference SKU (`data/eatclub/`), which run
//! out during the run (a `409 insufficient_stock` is an answer, not an error).
//!
//! Afterwards, through the API: every SKU's stock is its starting stock less the units of the
//! run's orders that still hold stock; nothing is negative; the analytics moved by exactly the
//! run's orders; and (where the local notification sink is reachable) no SKU was alerted more
//! often than it can have crossed its threshold.

use super::Accepted;
mod checks;
pub mod demo;
pub mod smoke;

use crate::harness::{Check, Harness, call, get_json, notify_url};
use crate::scenario::Scenario;
use checks::{Ended, RunTotals, alerts_check, analytics_check, stock_checks, units_by_sku};
use goose::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The SKU every client orders; set to [`HOT_STOCK`] units before each run.
pub const HOT_SKU: &str = "ec_sku_load_hot";
const HOT_STOCK: u64 = 1_000_000;
const HOT_THRESHOLD: u64 = 1_000;

fn reference_skus() -> Vec<String> {
    let data: Vec<Value> =
        serde_json::from_str(include_str!("../../../../../data/eatclub/inventory.json"))
            .unwrap_or_default();
    data.iter()
        .filter_map(|i| i["sku"].as_str().map(str::to_owned))
        .collect()
}

/// What the run started from.
#[derive(Debug, Clone, Default)]
struct Start {
    /// SKU → (available, threshold).
    stock: BTreeMap<String, (i64, i64)>,
    analytics: Value,
}

/// A placed order's lines (SKU, units).
type Lines = Vec<(String, u32)>;

#[derive(Default)]
pub struct Orders {
    start: Mutex<Option<Start>>,
    /// Placed orders, by id.
    placed: Accepted<(String, Lines)>,
    /// Placements whose outcome is unknown (no answer, or a 5xx): they may hold these units.
    maybe: Accepted<Lines>,
}

async fn stock_of(
    http: &reqwest::Client,
    h: &Harness,
) -> Result<BTreeMap<String, (i64, i64)>, String> {
    let mut stock = BTreeMap::new();
    for sku in reference_skus().into_iter().chain([HOT_SKU.to_owned()]) {
        let s = get_json(http, h, &format!("/inventory/{sku}")).await?;
        let n = |f: &str| s[f].as_i64().ok_or_else(|| format!("{sku}: no {f} in {s}"));
        stock.insert(sku.clone(), (n("available")?, n("low_stock_threshold")?));
    }
    Ok(stock)
}

/// A client's own orders that can still move, with their status.
#[derive(Clone, Default)]
struct OrderClient {
    open: Vec<(String, &'static str)>,
}

fn next_status(status: &str) -> Option<&'static str> {
    match status {
        "placed" => Some("preparing"),
        "preparing" => Some("out_for_delivery"),
        "out_for_delivery" => Some("delivered"),
        _ => None,
    }
}

impl Orders {
    /// Before the attack: the hot SKU gets its stock, and what the run starts from is read.
    async fn prepare(&self, h: &Harness) -> Result<(), String> {
        let http = reqwest::Client::new();
        let path = format!("/inventory/{HOT_SKU}");
        let url = format!("{}{path}", h.api);
        let body =
            json!({"available": HOT_STOCK, "low_stock_threshold": HOT_THRESHOLD}).to_string();
        let mut request = http
            .put(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        for (k, v) in h.auth.headers("PUT", &url, &path, body.as_bytes())? {
            request = request.header(k, v);
        }
        let answer = request
            .send()
            .await
            .map_err(|e| format!("PUT {path}: {e}"))?;
        if !answer.status().is_success() {
            return Err(format!("PUT {path}: HTTP {}", answer.status()));
        }
        let start = Start {
            stock: stock_of(&http, h).await?,
            analytics: get_json(&http, h, "/analytics/orders").await?,
        };
        *self.start.lock().unwrap_or_else(|e| e.into_inner()) = Some(start);
        Ok(())
    }

    async fn play(&self, user: &mut GooseUser, h: &Harness) -> TransactionResult {
        let mut me = user
            .get_session_data::<OrderClient>()
            .cloned()
            .unwrap_or_default();
        let roll = fastrand::u32(0..100);
        let cancellable: Vec<usize> = (0..me.open.len())
            .filter(|&i| matches!(me.open[i].1, "placed" | "preparing"))
            .collect();
        if roll < 60 || me.open.is_empty() {
            self.place(user, h, &mut me).await?;
        } else if roll < 85 {
            let (path, name) = if fastrand::bool() {
                let (id, _) = &me.open[fastrand::usize(..me.open.len())];
                (format!("/orders/{id}"), "GET /orders/{id}")
            } else {
                let skus = reference_skus();
                let sku = if fastrand::bool() {
                    HOT_SKU.to_owned()
                } else {
                    skus[fastrand::usize(..skus.len())].clone()
                };
                (format!("/inventory/{sku}"), "GET /inventory/{sku}")
            };
            call(user, h, GooseMethod::Get, &path, name, None, &[200]).await?;
        } else if roll < 95 || cancellable.is_empty() {
            let i = fastrand::usize(..me.open.len());
            let (id, status) = me.open[i].clone();
            if let Some(to) = next_status(status) {
                let path = format!("/orders/{id}/status");
                let body = json!({"status": to});
                // A 409 says the order moved on without this client knowing: a change whose
                // answer was lost (its cancellation, say). It is no longer this client's to move.
                let answer = call(
                    user,
                    h,
                    GooseMethod::Patch,
                    &path,
                    "PATCH /orders/{id}/status",
                    Some(&body),
                    &[200, 409],
                )
                .await?;
                match answer {
                    Some((200, _)) => me.open[i].1 = to,
                    Some(_) => me.open[i].1 = "delivered",
                    None => {}
                }
            }
            me.open.retain(|(_, s)| *s != "delivered");
        } else {
            let i = cancellable[fastrand::usize(..cancellable.len())];
            let id = me.open[i].0.clone();
            let path = format!("/orders/{id}/status");
            let body = json!({"status": "cancelled"});
            if call(
                user,
                h,
                GooseMethod::Patch,
                &path,
                "PATCH /orders/{id}/status (cancel)",
                Some(&body),
                &[200, 409],
            )
            .await?
            .is_some()
            {
                me.open.remove(i);
            }
        }
        // A client keeps a handful of orders in flight, as a person would.
        if me.open.len() > 20 {
            me.open.remove(0);
        }
        user.set_session_data(me);
        Ok(())
    }

    async fn place(
        &self,
        user: &mut GooseUser,
        h: &Harness,
        me: &mut OrderClient,
    ) -> Result<(), Box<TransactionError>> {
        let mut lines = vec![(HOT_SKU.to_owned(), 1)];
        if fastrand::bool() {
            let skus = reference_skus();
            lines.push((
                skus[fastrand::usize(..skus.len())].clone(),
                fastrand::u32(1..=2),
            ));
        }
        let body = json!({
            "customer_id": format!("ec_load_c{}", user.weighted_users_index),
            "items": lines.iter().map(|(sku, q)| json!({"sku": sku, "quantity": q})).collect::<Vec<_>>(),
        });
        match call(
            user,
            h,
            GooseMethod::Post,
            "/orders",
            "POST /orders",
            Some(&body),
            &[201, 409],
        )
        .await?
        {
            Some((201, answer)) => {
                if let Some(id) = answer["order_id"].as_str() {
                    self.placed.push((id.to_owned(), lines));
                    me.open.push((id.to_owned(), "placed"));
                }
            }
            Some(_) => {}
            None => self.maybe.push(lines),
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Scenario for Orders {
    fn name(&self) -> &'static str {
        "orders"
    }

    fn weight(&self) -> usize {
        3
    }

    fn step_name(&self) -> &'static str {
        "an order client's step"
    }

    async fn setup(&self, h: &Harness) -> Result<(), String> {
        self.prepare(h).await
    }

    async fn step(&self, user: &mut GooseUser, h: &Harness) -> TransactionResult {
        self.play(user, h).await
    }

    fn accepted(&self) -> usize {
        self.placed.len() + self.maybe.len()
    }

    /// The invariants of the run's orders (none when it placed none).
    async fn check(&self, h: &Harness, http: &reqwest::Client, settle: Duration) -> Vec<Check> {
        let start = self.start.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(start) = start else {
            return Vec::new();
        };
        let (orders, maybe) = (self.placed.all(), self.maybe.all());
        let ended = Ended::read(h, http, &orders).await;
        let uncertain = units_by_sku(&maybe);
        let deadline = Instant::now() + settle;
        let mut checks = vec![Check {
            name: "every placed order readable".into(),
            checked: orders.len(),
            failures: ended.lost.clone(),
        }];
        checks.extend(stock_checks(h, http, &start, &ended.held, &uncertain).await);
        let run = RunTotals {
            placed: orders.len() as i64,
            maybe: maybe.len() as i64,
            maybe_units: uncertain.values().sum(),
        };
        checks.push(analytics_check(h, http, &start, &ended, &run, deadline).await);
        if let Some(notify) = notify_url() {
            let ids: BTreeSet<&str> = orders.iter().map(|(id, _)| id.as_str()).collect();
            checks.push(alerts_check(http, &notify, &ids, &ended.cancels_of, deadline).await);
        }
        checks
    }
}
