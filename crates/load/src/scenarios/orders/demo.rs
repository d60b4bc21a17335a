//! `demo orders FILE`: plays an order scenario against the running API (each step an order
//! and the statuses it then moves through), then waits for its tracking notifications, the
//! low-stock alerts and the analytics to catch up, and shows them.

use crate::demo::Api;
use devstack::stackenv::StackEnv;
use devstack::{DevError, Result};
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// Plays each scenario file (the samples: `scenario.json`).
pub async fn run(files: &[String]) -> Result<()> {
    for file in files {
        scenario(file).await?;
    }
    Ok(())
}

async fn scenario(file: &str) -> Result<()> {
    let env = StackEnv::read()?;
    let api = Api::local()?;
    let notify = env.get("NOTIFY_URL")?;
    let steps: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(file)?)?;
    let http = reqwest::Client::new();
    println!("\n== Orders through {} ==", api.base());
    let mut placed = Vec::new();
    let mut skus = BTreeSet::new();
    for step in &steps {
        for line in step["order"]["items"].as_array().into_iter().flatten() {
            skus.extend(line["sku"].as_str().map(str::to_owned));
        }
        if let Some(order) = play(&api, step).await? {
            placed.push(order);
        }
    }
    print_inventory(&api, &skus).await?;
    let (tracking, alerts) = await_notifications(&http, &notify, &placed).await?;
    print_notifications("tracking notifications", &tracking);
    print_notifications("low-stock alerts", &alerts);
    let analytics = await_analytics(&api, placed.len()).await?;
    println!("  analytics: {analytics}");
    if alerts.is_empty() || tracking.is_empty() {
        return Err(DevError::Setup(
            "the order notifications did not arrive within 90 s".into(),
        ));
    }
    Ok(())
}

/// One step: places its order and moves it through its statuses. The order's id and last
/// status, or `None` when it was refused.
async fn play(api: &Api, step: &Value) -> Result<Option<(String, String)>> {
    let title = step["title"].as_str().unwrap_or("");
    let response = api
        .send_json(Method::POST, "/orders", &step["order"].to_string())?
        .send()
        .await?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or_default();
    let Some(id) = answer["order_id"].as_str() else {
        let details: Vec<String> = answer["error"]["details"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d["message"].as_str().map(str::to_owned))
            .collect();
        println!(
            "  {title}\n    POST /orders → {status} {} ({})",
            answer["error"]["code"].as_str().unwrap_or("?"),
            details.join("; ")
        );
        return Ok(None);
    };
    println!("  {title}\n    POST /orders → {status} {id}");
    let mut last = "placed".to_owned();
    for next in step["then"].as_array().into_iter().flatten() {
        let response = api
            .send_json(
                Method::PATCH,
                &format!("/orders/{id}/status"),
                &json!({"status": next}).to_string(),
            )?
            .send()
            .await?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or_default();
        last = answer["status"].as_str().unwrap_or("?").to_owned();
        println!(
            "    PATCH status {} → {status} {last}",
            next.as_str().unwrap_or("?")
        );
    }
    Ok(Some((id.to_owned(), last)))
}

async fn print_inventory(api: &Api, skus: &BTreeSet<String>) -> Result<()> {
    println!("  inventory now:");
    for sku in skus {
        let s: Value = api
            .get(&format!("/inventory/{sku}"))?
            .send()
            .await?
            .json()
            .await?;
        println!(
            "    {sku:<28} available {:>4}  threshold {:>3}{}",
            s["available"],
            s["low_stock_threshold"],
            if s["low_stock"] == true { "  LOW" } else { "" }
        );
    }
    Ok(())
}

/// Waits (90 s at most) until every placed order's last status has its tracking notification
/// and a low-stock alert arrived: the consumers run asynchronously. Those of the scenario's
/// orders, and the alerts.
async fn await_notifications(
    http: &reqwest::Client,
    notify: &str,
    placed: &[(String, String)],
) -> Result<(Vec<Value>, Vec<Value>)> {
    let order_ids: BTreeSet<&str> = placed.iter().map(|(id, _)| id.as_str()).collect();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let received: Vec<Value> = http
            .get(format!("{notify}/v1/notify"))
            .send()
            .await?
            .json()
            .await?;
        // The sink lists what it received with its own metadata; a repeat is marked duplicate.
        let (tracking, alerts): (Vec<Value>, Vec<Value>) = received
            .into_iter()
            .filter(|r| r["duplicate"] != true)
            .map(|r| r["body"].clone())
            .filter(|n| {
                n["kind"] == "low_stock"
                    || (n["kind"] == "order_status"
                        && n["data"]["order_id"]
                            .as_str()
                            .is_some_and(|id| order_ids.contains(id)))
            })
            .partition(|n| n["kind"] == "order_status");
        let last_seen = placed.iter().all(|(id, status)| {
            tracking.iter().any(|n| {
                n["data"]["order_id"] == id.as_str() && n["data"]["status"] == status.as_str()
            })
        });
        if (last_seen && !alerts.is_empty()) || Instant::now() > deadline {
            return Ok((tracking, alerts));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn print_notifications(title: &str, notifications: &[Value]) {
    println!("  {title} ({}):", notifications.len());
    for n in notifications {
        println!(
            "    {:<10} {}",
            n["user_id"].as_str().unwrap_or("?"),
            n["message"].as_str().unwrap_or("?")
        );
    }
}

/// The analytics once they count every placed order and none is left `placed` (60 s at most).
async fn await_analytics(api: &Api, placed: usize) -> Result<Value> {
    let placed = placed as i64;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let a: Value = api.get("/analytics/orders")?.send().await?.json().await?;
        let settled: i64 = a["by_status"]
            .as_object()
            .map_or(0, |m| m.values().filter_map(Value::as_i64).sum());
        if (a["orders_total"].as_i64() >= Some(placed)
            && settled == a["orders_total"].as_i64().unwrap_or(-1)
            && a["by_status"]["placed"].as_i64() == Some(0))
            || Instant::now() > deadline
        {
            return Ok(a);
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[cfg(test)]
mod tests {
    use crate::demo::samples_json;

    #[test]
    fn the_demo_order_scenario_places_valid_orders_and_moves_them_along_the_lifecycle() {
        for (f, v) in samples_json("orders") {
            let steps = v;
            for step in steps.as_array().unwrap() {
                domain::orders::NewOrder::from_json(&step["order"])
                    .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
                let mut status = domain::orders::OrderStatus::Placed;
                for next in step["then"].as_array().into_iter().flatten() {
                    let next = domain::orders::OrderStatus::parse(next.as_str().unwrap()).unwrap();
                    assert!(
                        status.next().contains(&next),
                        "{}: {status} → {next}",
                        f.display()
                    );
                    status = next;
                }
            }
        }
    }
}
