//! AWS's transaction conflicts and throttling, injected in front of DynamoDB Local (which
//! produces neither), and the retries that must turn them into exactly one effect: conflicted
//! transactions tried again with jitter, throttled calls retried by the SDK, what is still
//! failing answered as retryable (`503` at the API, the message back on its queue) and retried
//! by the caller.

use axum::http::StatusCode;
use devstack::faults::Faults;
use domain::tasks::ports::TaskStore;
use integration_tests::{TestStack, example_events};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

const FAULTS: Faults = Faults {
    conflict: 0.3,
    throttle: 0.1,
    server_error: 0.0,
    lost_answer: 0.0,
};

/// A client that honours `503` + `Retry-After` (what the API answers for a retryable failure)
/// by sending the same request again with the same `Idempotency-Key`.
async fn post_retrying(
    stack: &TestStack,
    uri: &str,
    body: &Value,
    key: &str,
) -> (StatusCode, Value) {
    for _ in 0..10 {
        let (status, headers, bytes) = stack.http("POST", uri, Some(body), Some(key)).await;
        if status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(headers.contains_key("retry-after"));
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        return (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        );
    }
    panic!("{uri} still unavailable after 10 tries");
}

/// Switches the faults off, so that the checks read what happened under them without being
/// throttled themselves (the counts of what was injected stay).
fn calm(stack: &TestStack) {
    stack.faults.as_ref().unwrap().set(Faults::default());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_task_attempts_under_conflicts_still_take_gap_free_numbers() {
    let stack = Arc::new(TestStack::start_with_faults(FAULTS).await);
    let store = Arc::new(stack.task_store());
    // Each submission is one transaction, tried again inside the store when a conflict cancels
    // it: the caller sees it succeed (four conflicts in a row, 0.8 % at this share, do not
    // happen with this seed).
    let ids = integration_tests::queue_tasks(&store, 12).await;
    let submitted = stack.faults.as_ref().unwrap().counts();
    assert!(submitted.conflicts >= 2, "{submitted:?}");
    let numbers = integration_tests::begin_all_at_once(&store, &ids).await;
    calm(&stack);
    assert_eq!(numbers, (1..=12).collect());
    for id in &ids {
        let stored = store.get(id).await.unwrap().unwrap();
        assert_eq!(stored.attempts, 1, "a conflicted attempt is not an attempt");
    }
    let counts = stack.faults.as_ref().unwrap().counts();
    assert!(counts.conflicts > 0, "{counts:?}");
    assert!(counts.throttles > 0, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_submissions_under_conflicts_store_exactly_one_formula() {
    let stack = Arc::new(TestStack::start_with_faults(FAULTS).await);
    let body = json!({"name": "Summer Breeze", "materials": [
        {"name": "Bergamot Oil", "concentration": 15.5},
        {"name": "Iso E Super", "concentration": 30}]});
    let handles: Vec<_> = (0..16)
        .map(|i| {
            let (stack, body) = (stack.clone(), body.clone());
            tokio::spawn(async move {
                post_retrying(&stack, "/formulas", &body, &format!("formula-{i}")).await
            })
        })
        .collect();
    let mut accepted = 0;
    let mut ids = BTreeSet::new();
    for h in handles {
        let (status, answer) = h.await.unwrap();
        match status {
            StatusCode::ACCEPTED => accepted += 1,
            StatusCode::CONFLICT => {}
            other => panic!("{other} {answer}"),
        }
        ids.insert(answer["formula_id"].as_str().unwrap().to_owned());
    }
    assert_eq!((accepted, ids.len()), (1, 1));
    calm(&stack);
    let outbox: Vec<Value> = devstack::report::scan_all(&stack.dynamo(), &stack.table("outbox"))
        .await
        .unwrap();
    assert_eq!(outbox.len(), 1, "one outbox row for one formula");
    assert!(stack.faults.as_ref().unwrap().counts().conflicts > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returns_under_conflicts_and_throttling_have_each_of_their_effects_once() {
    let stack = TestStack::start_with_faults(FAULTS).await;
    let functions = stack.functions();
    let mut ids = Vec::new();
    for (i, event) in example_events().iter().enumerate() {
        let (status, answer) =
            post_retrying(&stack, "/rentals/returns", event, &format!("return-{i}")).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
        ids.push(answer["return_id"].as_str().unwrap().to_owned());
    }
    // The fault-free outcome of the example events (tests/flows/rentals.rs): four completed
    // returns, each told to its user once and counted once.
    let sink = stack.sink.clone();
    stack
        .pump_until(&functions, Duration::from_secs(90), || {
            let sink = sink.clone();
            async move { sink.received().len() >= 4 }
        })
        .await;
    calm(&stack);
    let mut statuses = Vec::new();
    for id in &ids {
        let (_, answer) = stack
            .api("GET", &format!("/rentals/returns/{id}"), None)
            .await;
        statuses.push(answer["status"].as_str().unwrap().to_owned());
    }
    assert_eq!(
        statuses,
        [
            "completed",
            "completed",
            "rejected",
            "completed",
            "completed"
        ]
    );
    // Let anything redelivered arrive, then count effects.
    for _ in 0..5 {
        stack
            .pump_until(&functions, Duration::from_secs(10), || async { true })
            .await;
    }
    assert_eq!(
        stack.sink.received().len(),
        4,
        "one notification per completion"
    );
    let stats: Vec<Value> = devstack::report::scan_all(&stack.dynamo(), &stack.table("user-stats"))
        .await
        .unwrap();
    let counted: u64 = stats
        .iter()
        .map(|s| s["returns_count"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!(counted, 4, "each completion counted once: {stats:?}");
    for queue in ["rental-returns", "notifications", "projections"] {
        assert!(stack.dead_letters(queue).await.is_empty(), "{queue} DLQ");
    }
    let counts = stack.faults.as_ref().unwrap().counts();
    assert!(counts.conflicts > 0 && counts.throttles > 0, "{counts:?}");
}
