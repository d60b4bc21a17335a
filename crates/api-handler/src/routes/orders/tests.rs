//! The order and inventory routes' HTTP contract, with in-memory ports.

use crate::routes::tests::{TestServices, call, services};
use axum::http::StatusCode;
use domain::orders::memory::InMemoryOrders;
use serde_json::json;
use std::sync::Arc;

fn stocked(sku: &str, available: u32, threshold: u32) -> Arc<TestServices> {
    let s = services();
    s.port::<InMemoryOrders>()
        .put_level(domain::orders::StockLevel {
            sku: domain::orders::Sku::parse(sku).unwrap(),
            available,
            low_stock_threshold: threshold,
        });
    s
}

#[tokio::test]
async fn an_order_is_placed_read_and_moved_along_its_lifecycle() {
    let s = stocked("ec_sku_a", 3, 1);
    let body = r#"{"customer_id": "ec_c0001", "items": [{"sku": "ec_sku_a", "quantity": 2}]}"#;
    let (status, placed) = call(&s, "POST", "/orders", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(placed["status"], "placed");
    let id = placed["order_id"].as_str().unwrap();
    assert!(id.starts_with("ord_"));
    let (status, order) = call(&s, "GET", &format!("/orders/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["items"], json!([{"sku": "ec_sku_a", "quantity": 2}]));
    assert_eq!(order["history"][0]["status"], "placed");

    let patch = |to: &str| format!(r#"{{"status": "{to}"}}"#);
    let uri = format!("/orders/{id}/status");
    let (status, same) = call(&s, "PATCH", &uri, Some(&patch("placed"))).await;
    assert_eq!(
        (status, same["history"].as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    let (status, wrong) = call(&s, "PATCH", &uri, Some(&patch("delivered"))).await;
    assert_eq!(
        (status, wrong["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition"))
    );
    let (status, bad) = call(&s, "PATCH", &uri, Some(&patch("eaten"))).await;
    assert_eq!(
        (status, bad["error"]["details"][0]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_status"))
    );
    let (status, cancelled) = call(&s, "PATCH", &uri, Some(&patch("cancelled"))).await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (_, stock) = call(&s, "GET", "/inventory/ec_sku_a", None).await;
    assert_eq!(
        stock,
        json!({"sku": "ec_sku_a", "available": 3, "low_stock_threshold": 1, "low_stock": false})
    );
    let (status, missing) = call(&s, "GET", "/orders/ord_missing", None).await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("order_not_found"))
    );
}

#[tokio::test]
async fn refusals_name_the_lines_in_the_error_shape() {
    let s = stocked("ec_sku_a", 1, 0);
    let body = r#"{"customer_id": "c", "items": [{"sku": "ec_sku_a", "quantity": 2}, {"sku": "zz", "quantity": 1}]}"#;
    let (status, e) = call(&s, "POST", "/orders", Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "unknown_sku");
    assert_eq!(
        e["error"]["details"],
        json!([{"field": "items[1].sku", "code": "unknown_sku", "message": "no SKU zz"}])
    );
    let body = r#"{"customer_id": "c", "items": [{"sku": "ec_sku_a", "quantity": 2}]}"#;
    let (status, e) = call(&s, "POST", "/orders", Some(body)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "insufficient_stock");
    assert_eq!(
        e["error"]["details"][0]["message"],
        "ec_sku_a: 2 requested, 1 available"
    );
    let (status, e) = call(
        &s,
        "POST",
        "/orders",
        Some(r#"{"customer_id": "c", "items": []}"#),
    )
    .await;
    assert_eq!(
        (status, e["error"]["details"][0]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("no_items"))
    );
}

#[tokio::test]
async fn inventory_is_set_and_read_and_analytics_always_answer() {
    let s = services();
    let (status, _) = call(&s, "GET", "/inventory/ec_sku_new", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, set) = call(
        &s,
        "PUT",
        "/inventory/ec_sku_new",
        Some(r#"{"available": 3, "low_stock_threshold": 5}"#),
    )
    .await;
    assert_eq!(
        (status, set["low_stock"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, e) = call(
        &s,
        "PUT",
        "/inventory/ec_sku_new",
        Some(r#"{"available": -1, "low_stock_threshold": 5}"#),
    )
    .await;
    assert_eq!(
        (status, e["error"]["details"][0]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_stock"))
    );
    let (status, a) = call(&s, "GET", "/analytics/orders", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["orders_total"], 0);
    assert_eq!(a["by_status"]["out_for_delivery"], 0);
}
