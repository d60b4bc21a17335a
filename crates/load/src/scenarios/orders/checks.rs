//! The orders scenario's invariants, read through the API once the run is over.

use super::{Lines, Start, stock_of};
use crate::harness::{Check, Harness, get_json, received};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// Where the run's orders ended, read through the API: cancelled orders hold no stock.
#[derive(Default)]
pub(super) struct Ended {
    /// SKU → units the run's orders still hold.
    pub held: BTreeMap<String, i64>,
    pub cancelled: i64,
    /// SKU → cancelled orders that had it (each a restock that may cross the threshold again).
    pub cancels_of: BTreeMap<String, usize>,
    pub units_kept: i64,
    pub lost: Vec<String>,
}

impl Ended {
    pub async fn read(h: &Harness, http: &reqwest::Client, orders: &[(String, Lines)]) -> Self {
        let mut ended = Self::default();
        for (id, lines) in orders {
            match get_json(http, h, &format!("/orders/{id}")).await {
                Ok(o) if o["status"] == "cancelled" => {
                    ended.cancelled += 1;
                    for (sku, _) in lines {
                        *ended.cancels_of.entry(sku.clone()).or_default() += 1;
                    }
                }
                Ok(_) => {
                    for (sku, q) in lines {
                        *ended.held.entry(sku.clone()).or_default() += i64::from(*q);
                        ended.units_kept += i64::from(*q);
                    }
                }
                Err(e) => ended.lost.push(format!("{id}: {e}")),
            }
        }
        ended
    }
}

/// SKU → units of `orders`.
pub(super) fn units_by_sku(orders: &[Lines]) -> BTreeMap<String, i64> {
    let mut units = BTreeMap::new();
    for (sku, q) in orders.iter().flatten() {
        *units.entry(sku.clone()).or_default() += i64::from(*q);
    }
    units
}

/// Every SKU's stock is its start less what the run's orders hold (less up to what unanswered
/// placements may hold), and none is negative. Without the levels neither can pass.
pub(super) async fn stock_checks(
    h: &Harness,
    http: &reqwest::Client,
    start: &Start,
    held: &BTreeMap<String, i64>,
    uncertain: &BTreeMap<String, i64>,
) -> [Check; 2] {
    let mut failures = Vec::new();
    let mut negative = Vec::new();
    match stock_of(http, h).await {
        Ok(now) => {
            for (sku, (before, _)) in &start.stock {
                let after = now.get(sku).map_or(0, |s| s.0);
                if after < 0 {
                    negative.push(format!("{sku}: {after}"));
                }
                let holds = held.get(sku).copied().unwrap_or(0);
                let expected = before - holds;
                let slack = uncertain.get(sku).copied().unwrap_or(0);
                if after > expected || after < expected - slack {
                    let unanswered = if slack > 0 {
                        format!(" less up to {slack} of unanswered placements")
                    } else {
                        String::new()
                    };
                    failures.push(format!(
                        "{sku}: started {before}, orders hold {holds}, now {after} (expected {expected}{unanswered})"
                    ));
                }
            }
        }
        Err(e) => {
            // A stored negative level fails to read, too.
            negative.push(e.clone());
            failures.push(e);
        }
    }
    let checked = start.stock.len();
    [
        Check {
            name: "stock = start − units of orders holding stock (no oversell, nothing lost)"
                .into(),
            checked,
            failures,
        },
        Check {
            name: "no stock below zero".into(),
            checked,
            failures: negative,
        },
    ]
}

/// What the run sent: placed orders, and unanswered placements with their units.
pub(super) struct RunTotals {
    pub placed: i64,
    pub maybe: i64,
    pub maybe_units: i64,
}

/// The analytics moved by exactly the run's orders; the consumers count asynchronously, so
/// the counts are read until they agree or `deadline` has passed.
pub(super) async fn analytics_check(
    h: &Harness,
    http: &reqwest::Client,
    start: &Start,
    ended: &Ended,
    run: &RunTotals,
    deadline: Instant,
) -> Check {
    let n = |v: &Value, f: &str| v[f].as_i64().unwrap_or(0);
    let problems = |a: &Value| {
        let d = |f: &str| n(a, f) - n(&start.analytics, f);
        let mut problems = Vec::new();
        if d("orders_total") < run.placed || d("orders_total") > run.placed + run.maybe {
            problems.push(format!(
                "orders_total moved {} for {} orders placed",
                d("orders_total"),
                run.placed
            ));
        }
        if d("cancelled_total") != ended.cancelled {
            problems.push(format!(
                "cancelled_total moved {} for {} cancelled",
                d("cancelled_total"),
                ended.cancelled
            ));
        }
        let sold = d("items_sold");
        if sold < ended.units_kept || sold > ended.units_kept + run.maybe_units {
            problems.push(format!(
                "items_sold moved {sold} for {} units kept",
                ended.units_kept
            ));
        }
        problems
    };
    let verdict = loop {
        let verdict = get_json(http, h, "/analytics/orders")
            .await
            .map(|a| problems(&a));
        match verdict {
            Ok(p) if p.is_empty() => break Ok(p),
            other if Instant::now() > deadline => break other,
            _ => tokio::time::sleep(Duration::from_secs(1)).await,
        }
    };
    Check {
        name: "analytics moved by exactly the run's orders".into(),
        checked: run.placed as usize,
        failures: verdict.unwrap_or_else(|e| vec![e]),
    }
}

/// At most one low-stock alert per crossing: a SKU crosses its threshold once, and once more
/// after each restock. Alerts travel further than the counts (an event raised from an event):
/// the sink is read until it has held still for a few seconds, within `deadline`. A sink that
/// cannot be read fails the check.
pub(super) async fn alerts_check(
    http: &reqwest::Client,
    notify: &str,
    ids: &BTreeSet<&str>,
    cancels_of: &BTreeMap<String, usize>,
    deadline: Instant,
) -> Check {
    let mut alerts: BTreeMap<String, usize> = BTreeMap::new();
    let mut last_change = Instant::now();
    loop {
        let all = match received(http, notify).await {
            Ok(all) => all,
            Err(e) => {
                return Check {
                    name: "at most one low-stock alert per crossing".into(),
                    checked: 0,
                    failures: vec![e],
                };
            }
        };
        let now = low_stock_alerts(&all, ids);
        if now != alerts {
            alerts = now;
            last_change = Instant::now();
        }
        if last_change.elapsed() > Duration::from_secs(5) || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let most = |sku: &str| 1 + cancels_of.get(sku).copied().unwrap_or(0);
    let failures = alerts
        .iter()
        .filter(|(sku, count)| **count > most(sku))
        .map(|(sku, count)| {
            format!(
                "{sku}: {count} alerts, at most {} crossings possible",
                most(sku)
            )
        })
        .collect();
    Check {
        name: format!(
            "at most one low-stock alert per crossing ({} alerts)",
            alerts.values().sum::<usize>()
        ),
        checked: alerts.len(),
        failures,
    }
}

/// SKU → low-stock alerts raised by the orders `ids` (a repeat the sink marked is not counted).
fn low_stock_alerts(received: &[Value], ids: &BTreeSet<&str>) -> BTreeMap<String, usize> {
    let mut alerts = BTreeMap::new();
    for r in received.iter().filter(|r| r["duplicate"] != true) {
        let b = &r["body"];
        let ours = b["data"]["order_id"]
            .as_str()
            .is_some_and(|id| ids.contains(id));
        if b["kind"] == "low_stock" && ours {
            let sku = b["data"]["sku"].as_str().unwrap_or("").to_owned();
            *alerts.entry(sku).or_default() += 1;
        }
    }
    alerts
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_the_run_s_low_stock_alerts_count_and_a_marked_repeat_does_not() {
        let alert = |order: &str, sku: &str, duplicate: bool| {
            json!({"duplicate": duplicate, "body": {"kind": "low_stock",
                   "data": {"order_id": order, "sku": sku}}})
        };
        let received = vec![
            alert("o1", "a", false),
            alert("o2", "a", false),
            alert("o2", "a", true),
            alert("other", "b", false),
            json!({"body": {"kind": "order_status", "data": {"order_id": "o1"}}}),
        ];
        let ids = BTreeSet::from(["o1", "o2"]);
        assert_eq!(
            low_stock_alerts(&received, &ids),
            BTreeMap::from([("a".to_owned(), 2)])
        );
    }

    #[tokio::test]
    async fn an_unreadable_sink_fails_the_alert_check() {
        let http = reqwest::Client::new();
        // Nothing listens on port 9 of this machine.
        let check = alerts_check(
            &http,
            "http://127.0.0.1:9",
            &BTreeSet::new(),
            &BTreeMap::new(),
            Instant::now(),
        )
        .await;
        assert!(!check.passed(), "{check:?}");
        assert!(check.failures[0].contains("notification sink"), "{check:?}");
    }

    #[test]
    fn units_add_up_by_sku() {
        let orders = vec![
            vec![("a".to_owned(), 1), ("b".to_owned(), 2)],
            vec![("a".to_owned(), 3)],
        ];
        assert_eq!(
            units_by_sku(&orders),
            BTreeMap::from([("a".to_owned(), 4), ("b".to_owned(), 2)])
        );
    }
}
