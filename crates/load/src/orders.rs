//! The orders scenario: clients that place orders (60 %), read them and the stock (25 %), move
//! their own orders along (10 %) and cancel some (5 %). Every placement takes one unit of a hot
//! SKU, which every client shares; half also take a reference SKU (`data/eatclub/`), which run
//! out during the run (a `409 insufficient_stock` is an answer, not an error).
//!
//! Afterwards, through the API: every SKU's stock is its starting stock less the units of the
//! run's orders that still hold stock; nothing is negative; the analytics moved by exactly the
//! run's orders; and (where the local notification sink is reachable) no SKU was alerted more
//! often than it can have crossed its threshold.

use crate::flows::{Ctx, StepFuture, call};
use crate::invariants::Check;
use crate::record::Accepted;
use goose::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The SKU every client orders; set to [`HOT_STOCK`] units before each run.
pub const HOT_SKU: &str = "ec_sku_load_hot";
const HOT_STOCK: u64 = 1_000_000;
const HOT_THRESHOLD: u64 = 1_000;

fn reference_skus() -> Vec<String> {
    let data: Vec<Value> =
        serde_json::from_str(include_str!("../../../data/eatclub/inventory.json"))
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

#[derive(Default)]
pub struct OrdersRun {
    start: Mutex<Option<Start>>,
}

async fn get_json(http: &reqwest::Client, ctx: &Ctx, path: &str) -> Result<Value, String> {
    let url = format!("{}{path}", ctx.api);
    let mut request = http.get(&url);
    for (k, v) in ctx.auth.headers("GET", &url, path, b"")? {
        request = request.header(k, v);
    }
    let answer = request
        .send()
        .await
        .map_err(|e| format!("GET {path}: {e}"))?;
    let status = answer.status();
    if !status.is_success() {
        return Err(format!("GET {path}: HTTP {status}"));
    }
    answer.json().await.map_err(|e| format!("GET {path}: {e}"))
}

async fn stock_of(
    http: &reqwest::Client,
    ctx: &Ctx,
) -> Result<BTreeMap<String, (i64, i64)>, String> {
    let mut stock = BTreeMap::new();
    for sku in reference_skus().into_iter().chain([HOT_SKU.to_owned()]) {
        let s = get_json(http, ctx, &format!("/inventory/{sku}")).await?;
        let n = |f: &str| s[f].as_i64().ok_or_else(|| format!("{sku}: no {f} in {s}"));
        stock.insert(sku.clone(), (n("available")?, n("low_stock_threshold")?));
    }
    Ok(stock)
}

/// Before the attack: the hot SKU gets its stock, and what the run starts from is read.
pub async fn setup(ctx: &Ctx) -> Result<(), String> {
    let http = reqwest::Client::new();
    let path = format!("/inventory/{HOT_SKU}");
    let url = format!("{}{path}", ctx.api);
    let body = json!({"available": HOT_STOCK, "low_stock_threshold": HOT_THRESHOLD}).to_string();
    let mut request = http
        .put(&url)
        .header("content-type", "application/json")
        .body(body.clone());
    for (k, v) in ctx.auth.headers("PUT", &url, &path, body.as_bytes())? {
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
        stock: stock_of(&http, ctx).await?,
        analytics: get_json(&http, ctx, "/analytics/orders").await?,
    };
    if let Ok(mut s) = ctx.orders.start.lock() {
        *s = Some(start);
    }
    Ok(())
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

pub fn step<'a>(user: &'a mut GooseUser, ctx: Arc<Ctx>) -> StepFuture<'a> {
    Box::pin(async move {
        let mut me = user
            .get_session_data::<OrderClient>()
            .cloned()
            .unwrap_or_default();
        let roll = fastrand::u32(0..100);
        let cancellable: Vec<usize> = (0..me.open.len())
            .filter(|&i| matches!(me.open[i].1, "placed" | "preparing"))
            .collect();
        if roll < 60 || me.open.is_empty() {
            place(user, &ctx, &mut me).await?;
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
            call(user, &ctx, GooseMethod::Get, &path, name, None, &[200]).await?;
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
                    &ctx,
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
                &ctx,
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
    })
}

async fn place(
    user: &mut GooseUser,
    ctx: &Ctx,
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
        ctx,
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
                ctx.recorder.accept(Accepted::Order {
                    id: id.to_owned(),
                    lines,
                });
                me.open.push((id.to_owned(), "placed"));
            }
        }
        Some(_) => {}
        None => ctx.recorder.accept(Accepted::MaybeOrder { lines }),
    }
    Ok(())
}

/// The invariants of the run's orders (none when the run placed none).
pub async fn check(ctx: &Ctx, http: &reqwest::Client, settle: Duration) -> Vec<Check> {
    let Some(start) = ctx.orders.start.lock().ok().and_then(|s| s.clone()) else {
        return vec![];
    };
    let accepted = ctx.recorder.accepted();
    let orders: Vec<(&String, &Vec<(String, u32)>)> = accepted
        .iter()
        .filter_map(|a| match a {
            Accepted::Order { id, lines } => Some((id, lines)),
            _ => None,
        })
        .collect();
    let maybe: Vec<&Vec<(String, u32)>> = accepted
        .iter()
        .filter_map(|a| match a {
            Accepted::MaybeOrder { lines } => Some(lines),
            _ => None,
        })
        .collect();
    let mut checks = Vec::new();

    // Where each order ended: cancelled orders hold no stock.
    let mut lost = Vec::new();
    let mut held: BTreeMap<String, i64> = BTreeMap::new();
    let mut cancelled = 0_i64;
    let mut cancels_of: BTreeMap<String, usize> = BTreeMap::new();
    let mut units_kept = 0_i64;
    for (id, lines) in &orders {
        match get_json(http, ctx, &format!("/orders/{id}")).await {
            Ok(o) if o["status"] == "cancelled" => {
                cancelled += 1;
                for (sku, _) in lines.iter() {
                    *cancels_of.entry(sku.clone()).or_default() += 1;
                }
            }
            Ok(_) => {
                for (sku, q) in lines.iter() {
                    *held.entry(sku.clone()).or_default() += i64::from(*q);
                    units_kept += i64::from(*q);
                }
            }
            Err(e) => lost.push(format!("{id}: {e}")),
        }
    }
    checks.push(Check {
        name: "every placed order readable".into(),
        checked: orders.len(),
        failures: lost,
    });

    let mut uncertain: BTreeMap<String, i64> = BTreeMap::new();
    for lines in &maybe {
        for (sku, q) in lines.iter() {
            *uncertain.entry(sku.clone()).or_default() += i64::from(*q);
        }
    }
    let mut failures = Vec::new();
    let mut negative = Vec::new();
    match stock_of(http, ctx).await {
        Ok(now) => {
            for (sku, (before, _)) in &start.stock {
                let after = now.get(sku).map_or(0, |s| s.0);
                if after < 0 {
                    negative.push(format!("{sku}: {after}"));
                }
                let expected = before - held.get(sku).copied().unwrap_or(0);
                let slack = uncertain.get(sku).copied().unwrap_or(0);
                if after > expected || after < expected - slack {
                    failures.push(format!(
                        "{sku}: started {before}, orders hold {}, now {after} (expected {expected}{})",
                        held.get(sku).copied().unwrap_or(0),
                        if slack > 0 { format!(" less up to {slack} of unanswered placements") } else { String::new() }
                    ));
                }
            }
        }
        Err(e) => {
            // Without the levels neither check can pass (a stored negative level fails to read).
            negative.push(e.clone());
            failures.push(e);
        }
    }
    checks.push(Check {
        name: "stock = start − units of orders holding stock (no oversell, nothing lost)".into(),
        checked: start.stock.len(),
        failures,
    });
    checks.push(Check {
        name: "no stock below zero".into(),
        checked: start.stock.len(),
        failures: negative,
    });

    // The consumers count asynchronously: wait until the counts moved by the run's orders.
    let n = |v: &Value, f: &str| v[f].as_i64().unwrap_or(0);
    let created = orders.len() as i64;
    let maybe_count = maybe.len() as i64;
    let maybe_units: i64 = uncertain.values().sum();
    let deadline = Instant::now() + settle;
    let verdict = loop {
        let now = get_json(http, ctx, "/analytics/orders").await;
        let verdict = now.map(|a| {
            let d = |f: &str| n(&a, f) - n(&start.analytics, f);
            let mut problems = Vec::new();
            if d("orders_total") < created || d("orders_total") > created + maybe_count {
                problems.push(format!(
                    "orders_total moved {} for {created} orders placed",
                    d("orders_total")
                ));
            }
            if d("cancelled_total") != cancelled {
                problems.push(format!(
                    "cancelled_total moved {} for {cancelled} cancelled",
                    d("cancelled_total")
                ));
            }
            if d("items_sold") < units_kept || d("items_sold") > units_kept + maybe_units {
                problems.push(format!(
                    "items_sold moved {} for {units_kept} units kept",
                    d("items_sold")
                ));
            }
            problems
        });
        match verdict {
            Ok(p) if p.is_empty() => break Ok(p),
            other if Instant::now() > deadline => break other,
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    };
    checks.push(Check {
        name: "analytics moved by exactly the run's orders".into(),
        checked: orders.len(),
        failures: verdict.unwrap_or_else(|e| vec![e]),
    });

    if let Some(notify) = notify_url() {
        let ids: BTreeSet<&str> = orders.iter().map(|(id, _)| id.as_str()).collect();
        // Alerts travel further than the counts (an event raised from an event): read until the
        // sink has held still for a few seconds, within the settle window.
        let mut alerts: BTreeMap<String, usize> = BTreeMap::new();
        let mut last_change = Instant::now();
        loop {
            let received: Vec<Value> = match http.get(format!("{notify}/v1/notify")).send().await {
                Ok(r) => r.json().await.unwrap_or_default(),
                Err(_) => Vec::new(),
            };
            let mut now: BTreeMap<String, usize> = BTreeMap::new();
            for r in received.iter().filter(|r| r["duplicate"] != true) {
                let b = &r["body"];
                if b["kind"] == "low_stock"
                    && b["data"]["order_id"]
                        .as_str()
                        .is_some_and(|id| ids.contains(id))
                {
                    *now.entry(b["data"]["sku"].as_str().unwrap_or("").to_owned())
                        .or_default() += 1;
                }
            }
            if now != alerts {
                alerts = now;
                last_change = Instant::now();
            }
            if last_change.elapsed() > Duration::from_secs(5) || Instant::now() > deadline {
                break;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        let failures = alerts
            .iter()
            .filter(|(sku, count)| **count > 1 + cancels_of.get(*sku).copied().unwrap_or(0))
            .map(|(sku, count)| {
                format!(
                    "{sku}: {count} alerts, at most {} crossings possible",
                    1 + cancels_of.get(sku).copied().unwrap_or(0)
                )
            })
            .collect();
        checks.push(Check {
            name: format!(
                "at most one low-stock alert per crossing ({} alerts)",
                alerts.values().sum::<usize>()
            ),
            checked: alerts.len(),
            failures,
        });
    }
    checks
}

/// The local notification sink, when the run targets the local stack.
pub(crate) fn notify_url() -> Option<String> {
    std::env::var("NOTIFY_URL").ok().or_else(|| {
        std::fs::read_to_string(".devstack/env")
            .ok()?
            .lines()
            .find_map(|l| l.strip_prefix("NOTIFY_URL=").map(str::to_owned))
    })
}
