//! The messaging backbone against the local emulators: FIFO partial batches, retries into the dead-letter
//! queue, the notifier's retries and idempotency, the outbox relay's ordering and exactly-once
//! publication.

use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
use axum::Json;
use axum::http::StatusCode;
use axum::routing::post;
use domain::events::{DomainEvent, Outbound};
use domain::ids::UserId;
use domain::rentals::AssetType;
use domain::rentals::RentalCompleted;
use domain::rentals::{AssetId, LocationId, RentalId, ReturnId};
use domain::time::parse_event_time;
use integration_tests::{TEST_VISIBILITY_SECS, TestStack};
use platform::sqs::FifoSender;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

fn completed(user: &str, n: u32) -> Outbound {
    RentalCompleted {
        return_id: ReturnId::parse(format!("ret_{user}_{n}")).unwrap(),
        rental_id: RentalId::parse(format!("r_{n}")).unwrap(),
        user_id: UserId::parse(user).unwrap(),
        asset_id: AssetId::parse("tpg_a00001").unwrap(),
        asset_type: AssetType::Clamshell,
        returned_at: parse_event_time(&format!("2025-02-10T11:{n:02}:00Z")).unwrap(),
        location_id: LocationId::parse("topanga-location-01").unwrap(),
        expires_at: parse_event_time("2025-02-15T12:00:00Z").unwrap(),
    }
    .outbound()
    .unwrap()
}

/// A notification service on loopback that fails (HTTP 500) while `failing` says so for the
/// user in the request, and records the user of every call, in order.
async fn flaky_service(failing: impl Fn(&str) -> bool + Send + Sync + 'static) -> (String, Calls) {
    let calls = Calls::default();
    let log = calls.clone();
    let failing = Arc::new(failing);
    let app = axum::Router::new().route(
        "/v1/notify",
        post(move |Json(body): Json<Value>| {
            let user = body["user_id"].as_str().unwrap_or("").to_owned();
            let fail = failing(&user);
            log.0.lock().unwrap().push(user);
            async move {
                if fail {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::ACCEPTED
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, calls)
}

#[derive(Clone, Default)]
struct Calls(Arc<std::sync::Mutex<Vec<String>>>);

impl Calls {
    fn users(&self) -> Vec<String> {
        self.0.lock().unwrap().clone()
    }
    fn count(&self) -> usize {
        self.0.lock().unwrap().len()
    }
}

fn notifications_queue(stack: &TestStack) -> FifoSender {
    FifoSender::new(
        stack.sqs(),
        &stack.resources.queue("notifications").unwrap().url,
    )
}

async fn send_event(queue: &FifoSender, event: &Outbound, dedup: &str) {
    queue
        .send(
            &event.event.aggregate_id,
            dedup,
            &serde_json::to_string(&event.event).unwrap(),
        )
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_poison_message_ends_in_the_dlq_after_max_receive_count() {
    let stack = TestStack::start().await;
    let (url, calls) = flaky_service(|_| true).await;
    let functions = stack.functions_notifying(&url);
    let event = completed("tpg_u0001", 1);
    send_event(&notifications_queue(&stack), &event, "poison").await;

    let source = stack.queue_source("notifications");
    let invoker = functions.invoker();
    let mut receives = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    while stack.dead_letters("notifications").await.is_empty() {
        assert!(Instant::now() < deadline, "message never reached the DLQ");
        let stats = source.poll_once(&invoker).await.unwrap();
        receives += stats.received;
        assert_eq!(stats.failed, stats.received, "every delivery fails");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    let max = stack.topology.max_receive_count as usize;
    assert_eq!(
        receives, max,
        "delivered maxReceiveCount times, then dead-lettered"
    );
    assert_eq!(calls.count(), max * 3, "three HTTP attempts per delivery");
    let dead = stack.dead_letters("notifications").await;
    assert_eq!(
        serde_json::from_str::<DomainEvent>(&dead[0]).unwrap(),
        event.event
    );
    tokio::time::sleep(Duration::from_secs(u64::from(TEST_VISIBILITY_SECS) + 1)).await;
    assert_eq!(
        source.poll_once(&invoker).await.unwrap().received,
        0,
        "gone from the source queue"
    );
}

fn sqs_batch(events: &[Outbound]) -> SqsEvent {
    let mut batch = SqsEvent::default();
    batch.records = events
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let mut m = SqsMessage::default();
            m.message_id = Some(format!("m{i}"));
            m.body = Some(serde_json::to_string(&e.event).unwrap());
            m.attributes.insert("MessageGroupId".into(), "g".into());
            m.attributes
                .insert("ApproximateReceiveCount".into(), "1".into());
            m
        })
        .collect();
    batch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_middle_record_is_reported_with_every_later_record_and_keeps_its_place() {
    let stack = TestStack::start().await;
    let down = Arc::new(AtomicBool::new(true));
    let flag = down.clone();
    let (url, _) =
        flaky_service(move |user| user == "tpg_u0002" && flag.load(Ordering::SeqCst)).await;
    let functions = stack.functions_notifying(&url);
    let events = [
        completed("tpg_u0001", 1),
        completed("tpg_u0002", 2),
        completed("tpg_u0003", 3),
    ];

    // The handler's answer to one batch.
    let response = functions
        .notifier
        .handle(sqs_batch(&events), platform::batch::Budget::unlimited())
        .await
        .unwrap();
    let failed: Vec<_> = response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["m1", "m2"]);

    // The same through the queue: one message group, so the third waits for the second.
    let stack2 = TestStack::start().await;
    let (url, calls) = flaky_service({
        let flag = down.clone();
        move |user| user == "tpg_u0002" && flag.load(Ordering::SeqCst)
    })
    .await;
    let functions = stack2.functions_notifying(&url);
    let queue = notifications_queue(&stack2);
    for (i, e) in events.iter().enumerate() {
        queue
            .send(
                "one-group",
                &format!("d{i}"),
                &serde_json::to_string(&e.event).unwrap(),
            )
            .await
            .unwrap();
    }
    let source = stack2.queue_source("notifications");
    let invoker = functions.invoker();
    // Polled until the failing record has been tried: however many of the group's messages a
    // receive hands over (SQS and moto up to ten, fauxqs one), only the record before the failing
    // one is done, and the one behind it is never tried.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut done = 0;
    loop {
        let stats = source.poll_once(&invoker).await.unwrap();
        done += stats.received - stats.failed;
        if stats.failed > 0 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the failing record was never tried"
        );
    }
    assert_eq!(done, 1, "only the record before the failing one is done");
    assert_eq!(
        calls.users(),
        ["tpg_u0001", "tpg_u0002", "tpg_u0002", "tpg_u0002"],
        "u3 never overtakes u2"
    );

    down.store(false, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut redelivered = 0;
    while redelivered < 2 {
        assert!(
            Instant::now() < deadline,
            "the reported records did not come back"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
        let stats = source.poll_once(&invoker).await.unwrap();
        assert_eq!(stats.failed, 0);
        redelivered += stats.received;
    }
    assert_eq!(redelivered, 2, "exactly the reported records come back");
    assert_eq!(
        calls.users(),
        [
            "tpg_u0001",
            "tpg_u0002",
            "tpg_u0002",
            "tpg_u0002",
            "tpg_u0002",
            "tpg_u0003"
        ],
        "after recovery: the failed record first, then the one behind it"
    );
    drop(stack);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_notifier_retries_then_succeeds_and_notifies_once() {
    let stack = TestStack::start().await;
    let functions = stack.functions();
    stack.sink.fail_next(2);
    let event = completed("tpg_u0001", 7);
    let queue = notifications_queue(&stack);
    send_event(&queue, &event, "first").await;

    let source = stack.queue_source("notifications");
    let invoker = functions.invoker();
    let stats = source.poll_once(&invoker).await.unwrap();
    assert_eq!(
        (stats.received, stats.failed),
        (1, 0),
        "two 503s absorbed by the client's retries"
    );
    let received = stack.sink.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].idempotency_key.as_deref(),
        Some(format!("{}:rental_completed", event.event.event_id).as_str())
    );
    assert_eq!(received[0].body["user_id"], "tpg_u0001");

    // A redelivery of the same event (past the queue's de-duplication window) sends nothing.
    send_event(&queue, &event, "second").await;
    assert_eq!(source.poll_once(&invoker).await.unwrap().received, 1);
    assert_eq!(stack.sink.received().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_publishes_each_outbox_record_exactly_once_in_order() {
    let stack = TestStack::start().await;
    let functions = stack.functions();
    let events: Vec<Outbound> = (1..=6).map(|n| completed("tpg_u0003", n)).collect();
    for e in &events {
        stack.write_outbox(e).await.unwrap();
    }
    // A second write of an already-recorded event is refused by its condition.
    assert!(stack.write_outbox(&events[0]).await.is_err());

    let invoker = functions.invoker();
    let relay = stack.outbox_source();
    assert_eq!(relay.poll_once(&invoker).await.unwrap(), events.len());
    // Lambda retrying the whole stream batch (a fresh reader from the start) publishes nothing new.
    let retry = stack.outbox_source();
    assert_eq!(retry.poll_once(&invoker).await.unwrap(), events.len());

    let projections = &stack.resources.queue("projections").unwrap().url;
    let mut bodies = Vec::new();
    for _ in 0..20 {
        let out = stack
            .sqs()
            .receive_message()
            .queue_url(projections)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        for m in out.messages() {
            bodies.push(serde_json::from_str::<DomainEvent>(m.body().unwrap()).unwrap());
            stack
                .sqs()
                .delete_message()
                .queue_url(projections)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
        if bodies.len() >= events.len() {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let extra = stack
                .sqs()
                .receive_message()
                .queue_url(projections)
                .send()
                .await
                .unwrap();
            assert!(extra.messages().is_empty(), "a duplicate was published");
            break;
        }
    }
    let written: Vec<DomainEvent> = events.iter().map(|e| e.event.clone()).collect();
    assert_eq!(bodies, written, "every event once, in the order written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relay_keeps_reading_after_a_cancelled_transaction() {
    let stack = TestStack::start().await;
    let functions = stack.functions();
    let invoker = functions.invoker();
    let relay = stack.outbox_source();
    let first = completed("tpg_u0004", 1);
    stack.write_outbox(&first).await.unwrap();
    assert_eq!(relay.poll_once(&invoker).await.unwrap(), 1);
    assert!(
        stack.write_outbox(&first).await.is_err(),
        "the duplicate is cancelled"
    );
    stack
        .write_outbox(&completed("tpg_u0004", 2))
        .await
        .unwrap();
    assert_eq!(
        relay.poll_once(&invoker).await.unwrap(),
        1,
        "the row after the cancellation is delivered"
    );
}

/// A mapping's pollers run invocations concurrently, up to its `max_concurrency`, yet never two
/// invocations holding messages of one FIFO group, and each group's messages in order.
/// `per_group` messages `{"group": g, "n": n}` to each of `groups` FIFO groups, interleaved.
async fn send_in_groups(queue: &FifoSender, groups: u64, per_group: u64) {
    for n in 0..per_group {
        for g in 0..groups {
            let body = serde_json::json!({"group": g, "n": n}).to_string();
            queue
                .send(&format!("g{g}"), &format!("g{g}-{n}"), &body)
                .await
                .unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pollers_of_a_mapping_run_concurrently_but_never_two_messages_of_one_group() {
    use std::collections::{BTreeMap, BTreeSet};
    let stack = TestStack::start().await;
    let queue = FifoSender::new(stack.sqs(), &stack.resources.queue("tasks").unwrap().url);
    let (groups, per_group) = (2u64, 12u64);

    #[derive(Default)]
    struct Seen {
        in_flight: BTreeSet<u64>,
        running: usize,
        peak: usize,
        overlaps: usize,
        order: BTreeMap<u64, Vec<u64>>,
    }
    let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
    let log = seen.clone();
    let invoker = move |_: String, payload: Value| {
        let log = log.clone();
        async move {
            let event: SqsEvent = serde_json::from_value(payload).unwrap();
            let bodies: Vec<Value> = event
                .records
                .iter()
                .map(|r| serde_json::from_str(r.body.as_deref().unwrap()).unwrap())
                .collect();
            let mine: BTreeSet<u64> = bodies
                .iter()
                .map(|b| b["group"].as_u64().unwrap())
                .collect();
            {
                let mut s = log.lock().unwrap();
                if mine.iter().any(|g| s.in_flight.contains(g)) {
                    s.overlaps += 1;
                }
                s.in_flight.extend(&mine);
                s.running += 1;
                s.peak = s.peak.max(s.running);
                for b in &bodies {
                    let g = b["group"].as_u64().unwrap();
                    s.order.entry(g).or_default().push(b["n"].as_u64().unwrap());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
            let mut s = log.lock().unwrap();
            s.running -= 1;
            for g in &mine {
                s.in_flight.remove(g);
            }
            Ok(serde_json::json!({"batchItemFailures": []}))
        }
    };
    // One message per invocation, so that several groups are in flight at once; long polls, as
    // the local stack runs them, waiting when the messages arrive.
    let source = Arc::new(stack.queue_source("tasks").with_wait_secs(1));
    assert_eq!(source.batch_size(), 1);
    let invoker = Arc::new(invoker);
    let pollers: Vec<_> = (0..5)
        .map(|_| {
            let (source, invoker) = (source.clone(), invoker.clone());
            tokio::spawn(async move { devstack::bridge::poll_queue(&source, &*invoker).await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    send_in_groups(&queue, groups, per_group).await;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let done: usize = seen.lock().unwrap().order.values().map(Vec::len).sum();
        if done >= (groups * per_group) as usize {
            break;
        }
        assert!(Instant::now() < deadline, "only {done} messages delivered");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for p in pollers {
        p.abort();
    }
    let s = seen.lock().unwrap();
    assert_eq!(s.overlaps, 0, "two invocations held messages of one group");
    assert!(s.peak > 1, "the pollers never ran concurrently");
    for (g, order) in &s.order {
        assert_eq!(*order, (0..per_group).collect::<Vec<_>>(), "group {g}");
    }
}

/// A batched FIFO mapping hands each group's messages over once and in order, whatever number of
/// a group's messages a receive returns: SQS and moto return up to ten of one group, fauxqs one
/// (`docs/design.md`, "The messaging emulator"). The consumers must not count on either.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batched_mapping_delivers_each_group_once_and_in_order_whatever_the_batch_sizes() {
    use std::collections::BTreeMap;
    let stack = TestStack::start().await;
    let queue = FifoSender::new(
        stack.sqs(),
        &stack.resources.queue("rental-returns").unwrap().url,
    );
    let (groups, per_group) = (3u64, 15u64);
    // Queued before anyone polls, so a receive may find many messages of every group.
    send_in_groups(&queue, groups, per_group).await;
    let order: Arc<std::sync::Mutex<BTreeMap<u64, Vec<u64>>>> = Arc::default();
    let batches = Arc::new(std::sync::Mutex::new(Vec::new()));
    let (log, sizes) = (order.clone(), batches.clone());
    let invoker = move |_: String, payload: Value| {
        let (log, sizes) = (log.clone(), sizes.clone());
        async move {
            let event: SqsEvent = serde_json::from_value(payload).unwrap();
            sizes.lock().unwrap().push(event.records.len());
            let mut log = log.lock().unwrap();
            for r in &event.records {
                let b: Value = serde_json::from_str(r.body.as_deref().unwrap()).unwrap();
                let g = b["group"].as_u64().unwrap();
                log.entry(g).or_default().push(b["n"].as_u64().unwrap());
            }
            Ok(serde_json::json!({"batchItemFailures": []}))
        }
    };
    let source = stack.queue_source("rental-returns").with_wait_secs(0);
    assert_eq!(source.batch_size(), 10);
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        source.poll_once(&invoker).await.unwrap();
        let done: usize = order.lock().unwrap().values().map(Vec::len).sum();
        if done >= (groups * per_group) as usize {
            break;
        }
        assert!(Instant::now() < deadline, "only {done} messages delivered");
    }
    // Nothing more arrives: every message was deleted once handed over.
    source.poll_once(&invoker).await.unwrap();
    let order = order.lock().unwrap();
    for g in 0..groups {
        assert_eq!(order[&g], (0..per_group).collect::<Vec<_>>(), "group {g}");
    }
    let sizes = batches.lock().unwrap();
    assert!(sizes.iter().all(|&n| (1..=10).contains(&n)), "{sizes:?}");
}

/// `make dlq` and `make redrive`: dead letters are listed with their count, oldest and a sample,
/// and moved back to their source queue with their FIFO group and de-duplication id (a
/// standard queue's too), then gone from the dead-letter queue.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_letters_are_listed_and_moved_back_with_their_group_and_dedup_id() {
    use aws_sdk_sqs::types::MessageSystemAttributeName;
    let stack = TestStack::start().await;
    let sqs = stack.sqs();
    let prefix = stack.resources.queue("fitness-events").unwrap().url.clone();
    let prefix = prefix
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches("fitness-events.fifo")
        .to_owned();
    let events = stack.resources.queue("fitness-events").unwrap().clone();
    for (i, group) in ["u1", "u1", "u2"].iter().enumerate() {
        sqs.send_message()
            .queue_url(&events.dlq_url)
            .message_group_id(*group)
            .message_deduplication_id(format!("dedup-{i}"))
            .message_body(format!("poison {i}"))
            .send()
            .await
            .unwrap();
    }
    let nudges = stack.resources.queue("fitness-nudges").unwrap().clone();
    sqs.send_message()
        .queue_url(&nudges.dlq_url)
        .message_body("late timer")
        .send()
        .await
        .unwrap();

    let report = ops::report(&sqs, &stack.topology, &prefix).await.unwrap();
    let of = |q: &str| report.iter().find(|d| d.queue == q).unwrap().clone();
    assert_eq!(of("fitness-events").count, 3);
    assert!(of("fitness-events").sample.unwrap().starts_with("poison"));
    assert!(of("fitness-events").oldest_sent_ms.is_some());
    assert_eq!(of("fitness-nudges").count, 1);
    assert_eq!(of("tasks").count, 0);

    let moved = ops::redrive(&sqs, &stack.topology, &prefix, "fitness-events")
        .await
        .unwrap();
    assert_eq!(moved, 3);
    // Received and deleted until all three are back: a receive may hand over one message of a
    // group (fauxqs) or several (SQS, moto).
    let mut seen: Vec<(String, String, String)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.len() < 3 {
        assert!(Instant::now() < deadline, "only {seen:?} came back");
        let back = sqs
            .receive_message()
            .queue_url(&events.url)
            .max_number_of_messages(10)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .send()
            .await
            .unwrap();
        for m in back.messages() {
            let a = m.attributes().unwrap();
            seen.push((
                a[&MessageSystemAttributeName::MessageGroupId].clone(),
                a[&MessageSystemAttributeName::MessageDeduplicationId].clone(),
                m.body().unwrap().to_owned(),
            ));
            sqs.delete_message()
                .queue_url(&events.url)
                .receipt_handle(m.receipt_handle().unwrap())
                .send()
                .await
                .unwrap();
        }
    }
    seen.sort();
    assert_eq!(
        seen,
        [
            ("u1".into(), "dedup-0".into(), "poison 0".into()),
            ("u1".into(), "dedup-1".into(), "poison 1".into()),
            ("u2".into(), "dedup-2".into(), "poison 2".into()),
        ]
    );
    assert_eq!(
        ops::redrive(&sqs, &stack.topology, &prefix, "fitness-nudges")
            .await
            .unwrap(),
        1
    );
    let after = ops::report(&sqs, &stack.topology, &prefix).await.unwrap();
    assert!(after.iter().all(|d| d.count == 0), "{after:?}");
    assert!(
        ops::redrive(&sqs, &stack.topology, &prefix, "no-such-queue")
            .await
            .is_err()
    );
}
