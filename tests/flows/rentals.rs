//! Flow 1 end to end against the local emulators: the API, the rental-returns queue, the rental-return
//! function, the outbox and its relay, the topic fan-out, the notifier and the projections.

use axum::http::StatusCode;
use domain::ids::UserId;
use domain::rentals::{AssetId, RentalId};
use domain::rentals::ports::{RentalStore, StatsView};
use domain::rentals::{AssetType, Rental, RentalStatus, ReturnScan};
use domain::time::parse_event_time;
use integration_tests::TestStack;
use platform::dynamo::rental_store::{DynamoRentalStore, RentalTables};
use platform::dynamo::stats_store::DynamoStatsView;
use platform::dynamo::Rejection;
use platform::sqs::FifoSender;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::time::Duration;

async fn api(
    stack: &TestStack,
    method: &str,
    uri: &str,
    body: Option<&Value>,
) -> (StatusCode, Value) {
    stack.api(method, uri, body).await
}

async fn api_with_key(
    stack: &TestStack,
    method: &str,
    uri: &str,
    body: Option<&Value>,
    key: Option<&str>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    stack.http(method, uri, body, key).await
}

async fn outbox_rows(stack: &TestStack) -> usize {
    devstack::report::scan_all::<Value>(&stack.dynamo(), &stack.table("outbox"))
        .await
        .unwrap()
        .len()
}

async fn rental(stack: &TestStack, id: &str) -> Rental {
    let rentals = rental_store(stack)
        .rentals_of(&UserId::parse(id_owner(id)).unwrap())
        .await
        .unwrap();
    rentals
        .into_iter()
        .find(|r| r.rental_id.as_str() == id)
        .unwrap()
}

fn id_owner(rental: &str) -> &'static str {
    match rental {
        "tpg_r0001" | "tpg_r0002" | "extra_r1" => "tpg_u0001",
        "tpg_r0003" | "tpg_r0004" => "tpg_u0002",
        "tpg_r0005" => "tpg_u0003",
        "tpg_r0006" | "tpg_r0007" => "tpg_u0004",
        _ => "tpg_u0005",
    }
}

/// A second clamshell-eligible rental for tpg_u0001, newer than tpg_r0001, so that a scan
/// processed twice would have something to complete the second time.
async fn add_second_clamshell_rental(stack: &TestStack) {
    let rental = Rental {
        rental_id: RentalId::parse("extra_r1").unwrap(),
        user_id: UserId::parse("tpg_u0001").unwrap(),
        asset_id: AssetId::parse("tpg_a00006").unwrap(),
        status: RentalStatus::InProgress,
        created_at: parse_event_time("2025-02-08T12:00:00Z").unwrap(),
        expires_at: parse_event_time("2025-02-20T12:00:00Z").unwrap(),
        eligible_asset_types: vec![AssetType::Clamshell],
        created_at_location_id: None,
        returned_at: None,
        returned_at_location_id: None,
    };
    let item: platform::dynamo::Item = serde_dynamo::to_item(&rental).unwrap();
    stack
        .dynamo()
        .put_item()
        .table_name(stack.table("rentals"))
        .set_item(Some(item))
        .send()
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_five_example_events_reach_the_expected_end_state() {
    let stack = TestStack::start().await;
    let functions = stack.functions();
    let mut ids = Vec::new();
    for event in example_events() {
        let (status, body) = api(&stack, "POST", "/rentals/returns", Some(&event)).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{body}");
        ids.push(body["return_id"].as_str().unwrap().to_owned());
    }
    let sink = stack.sink.clone();
    let stats = stats_store(&stack);
    stack
        .pump_until(&functions, Duration::from_secs(60), || {
            let (sink, stats) = (sink.clone(), stats.clone());
            async move {
                let u1 = stats
                    .get(&UserId::parse("tpg_u0001").unwrap())
                    .await
                    .unwrap();
                sink.received().len() >= 4 && u1.is_some_and(|s| s.returns_count == 2)
            }
        })
        .await;

    let expected = [
        json!({"status": "completed", "rental_id": "tpg_r0001"}),
        json!({"status": "completed", "rental_id": "tpg_r0004"}),
        json!({"status": "rejected", "reason": "asset_not_found"}),
        json!({"status": "completed", "rental_id": "tpg_r0006"}),
        json!({"status": "completed", "rental_id": "tpg_r0002"}),
    ];
    for (id, mut want) in ids.iter().zip(expected) {
        let (status, body) = api(&stack, "GET", &format!("/rentals/returns/{id}"), None).await;
        assert_eq!(status, StatusCode::OK);
        want["return_id"] = json!(id);
        assert_eq!(body, want);
    }

    let returned = BTreeMap::from([
        ("tpg_r0001", ("2025-02-10T11:00:00Z", "topanga-location-01")),
        ("tpg_r0004", ("2025-02-10T12:30:00Z", "topanga-location-02")),
        ("tpg_r0006", ("2025-02-10T14:00:00Z", "topanga-location-01")),
        ("tpg_r0002", ("2025-02-10T15:00:00Z", "topanga-location-01")),
    ]);
    let fixtures = fixture_rentals();
    for original in &fixtures {
        let now = rental(&stack, original.rental_id.as_str()).await;
        match returned.get(original.rental_id.as_str()) {
            Some((at, location)) => {
                assert_eq!(now.status, RentalStatus::Completed, "{}", now.rental_id);
                assert_eq!(now.returned_at, parse_event_time(at));
                assert_eq!(now.returned_at_location_id.unwrap().as_str(), *location);
            }
            None => assert_eq!(&now, original, "untouched"),
        }
    }

    let mut notified: Vec<String> = stack
        .sink
        .received()
        .iter()
        .map(|n| n.body["user_id"].as_str().unwrap().to_owned())
        .collect();
    notified.sort();
    assert_eq!(
        notified,
        ["tpg_u0001", "tpg_u0001", "tpg_u0002", "tpg_u0004"]
    );
    assert!(stack.sink.received().iter().all(|n| !n.duplicate));

    let (_, u1) = api(&stack, "GET", "/users/tpg_u0001/stats", None).await;
    assert_eq!(
        (u1["returns_count"].as_u64(), u1["reward_points"].as_u64()),
        (Some(2), Some(30))
    );
    let (_, u5) = api(&stack, "GET", "/users/tpg_u0005/stats", None).await;
    assert_eq!(u5["returns_count"], 0, "a rejected return earns nothing");

    let (status, body) = api(&stack, "GET", "/users/tpg_u0001/rentals", None).await;
    assert_eq!(status, StatusCode::OK);
    let statuses: Vec<&str> = body["rentals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["COMPLETED", "COMPLETED"]);

    assert_eq!(
        outbox_rows(&stack).await,
        4,
        "one event per completed return"
    );
    for queue in ["rental-returns", "notifications", "projections"] {
        assert!(stack.dead_letters(queue).await.is_empty(), "{queue} DLQ");
    }

    // What `make report` prints for this state.
    let report = stack.report().await;
    for line in [
        "== Returns (5) ==",
        "== Notifications received by the sink (4) ==",
        "== Rejected messages (0) ==",
        "rental-returns-dlq   0",
    ] {
        assert!(report.contains(line), "{line:?} not in\n{report}");
    }
    for row in [
        &["tpg_u0001", "tpg_a00001", "completed", "tpg_r0001"][..],
        &["tpg_u0005", "tpg_a00500", "rejected", "asset_not_found"],
        &["tpg_r0004", "tpg_u0002", "tpg_a00015", "COMPLETED"],
        &["tpg_u0001", "2", "2", "30"],
    ] {
        assert!(
            devstack::report::has_row(&report, row),
            "{row:?} not in\n{report}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_scan_twice_completes_one_rental() {
    let stack = TestStack::start().await;
    add_second_clamshell_rental(&stack).await;
    let functions = stack.functions();
    let event = example_events().remove(0);

    // Direct invocation, twice.
    let first = functions
        .invoke("rental-return", event.clone())
        .await
        .unwrap();
    let second = functions
        .invoke("rental-return", event.clone())
        .await
        .unwrap();
    assert_eq!(
        (first["status"].as_str(), first["rental_id"].as_str()),
        (Some("completed"), Some("tpg_r0001"))
    );
    assert_eq!(second["duplicate"], true);
    assert_eq!(second["rental_id"], "tpg_r0001");

    // And through the queue, as two separate messages (a redelivery beyond the FIFO
    // de-duplication window looks exactly like this).
    let queue = FifoSender::new(
        stack.sqs(),
        &stack.resources.queue("rental-returns").unwrap().url,
    );
    for dedup in ["a", "b"] {
        queue
            .send("user-tpg_u0001", dedup, &event.to_string())
            .await
            .unwrap();
    }
    let source = stack.queue_source("rental-returns");
    let invoker = functions.invoker();
    for _ in 0..3 {
        source.poll_once(&invoker).await.unwrap();
    }

    assert_eq!(
        rental(&stack, "tpg_r0001").await.status,
        RentalStatus::Completed
    );
    assert_eq!(
        rental(&stack, "extra_r1").await.status,
        RentalStatus::InProgress
    );
    assert_eq!(outbox_rows(&stack).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_returns_of_one_user_never_complete_a_rental_twice() {
    let stack = TestStack::start().await;
    add_second_clamshell_rental(&stack).await;
    let functions = stack.functions();

    // Six different clamshell scans of tpg_u0001 at once; two rentals can take them.
    let scans: Vec<Value> = (0..6)
        .map(|i| {
            return_event(
                "tpg_u0001",
                "tpg_a00001",
                &format!("2025-02-10T11:0{i}:00Z"),
                "topanga-location-01",
            )
        })
        .collect();
    let results = futures_join(scans.iter().map(|s| {
        let functions = functions.clone();
        let s = s.clone();
        async move { functions.invoke("rental-return", s).await.unwrap() }
    }))
    .await;

    let mut completed: Vec<&str> = results
        .iter()
        .filter(|r| r["status"] == "completed")
        .map(|r| r["rental_id"].as_str().unwrap())
        .collect();
    completed.sort();
    assert_eq!(
        completed,
        ["extra_r1", "tpg_r0001"],
        "each rental completed exactly once: {results:?}"
    );
    assert_eq!(
        results
            .iter()
            .filter(|r| r["reason"] == "no_eligible_rental")
            .count(),
        4
    );
    assert_eq!(outbox_rows(&stack).await, 2);

    // The same scan delivered four times at once: one decision, shared by all.
    let same = return_event(
        "tpg_u0002",
        "tpg_a00015",
        "2025-02-10T12:30:00Z",
        "topanga-location-02",
    );
    let results = futures_join((0..4).map(|_| {
        let functions = functions.clone();
        let s = same.clone();
        async move { functions.invoke("rental-return", s).await.unwrap() }
    }))
    .await;
    assert!(
        results.iter().all(|r| r["rental_id"] == "tpg_r0004"),
        "{results:?}"
    );
    assert_eq!(
        results.iter().filter(|r| r["duplicate"] == false).count(),
        1,
        "{results:?}"
    );
    assert_eq!(outbox_rows(&stack).await, 3);
}

/// Runs futures concurrently on the runtime's threads and collects their results in order.
async fn futures_join<F>(futures: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_messages_are_rejected_for_review_and_not_retried() {
    let stack = TestStack::start().await;
    let functions = stack.functions();
    let queue = FifoSender::new(
        stack.sqs(),
        &stack.resources.queue("rental-returns").unwrap().url,
    );
    queue.send("g", "bad-json", "{not json").await.unwrap();
    queue
        .send("g", "bad-shape", r#"{"timestamp": "later"}"#)
        .await
        .unwrap();
    let good = example_events().remove(1);
    queue.send("g", "good", &good.to_string()).await.unwrap();

    let source = stack.queue_source("rental-returns");
    let invoker = functions.invoker();
    // However many of the group's messages a receive hands over (SQS up to ten, fauxqs one),
    // all three are taken and none is reported failed: permanent failures do not block the group.
    let (mut received, mut failed) = (0, 0);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while received < 3 {
        assert!(
            std::time::Instant::now() < deadline,
            "only {received} received"
        );
        let stats = source.poll_once(&invoker).await.unwrap();
        received += stats.received;
        failed += stats.failed;
    }
    assert_eq!(
        (received, failed),
        (3, 0),
        "permanent failures do not block the group"
    );

    let rejections: Vec<Rejection> =
        devstack::report::scan_all(&stack.dynamo(), &stack.table("rejections"))
            .await
            .unwrap();
    assert_eq!(rejections.len(), 2);
    assert!(rejections.iter().all(|r| r.source == "rental-returns"));
    assert!(
        rejections
            .iter()
            .any(|r| r.body == "{not json" && r.reason.contains("malformed"))
    );
    assert_eq!(
        rental(&stack, "tpg_r0004").await.status,
        RentalStatus::Completed,
        "the good one went through"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        source.poll_once(&invoker).await.unwrap().received,
        0,
        "nothing comes back"
    );
    assert!(stack.dead_letters("rental-returns").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_bad_input_and_queues_nothing() {
    let stack = TestStack::start().await;
    let (status, body) = api(
        &stack,
        "POST",
        "/rentals/returns",
        Some(&json!({"timestamp": 1})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("validation_failed"))
    );
    let (status, _) = api(&stack, "GET", "/users/tpg_u0042/rentals", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let source = stack.queue_source("rental-returns");
    let functions = stack.functions();
    assert_eq!(
        source
            .poll_once(&functions.invoker())
            .await
            .unwrap()
            .received,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idempotency_key_replays_and_refuses_through_the_real_store() {
    let stack = TestStack::start().await;
    let event = example_events().remove(3);
    let (status, headers, first) = api_with_key(
        &stack,
        "POST",
        "/rentals/returns",
        Some(&event),
        Some("bin-7:42"),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(headers.get("idempotent-replayed").is_none());
    let (status, headers, again) = api_with_key(
        &stack,
        "POST",
        "/rentals/returns",
        Some(&event),
        Some("bin-7:42"),
    )
    .await;
    assert_eq!(
        (status, &again),
        (StatusCode::ACCEPTED, &first),
        "byte-for-byte replay"
    );
    assert_eq!(headers["idempotent-replayed"], "true");
    let other = example_events().remove(4);
    let (status, _, body) = api_with_key(
        &stack,
        "POST",
        "/rentals/returns",
        Some(&other),
        Some("bin-7:42"),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"],
        "idempotency_key_mismatch"
    );
    let source = stack.queue_source("rental-returns");
    let functions = stack.functions();
    assert_eq!(
        source
            .poll_once(&functions.invoker())
            .await
            .unwrap()
            .received,
        1,
        "queued once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reset_restores_the_initial_state_and_seeding_again_changes_nothing() {
    let stack = TestStack::start().await;
    let functions = stack.functions();
    let event = &example_events()[0];
    let (status, _, _) = api_with_key(
        &stack,
        "POST",
        "/rentals/returns",
        Some(event),
        Some("reset-key"),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let task = json!({"title": "t", "description": "", "priority": "low"});
    let (status, created) = api(&stack, "POST", "/tasks", Some(&task)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let task_id = created["task_id"].as_str().unwrap().to_owned();
    let s = &stack;
    stack
        .pump_until(&functions, Duration::from_secs(30), || {
            let task_id = task_id.clone();
            async move {
                let (_, t) = api(s, "GET", &format!("/tasks/{task_id}"), None).await;
                let done = rental(s, "tpg_r0001").await.status == RentalStatus::Completed;
                t["status"] == "completed" && done
            }
        })
        .await;

    let dynamo = stack.dynamo();
    devstack::seed::reset(&dynamo, &stack.topology, &stack.resources)
        .await
        .unwrap();
    let fixtures = fixture_rentals();
    for original in &fixtures {
        assert_eq!(&rental(&stack, original.rental_id.as_str()).await, original);
    }
    for (logical, table) in &stack.resources.tables {
        let spec = stack.topology.table(logical).unwrap();
        if spec.reference_data.is_none() {
            let left = devstack::report::scan_items(&dynamo, table).await.unwrap();
            assert!(left.is_empty(), "{logical} still holds {left:?}");
        }
    }
    let again = devstack::seed::seed(&dynamo, &stack.topology, &stack.resources)
        .await
        .unwrap();
    // Every reference item is there already: each table's file, item for item.
    let reference_items: usize = stack
        .topology
        .tables
        .iter()
        .filter_map(|t| t.reference_data.as_ref())
        .map(|d| {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("..")
                .join(&d.file);
            let items: Vec<serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            items.len()
        })
        .sum();
    assert!(reference_items > 0, "the reference files were read");
    assert_eq!((again.written, again.already_present), (0, reference_items));

    // Queues too, and at any pace: two resets in a row, each with messages waiting (after
    // whatever the run above left in flight becomes visible and is emptied).
    let sqs = stack.sqs();
    tokio::time::sleep(Duration::from_secs(
        u64::from(integration_tests::TEST_VISIBILITY_SECS) + 1,
    ))
    .await;
    devstack::seed::empty_queues(&sqs, &stack.resources)
        .await
        .unwrap();
    for round in 0..2 {
        for (i, event) in example_events().iter().enumerate() {
            let (status, _) = api(
                &stack,
                "POST",
                "/rentals/returns",
                Some(&{
                    let mut e = event.clone();
                    e["location_id"] = serde_json::json!(format!("reset-{round}-{i}"));
                    e
                }),
            )
            .await;
            assert_eq!(status, StatusCode::ACCEPTED);
        }
        let removed = devstack::seed::empty_queues(&sqs, &stack.resources)
            .await
            .unwrap();
        assert_eq!(removed, 5, "round {round}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn returns_under_conflicts_and_throttling_have_each_of_their_effects_once() {
    let stack = TestStack::start_with_faults(integration_tests::CONFLICTS_AND_THROTTLING).await;
    let functions = stack.functions();
    let mut ids = Vec::new();
    for (i, event) in example_events().iter().enumerate() {
        let (status, answer) =
            integration_tests::post_retrying(&stack, "/rentals/returns", event, &format!("return-{i}")).await;
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
    stack.calm();
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

/// The rentals store over this stack's tables, as the functions wire it.
pub(crate) fn rental_store(stack: &TestStack) -> DynamoRentalStore {
    DynamoRentalStore::new(
        stack.dynamo(),
        RentalTables::from_vars(&stack.vars()).unwrap(),
    )
}

/// The user stats of this stack, as the API reads them.
pub(crate) fn stats_store(stack: &TestStack) -> DynamoStatsView {
    DynamoStatsView::new(stack.dynamo(), stack.table("user-stats"))
}

/// Base64 of an id, as printed in a QR code.
pub(crate) fn qr(id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(id)
}

/// A return event as a bin sends it.
pub(crate) fn return_event(user: &str, asset: &str, timestamp: &str, location: &str) -> Value {
    serde_json::json!({"timestamp": timestamp, "location_id": location,
                       "user_qr_data": qr(user), "asset_qr_data": qr(asset)})
}

#[test]
fn the_function_s_sample_events_are_well_formed_scans() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/rental-return");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{}", dir.display());
    for f in files {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        if v.get("Records").is_some() {
            let batch: aws_lambda_events::event::sqs::SqsEvent =
                serde_json::from_value(v).unwrap();
            assert_eq!(batch.records.len(), 5);
            for r in batch.records {
                let body: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
                ReturnScan::from_json(&body).unwrap();
                assert!(r.attributes.contains_key("MessageGroupId"));
            }
        } else {
            ReturnScan::from_json(&v).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
    }
}

/// The example events shipped in `events/rental-return/`.
pub(crate) fn example_events() -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/rental-return");
    (1..=5)
        .map(|i| {
            serde_json::from_str(
                &std::fs::read_to_string(dir.join(format!("event_0{i}.json"))).unwrap(),
            )
            .unwrap()
        })
        .collect()
}

/// The rentals of the reference data, as `make seed` loads them.
pub(crate) fn fixture_rentals() -> Vec<domain::rentals::Rental> {
    let topology = devstack::Topology::system().unwrap();
    let tables = devstack::seed::load(&topology).unwrap();
    let rentals = tables
        .into_iter()
        .find(|t| t.table.logical == "rentals")
        .unwrap();
    serde_dynamo::from_items(rentals.items).unwrap()
}
