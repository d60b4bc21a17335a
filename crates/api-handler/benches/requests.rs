//! Request handling cost without I/O: validation (and fingerprinting), and whole POSTs through the
//! router with in-memory ports (what the Lambda adds on top of network and DynamoDB time).
//! `make bench`; targets and results in docs/testing.md.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use api_handler::router;
use api_handler::wiring::Ports;
use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use domain::formulas::NewFormula;
use domain::orders::Sku;
use domain::orders::StockLevel;
use domain::rentals::ReturnScan;
use domain::tasks::NewTask;
use serde_json::{Value, json};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use tower::ServiceExt;

fn formula(variant: u64) -> Value {
    let materials: Vec<Value> = (0..10)
        .map(|i| json!({"name": format!("Material {i}"), "concentration": format!("{}.{:02}", i + 1, variant % 100)}))
        .collect();
    json!({"name": format!("Formula {variant}"), "materials": materials})
}

fn services() -> api_handler::Services {
    api_handler::Services::in_memory(&Ports::default())
}

fn task(n: u64) -> Value {
    json!({"title": format!("  Restock shelf {n} "), "description": "Aisle 3, back room.\nCheck the cold store too.",
           "priority": "high", "due_date": "2026-12-01T09:00:00+01:00"})
}

fn validation(c: &mut Criterion) {
    let body = task(7);
    c.bench_function("task validation + sanitization", |b| {
        b.iter(|| NewTask::from_json(black_box(&body)).unwrap())
    });
    let body = formula(7);
    c.bench_function("formula validation + fingerprint (10 materials)", |b| {
        b.iter(|| {
            NewFormula::from_json(black_box(&body))
                .unwrap()
                .fingerprint()
        })
    });
    let scan = json!({"timestamp": "2025-02-10T11:00:00+00:00", "location_id": "topanga-location-01",
                      "user_qr_data": "dHBnX3UwMDAx", "asset_qr_data": "dHBnX2EwMDAwMQ=="});
    c.bench_function("return scan validation + return id", |b| {
        b.iter(|| ReturnScan::from_json(black_box(&scan)).unwrap().return_id())
    });
}

/// `POST path` through the router on `services`, each iteration with the body `body(n)` for a
/// new `n`; every request must be answered `accepted`.
fn bench_post(
    c: &mut Criterion,
    rt: &tokio::runtime::Runtime,
    (path, accepted, shape): (&'static str, u16, &str),
    services: api_handler::Services,
    body: impl Fn(u64) -> Value,
) {
    // Built once, as the function builds it at cold start; a clone shares it.
    let app = router(services);
    let counter = AtomicU64::new(0);
    c.bench_function(
        &format!("POST {path}{shape} through the router (in-memory ports)"),
        |b| {
            b.to_async(rt).iter(|| {
                let request = Request::post(path)
                    .header("content-type", "application/json")
                    .body(Body::from(
                        body(counter.fetch_add(1, Ordering::Relaxed)).to_string(),
                    ))
                    .unwrap();
                let app = app.clone();
                async move { assert_eq!(app.oneshot(request).await.unwrap().status(), accepted) }
            })
        },
    );
}

fn post_through_router(c: &mut Criterion) {
    // Timers too: the router bounds every request's time, as in the function.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // A new make-up each time: the accepted path, not the duplicate one.
    bench_post(c, &rt, ("/formulas", 202, ""), services(), |n| {
        let mut body = formula(n);
        body["materials"][9]["name"] = json!(format!("Unique {n}"));
        body
    });
    bench_post(c, &rt, ("/tasks", 202, ""), services(), task);
    bench_post(c, &rt, ("/rentals/returns", 202, ""), services(), |n| {
        json!({"timestamp": format!("2025-02-10T11:00:00.{:03}Z", n % 1000),
               "location_id": format!("loc-{n}"), "user_qr_data": "dHBnX3UwMDAx",
               "asset_qr_data": "dHBnX2EwMDAwMQ=="})
    });
    // Two lines from a stock that does not run out: the stock read, both deductions, the order
    // and its event.
    let memory = Ports::default();
    for sku in ["ec_sku_burger_classic", "ec_sku_fries_regular"] {
        memory
            .port::<domain::orders::memory::InMemoryOrders>()
            .put_level(StockLevel {
                sku: Sku::parse(sku).unwrap(),
                available: u32::MAX,
                low_stock_threshold: 20,
            });
    }
    bench_post(
        c,
        &rt,
        ("/orders", 201, ""),
        api_handler::Services::in_memory(&memory),
        |n| {
            json!({"customer_id": format!("ec_c{:04}", n % 1000), "items": [
            {"sku": "ec_sku_burger_classic", "quantity": 2}, {"sku": "ec_sku_fries_regular", "quantity": 1}]})
        },
    );
    // A fitness app event in each shape: read, translated (the legacy id hashed from the body)
    // and queued; a new event each time.
    bench_post(c, &rt, ("/v1/event", 202, " (legacy)"), services(), |n| {
        json!({"user_id": format!("foo{}", n % 1000), "device_id": "bar1",
               "type": "training_program_started", "training_program_id": "2352",
               "training_program_title": "7 Minutes of HIIT Training",
               "time_stamp": format!("2021-02-28 16:{:02}:{:02}", (n / 60) % 60, n % 60),
               "n": n})
    });
    bench_post(c, &rt, ("/v1/event", 202, " (v2)"), services(), |n| {
        json!({"schema_version": 2, "event_id": format!("evt-{n}"), "user_id": format!("foo{}", n % 1000),
               "device_id": "bar1", "type": "training_program_finished",
               "time": "2021-02-28T16:59:43Z", "payload": {"training_program_id": "2352"}})
    });
}

/// What a cold start pays once: every route, the idempotency layer, the fallbacks.
fn router_construction(c: &mut Criterion) {
    c.bench_function("router construction (once per cold start)", |b| {
        b.iter(|| black_box(router(services())))
    });
}

criterion_group!(
    benches,
    validation,
    post_through_router,
    router_construction
);
criterion_main!(benches);
