//! Flow 5 against the local emulators: stock taken atomically with the order (never below 0,
//! all lines or none), cancellations that restock, one winner of concurrent transitions, one
//! low-stock alert per crossing, analytics that count each event once — also with AWS's
//! transaction conflicts and throttling injected in front of DynamoDB Local.

use axum::http::StatusCode;
use devstack::faults::Faults;
use integration_tests::TestStack;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn one(sku: &str, quantity: u32) -> Value {
    json!({"customer_id": "ec_c0001", "items": [{"sku": sku, "quantity": quantity}]})
}

async fn available(stack: &TestStack, sku: &str) -> u64 {
    let (status, s) = stack.api("GET", &format!("/inventory/{sku}"), None).await;
    assert_eq!(status, StatusCode::OK, "{s}");
    s["available"].as_u64().unwrap()
}

async fn set_stock(stack: &TestStack, sku: &str, available: u32, threshold: u32) {
    let body = json!({"available": available, "low_stock_threshold": threshold});
    let (status, s) = stack
        .api("PUT", &format!("/inventory/{sku}"), Some(&body))
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
}

/// POSTs `body`; a `503` (a retryable failure: conflicts or throttling past the retries) is
/// sent again with the same `Idempotency-Key`, as a client honouring `Retry-After` would.
async fn place(stack: &TestStack, body: &Value, key: &str) -> (StatusCode, Value) {
    for _ in 0..20 {
        let (status, _, bytes) = stack.http("POST", "/orders", Some(body), Some(key)).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        return (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        );
    }
    panic!("POST /orders still unavailable after 20 tries");
}

async fn set_status(stack: &TestStack, id: &str, status: &str) -> (StatusCode, Value) {
    let body = json!({"status": status});
    for _ in 0..20 {
        let (code, answer) = stack
            .api("PATCH", &format!("/orders/{id}/status"), Some(&body))
            .await;
        if code != StatusCode::SERVICE_UNAVAILABLE {
            return (code, answer);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("PATCH still unavailable after 20 tries");
}

/// `n` one-unit orders of `sku` at once: the answers' statuses.
async fn concurrent_orders(
    stack: &Arc<TestStack>,
    sku: &str,
    n: usize,
    tag: &str,
) -> Vec<(StatusCode, Value)> {
    let tasks: Vec<_> = (0..n)
        .map(|i| {
            let (stack, body, key) = (stack.clone(), one(sku, 1), format!("{tag}-{i}"));
            tokio::spawn(async move { place(&stack, &body, &key).await })
        })
        .collect();
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    answers
}

fn low_stock_alerts(stack: &TestStack, sku: &str) -> usize {
    stack
        .sink
        .received()
        .iter()
        .filter(|r| !r.duplicate && r.body["kind"] == "low_stock" && r.body["data"]["sku"] == sku)
        .count()
}

/// Runs the consumers until the analytics count `orders` orders and `sku` has had an alert.
async fn pump_until_counted(
    stack: &Arc<TestStack>,
    functions: &Arc<integration_tests::Functions>,
    orders: i64,
    sku: &'static str,
) {
    let s = stack.clone();
    stack
        .pump_until(functions, Duration::from_secs(60), move || {
            let s = s.clone();
            async move {
                let (_, a) = s.api("GET", "/analytics/orders", None).await;
                a["orders_total"] == orders && low_stock_alerts(&s, sku) >= 1
            }
        })
        .await;
}

/// `faults(true)` switches injected faults on for the placements, `faults(false)` off again, so
/// that the checks read what happened without being throttled themselves.
async fn forty_orders_for_five_units(stack: Arc<TestStack>, faults: impl Fn(bool)) {
    let sku = "ec_sku_special_limited";
    assert_eq!(available(&stack, sku).await, 5, "the seeded stock");
    faults(true);
    let answers = concurrent_orders(&stack, sku, 40, "forty").await;
    faults(false);
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CONFLICT)
        .map(|(_, b)| b)
        .collect();
    assert_eq!((created, refused.len()), (5, 35), "{answers:?}");
    for body in refused {
        assert_eq!(body["error"]["code"], "insufficient_stock", "{body}");
        assert_eq!(
            body["error"]["details"][0]["field"], "items[0].sku",
            "{body}"
        );
        assert_eq!(
            body["error"]["details"][0]["code"], "insufficient_stock",
            "{body}"
        );
    }
    assert_eq!(available(&stack, sku).await, 0);

    // 5 → 0 crosses the threshold of 2 once, whichever order did it.
    let functions = stack.functions();
    pump_until_counted(&stack, &functions, 5, sku).await;
    assert_eq!(low_stock_alerts(&stack, sku), 1);
    let (_, a) = stack.api("GET", "/analytics/orders", None).await;
    assert_eq!(
        (a["items_sold"].as_i64(), a["by_status"]["placed"].as_i64()),
        (Some(5), Some(5)),
        "{a}"
    );
    let tracking = stack
        .sink
        .received()
        .iter()
        .filter(|r| r.body["kind"] == "order_status")
        .count();
    assert_eq!(tracking, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_concurrent_one_unit_orders_for_five_units_create_exactly_five() {
    forty_orders_for_five_units(Arc::new(TestStack::start().await), |_| {}).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forty_concurrent_orders_for_five_units_under_conflicts_and_throttling_still_create_five() {
    let stack = Arc::new(TestStack::start_with_faults(Faults::default()).await);
    let proxy = stack.faults.clone().unwrap();
    forty_orders_for_five_units(stack.clone(), |on| {
        proxy.set(if on {
            Faults {
                conflict: 0.2,
                throttle: 0.05,
                server_error: 0.0,
                lost_answer: 0.0,
            }
        } else {
            Faults::default()
        })
    })
    .await;
    let counts = proxy.counts();
    assert!(counts.conflicts > 0 && counts.throttles > 0, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_takes_every_line_or_none() {
    let stack = TestStack::start().await;
    let (burger, peri) = ("ec_sku_burger_classic", "ec_sku_sauce_peri");
    let before = available(&stack, burger).await;
    let body = json!({"customer_id": "ec_c0002", "items": [
        {"sku": burger, "quantity": 2}, {"sku": peri, "quantity": 1}]});
    let (status, answer) = place(&stack, &body, "multi-1").await;
    assert_eq!(status, StatusCode::CONFLICT, "{answer}");
    let details = answer["error"]["details"].as_array().unwrap();
    assert_eq!(details.len(), 1, "only the short line: {answer}");
    assert_eq!(details[0]["field"], "items[1].sku");
    assert_eq!(available(&stack, burger).await, before, "nothing taken");

    let body = json!({"customer_id": "ec_c0002", "items": [
        {"sku": burger, "quantity": 2}, {"sku": "ec_sku_no_such_thing", "quantity": 1}]});
    let (status, answer) = place(&stack, &body, "multi-2").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{answer}");
    assert_eq!(answer["error"]["code"], "unknown_sku");
    assert_eq!(answer["error"]["details"][0]["field"], "items[1].sku");
    assert_eq!(available(&stack, burger).await, before);

    let body = json!({"customer_id": "ec_c0002", "items": [
        {"sku": burger, "quantity": 2}, {"sku": "ec_sku_fries_regular", "quantity": 3}]});
    let (status, answer) = place(&stack, &body, "multi-3").await;
    assert_eq!(status, StatusCode::CREATED, "{answer}");
    assert_eq!(available(&stack, burger).await, before - 2);
    assert_eq!(available(&stack, "ec_sku_fries_regular").await, 297);
    let id = answer["order_id"].as_str().unwrap();
    let (status, order) = stack.api("GET", &format!("/orders/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["status"], "placed");
    assert_eq!(
        order["items"][1],
        json!({"sku": "ec_sku_fries_regular", "quantity": 3})
    );
    assert_eq!(order["history"].as_array().unwrap().len(), 1);

    // The same key and body replays the first answer; nothing more is taken.
    let (status, again) = place(&stack, &body, "multi-3").await;
    assert_eq!((status, &again), (StatusCode::CREATED, &answer));
    assert_eq!(available(&stack, burger).await, before - 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_restocks_and_of_concurrent_transitions_one_wins() {
    let stack = Arc::new(TestStack::start().await);
    let combo = "ec_sku_combo_family";
    let (_, placed) = place(&stack, &one(combo, 8), "cancel-1").await;
    let id = placed["order_id"].as_str().unwrap().to_owned();
    assert_eq!(available(&stack, combo).await, 4);

    // Ten clients ask for the same step at once: one change, nine no-ops, one history entry.
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (stack, id) = (stack.clone(), id.clone());
            tokio::spawn(async move { set_status(&stack, &id, "preparing").await })
        })
        .collect();
    for t in tasks {
        let (status, order) = t.await.unwrap();
        assert_eq!(
            (status, order["status"].as_str()),
            (StatusCode::OK, Some("preparing")),
            "{order}"
        );
    }
    let (_, order) = stack.api("GET", &format!("/orders/{id}"), None).await;
    assert_eq!(order["history"].as_array().unwrap().len(), 2, "{order}");

    // From preparing, cancelled and out_for_delivery exclude each other: one wins, the other
    // finds it can no longer go there.
    let (a, b) = tokio::join!(
        set_status(&stack, &id, "cancelled"),
        set_status(&stack, &id, "out_for_delivery")
    );
    let outcomes = [a.0, b.0];
    assert!(
        outcomes.contains(&StatusCode::OK) && outcomes.contains(&StatusCode::CONFLICT),
        "{a:?} {b:?}"
    );
    let loser = if a.0 == StatusCode::CONFLICT {
        &a.1
    } else {
        &b.1
    };
    assert_eq!(loser["error"]["code"], "invalid_transition");
    let (_, order) = stack.api("GET", &format!("/orders/{id}"), None).await;
    let restocked = available(&stack, combo).await;
    match order["status"].as_str().unwrap() {
        "cancelled" => assert_eq!(restocked, 12, "every line back"),
        "out_for_delivery" => assert_eq!(restocked, 4, "nothing back"),
        other => panic!("{other}"),
    }
    assert_eq!(order["history"].as_array().unwrap().len(), 3, "{order}");

    let (status, missing) = set_status(&stack, "ord_nothing_here", "preparing").await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("order_not_found"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_alert_per_crossing_under_concurrency_and_a_restock_re_arms_it() {
    let stack = Arc::new(TestStack::start().await);
    let sku = "ec_sku_drink_cola";
    set_stock(&stack, sku, 12, 5).await;
    // 12 → 0 in one-unit steps, all twelve at once: 5 → 4 crosses once.
    let answers = concurrent_orders(&stack, sku, 12, "cross-a").await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::CREATED),
        "{answers:?}"
    );
    let functions = stack.functions();
    pump_until_counted(&stack, &functions, 12, sku).await;
    assert_eq!(low_stock_alerts(&stack, sku), 1);

    // A restock above the threshold re-arms it; the next crossing alerts again.
    set_stock(&stack, sku, 7, 5).await;
    let answers = concurrent_orders(&stack, sku, 4, "cross-b").await;
    assert!(
        answers.iter().all(|(s, _)| *s == StatusCode::CREATED),
        "{answers:?}"
    );
    let s = stack.clone();
    stack
        .pump_until(&functions, Duration::from_secs(60), move || {
            let s = s.clone();
            async move { low_stock_alerts(&s, "ec_sku_drink_cola") >= 2 }
        })
        .await;
    assert_eq!(available(&stack, sku).await, 3);
    let alert = stack
        .sink
        .received()
        .into_iter()
        .rev()
        .find(|r| r.body["kind"] == "low_stock")
        .unwrap();
    assert_eq!(
        (
            alert.body["user_id"].as_str(),
            alert.body["data"]["threshold"].as_u64()
        ),
        (Some("operations"), Some(5))
    );
    assert_eq!(alert.body["data"]["available"], 4);
    assert_eq!(low_stock_alerts(&stack, sku), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn analytics_count_each_event_once_under_duplicate_delivery() {
    let stack = Arc::new(TestStack::start().await);
    let (_, placed) = place(&stack, &one("ec_sku_bowl_paneer", 3), "dup-1").await;
    let id = placed["order_id"].as_str().unwrap().to_owned();
    set_status(&stack, &id, "cancelled").await;
    let functions = stack.functions();
    let s = stack.clone();
    stack
        .pump_until(&functions, Duration::from_secs(60), move || {
            let s = s.clone();
            async move { s.api("GET", "/analytics/orders", None).await.1["cancelled_total"] == 1 }
        })
        .await;

    // Deliver both events again, twice each, concurrently, as new messages (past the FIFO
    // de-duplication window, say): the counts stay.
    let events = stack
        .dynamo()
        .scan()
        .table_name(stack.table("outbox"))
        .send()
        .await
        .unwrap()
        .items
        .unwrap_or_default()
        .into_iter()
        .filter(|i| i.get("aggregate_id").and_then(|v| v.as_s().ok()) == Some(&id))
        .map(|i| i["body"].as_s().unwrap().clone())
        .collect::<Vec<_>>();
    assert_eq!(events.len(), 2);
    let queue = stack.resources.queue("projections").unwrap().url.clone();
    for round in 0..2 {
        for (n, body) in events.iter().enumerate() {
            stack
                .sqs()
                .send_message()
                .queue_url(&queue)
                .message_body(body)
                .message_group_id(format!("dup-{round}-{n}"))
                .message_deduplication_id(format!("dup-{round}-{n}"))
                .send()
                .await
                .unwrap();
        }
    }
    let source = stack.queue_source("projections");
    let invoker = functions.invoker();
    for _ in 0..10 {
        source.poll_once(&invoker).await.unwrap();
    }
    let (_, a) = stack.api("GET", "/analytics/orders", None).await;
    assert_eq!(
        (
            a["orders_total"].as_i64(),
            a["cancelled_total"].as_i64(),
            a["items_sold"].as_i64()
        ),
        (Some(1), Some(1), Some(0)),
        "{a}"
    );
    assert_eq!(a["by_status"]["cancelled"], 1);
    assert_eq!(a["by_status"]["placed"], 0);
    assert!(stack.dead_letters("projections").await.is_empty());
}
