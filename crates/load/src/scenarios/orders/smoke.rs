//! The orders flow's smoke step, on a SKU of the run's own: stock set, an order placed takes
//! one, cancelling it puts it back.

use crate::smoke::{Stage, seconds};
use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::json;
use std::time::Instant;

pub fn smoke(stage: &Stage) -> BoxFuture<'_, Result<String, String>> {
    Box::pin(async move {
        let started = Instant::now();
        let sku = format!("smoke-{}", stage.run);
        let stock = format!("/inventory/{sku}");
        let set = json!({"available": 3, "low_stock_threshold": 1});
        stage.send(Method::PUT, &stock, Some(&set), &[200]).await?;
        let order = json!({"customer_id": format!("smoke-{}", stage.run),
                           "items": [{"sku": sku, "quantity": 1}]});
        let id = stage.create("/orders", &order, 201, "order_id").await?;
        stage
            .until(&stock, "2 available after the order", |s| {
                s["available"] == 2
            })
            .await?;
        let cancel = json!({"status": "cancelled"});
        let path = format!("/orders/{id}/status");
        let cancelled = stage
            .send(Method::PATCH, &path, Some(&cancel), &[200])
            .await?;
        if cancelled["status"] != "cancelled" {
            return Err(format!("PATCH {path}: {cancelled}"));
        }
        stage
            .until(&stock, "3 available after the cancel", |s| {
                s["available"] == 3
            })
            .await?;
        Ok(format!(
            "order {id} took 1 of 3 {sku}, its cancel put it back, in {}",
            seconds(started.elapsed())
        ))
    })
}
