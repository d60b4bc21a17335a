//! Flow 2 against the local emulators: the sample stream's two notifications, duplicates with
//! one effect, real-time nudges from the delay queue (once, never before their window), a start
//! that cancels, unknown types counted and never dead-lettered, and a crash between the timer
//! and the notification.

use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use devstack::faults::Faults;
use devstack::sink::Received;
use domain::events::DomainEvent;
use domain::fitness::{AppEvent, event_types};
use integration_tests::TestStack;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

fn legacy(user: &str, kind: &str, at: &str) -> Value {
    json!({"user_id": user, "device_id": "bar1", "type": kind, "training_program_id": "2352",
           "time_stamp": at})
}

fn sample_stream() -> Vec<Value> {
    vec![
        legacy("foo2", "app_launch", "2021-02-28 16:22:52"),
        json!({"user_id": "foo1", "device_id": "bar1", "type": "training_program_started",
               "training_program_id": "2352", "training_program_title": "7 Minutes of HIIT Training",
               "time_stamp": "2021-02-28 16:23:25"}),
        legacy("foo2", "training_program_started", "2021-02-28 16:52:00"),
        legacy("foo2", "training_program_cancelled", "2021-02-28 16:54:21"),
        legacy("foo1", "training_program_finished", "2021-02-28 16:59:43"),
    ]
}

fn v2(id: &str, user: &str, kind: &str, at: DateTime<Utc>, payload: Value) -> Value {
    json!({"schema_version": 2, "event_id": id, "user_id": user, "type": kind,
           "time": at.to_rfc3339(), "payload": payload})
}

/// `body` posted by its own user, as the app sends its user's events.
async fn post(stack: &TestStack, body: &Value) -> String {
    let user = body["user_id"].as_str();
    let (status, answer) = stack.api_as(user, "POST", "/v1/event", Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{answer}");
    answer["event_id"].as_str().unwrap().to_owned()
}

/// The notifications of the fitness flow the sink received so far.
fn fitness_notifications(stack: &TestStack) -> Vec<Received> {
    stack
        .sink
        .received()
        .into_iter()
        .filter(|r| {
            let kind = r.body["kind"].as_str().unwrap_or("");
            kind.starts_with("training_")
        })
        .collect()
}

async fn activity(stack: &TestStack, user: &str) -> Value {
    let (status, a) = stack
        .api_as(Some(user), "GET", &format!("/v1/users/{user}/activity"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{a}");
    a
}

fn at(r: &Received) -> DateTime<Utc> {
    domain::time::parse_event_time(&r.received_at).unwrap()
}

/// Keeps every event source running for `d`, so that whatever else would happen, happens.
async fn pump_for(stack: &TestStack, functions: &Arc<integration_tests::Functions>, d: Duration) {
    let until = std::time::Instant::now() + d;
    stack
        .pump_until(functions, d + Duration::from_secs(30), || async {
            std::time::Instant::now() >= until
        })
        .await;
}

/// Sends each body's app event to the ingest queue again as a new message (another
/// de-duplication id), as a redelivery past the queue's five-minute window would arrive.
async fn deliver_again(stack: &TestStack, bodies: &[Value]) {
    let url = &stack.resources.queue("fitness-events").unwrap().url;
    for body in bodies {
        let e = AppEvent::from_json(body, &event_types()).unwrap();
        let envelope = DomainEvent::new(&e, e.event_id.as_str(), e.user_id.as_str(), e.at).unwrap();
        stack
            .sqs()
            .send_message()
            .queue_url(url)
            .message_group_id(e.user_id.as_str())
            .message_deduplication_id(format!("{}-again", e.event_id))
            .message_body(serde_json::to_string(&envelope).unwrap())
            .send()
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_stream_replayed_today_gives_exactly_its_two_notifications() {
    let stack = TestStack::start().await;
    sample_stream_gives_its_two_notifications(&stack, |_| {}).await;
}

/// The same with a fifth of DynamoDB transactions cancelled by conflicts and 5 % of calls
/// throttled while the events are processed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_stream_gives_its_two_notifications_under_conflicts_and_throttling() {
    let stack = TestStack::start_with_faults(Faults::default()).await;
    let proxy = stack.faults.clone().unwrap();
    sample_stream_gives_its_two_notifications(&stack, |on| {
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

/// Posts the sample stream twice (the same ids), processes it with `faults(true)`, delivers
/// every event once more past the queue's de-duplication, and checks, with `faults(false)`,
/// that exactly its two notifications went out.
async fn sample_stream_gives_its_two_notifications(stack: &TestStack, faults: impl Fn(bool)) {
    let functions = stack.functions();
    let mut ids = Vec::new();
    for e in sample_stream() {
        ids.push(post(stack, &e).await);
    }
    // The same bodies again: the same ids, one effect.
    for (e, id) in sample_stream().iter().zip(&ids) {
        assert_eq!(&post(stack, e).await, id);
    }
    faults(true);
    stack
        .pump_until(&functions, Duration::from_secs(90), || async {
            fitness_notifications(stack).len() >= 2
        })
        .await;
    deliver_again(stack, &sample_stream()).await;
    pump_for(stack, &functions, Duration::from_secs(4)).await;
    faults(false);
    pump_for(stack, &functions, Duration::from_secs(2)).await;
    let told = fitness_notifications(stack);
    let summary: Vec<(String, String)> = told
        .iter()
        .map(|r| {
            (
                r.body["user_id"].as_str().unwrap().to_owned(),
                r.body["kind"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("foo2".to_owned(), "training_nudge".to_owned()),
            ("foo1".to_owned(), "training_congratulation".to_owned())
        ]
    );
    assert_eq!(told[0].body["data"]["launched_at"], "2021-02-28T16:22:52Z");
    assert_eq!(told[1].body["data"]["minutes"], 36);
    assert_eq!(told[1].body["data"]["training_program_id"], "2352");
    assert!(
        told[1].body["message"]
            .as_str()
            .unwrap()
            .contains("36 minutes"),
        "{}",
        told[1].body
    );
    let foo2 = activity(stack, "foo2").await;
    assert_eq!(foo2["launches"][0]["nudge"], "sent");
    assert_eq!(foo2["launches"][0]["settled_by"], "event");
    assert_eq!(foo2["sessions"][0]["state"], "cancelled");
    assert_eq!(foo2["sessions"][0]["cancelled_at"], "2021-02-28T16:54:21Z");
    let foo1 = activity(stack, "foo1").await;
    assert_eq!(foo1["sessions"][0]["minutes"], 36);
    assert_eq!(
        foo1["sessions"][0]["training_program_title"],
        "7 Minutes of HIIT Training"
    );
    assert!(stack.dead_letters("fitness-events").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_time_nudge_fires_once_after_its_window_and_a_start_within_it_cancels() {
    const WINDOW: u64 = 4;
    let stack = TestStack::start().await;
    let functions = nudging_after(&stack, WINDOW);
    let now = Utc::now();
    post(&stack, &v2("idle-1", "idle", "app_launch", now, json!({}))).await;
    post(&stack, &v2("busy-1", "busy", "app_launch", now, json!({}))).await;
    post(
        &stack,
        &v2(
            "busy-2",
            "busy",
            "training_program_started",
            now + chrono::Duration::seconds(1),
            json!({"training_program_id": "7"}),
        ),
    )
    .await;
    stack
        .pump_until(&functions, Duration::from_secs(60), || async {
            !fitness_notifications(&stack).is_empty()
        })
        .await;
    pump_for(&stack, &functions, Duration::from_secs(WINDOW + 2)).await;
    let told = fitness_notifications(&stack);
    assert_eq!(told.len(), 1, "{told:?}");
    let nudge = &told[0];
    assert_eq!(nudge.body["user_id"], "idle");
    assert_eq!(nudge.body["kind"], "training_nudge");
    assert_eq!(nudge.body["data"]["settled_by"], "timer");
    let due =
        domain::time::parse_event_time(nudge.body["data"]["due_at"].as_str().unwrap()).unwrap();
    let late = at(nudge) - due;
    assert!(
        late >= chrono::Duration::zero(),
        "the nudge came {late} before its window ended"
    );
    println!(
        "nudge lateness: {} ms after the window ({WINDOW} s) ended",
        late.num_milliseconds()
    );
    let busy = activity(&stack, "busy").await;
    assert_eq!(busy["launches"][0]["nudge"], "cancelled");
    assert_eq!(busy["sessions"][0]["state"], "started");
    let idle = activity(&stack, "idle").await;
    assert_eq!(idle["launches"][0]["nudge"], "sent");
    assert!(stack.dead_letters("fitness-nudges").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_the_timer_firing_and_the_notification_gives_one_nudge() {
    const WINDOW: u64 = 2;
    let stack = TestStack::start().await;
    let functions = nudging_after(&stack, WINDOW);
    post(
        &stack,
        &v2("l-1", "crash", "app_launch", Utc::now(), json!({})),
    )
    .await;
    let events = stack.queue_source("fitness-events");
    let mut received = 0;
    while received == 0 {
        received += events
            .poll_once(&functions.invoker())
            .await
            .unwrap()
            .received;
    }
    // The timer's first delivery does the work, then the function dies before answering:
    // the message is not deleted and comes back after its visibility timeout.
    let timers = stack.queue_source("fitness-nudges");
    let crashes = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (counter, f) = (crashes.clone(), functions.clone());
    let crashing = move |function: String, payload: Value| {
        let (counter, f) = (counter.clone(), f.clone());
        async move {
            f.invoke(&function, payload).await?;
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Err::<Value, _>(devstack::bridge::InvokeError::Function {
                function,
                detail: "runtime exited".into(),
            })
        }
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while crashes.load(std::sync::atomic::Ordering::SeqCst) == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the timer never fired"
        );
        timers.poll_once(&crashing).await.unwrap();
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let launch = activity(&stack, "crash").await;
    assert_eq!(launch["launches"][0]["nudge"], "sent", "{launch}");
    stack
        .pump_until(&functions, Duration::from_secs(60), || async {
            !fitness_notifications(&stack).is_empty()
        })
        .await;
    // The timer comes back (visibility 1 s) and finds the launch settled.
    pump_for(&stack, &functions, Duration::from_secs(4)).await;
    let told = fitness_notifications(&stack);
    assert_eq!(told.len(), 1, "{told:?}");
    assert!(!told[0].duplicate);
    assert!(stack.dead_letters("fitness-nudges").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_types_are_counted_once_and_never_dead_lettered() {
    let stack = TestStack::start().await;
    let functions = stack.functions();
    let paused = legacy("u1", "training_program_paused", "2026-12-01 09:00:00");
    post(&stack, &paused).await;
    post(&stack, &paused).await;
    let badge = v2(
        "badge-1",
        "u1",
        "badge_earned",
        Utc::now(),
        json!({"badge": {"name": "early bird", "levels": [1, 2, 3]}}),
    );
    post(&stack, &badge).await;
    post(
        &stack,
        &legacy("u2", "training_program_paused", "2026-12-01 09:05:00"),
    )
    .await;
    stack
        .pump_until(&functions, Duration::from_secs(60), || async {
            let (_, types) = stack.api_as(Some("u"), "GET", "/v1/event-types", None).await;
            types["unknown"]["training_program_paused"] == 2
        })
        .await;
    pump_for(&stack, &functions, Duration::from_secs(2)).await;
    let (_, types) = stack.api_as(Some("u"), "GET", "/v1/event-types", None).await;
    assert_eq!(
        types["unknown"],
        json!({"badge_earned": 1, "training_program_paused": 2})
    );
    assert!(
        types["known"]
            .as_array()
            .unwrap()
            .contains(&json!("app_launch"))
    );
    let u1 = activity(&stack, "u1").await;
    assert_eq!(
        u1["unknown_event_types"],
        json!({"badge_earned": 1, "training_program_paused": 1})
    );
    // Kept for review with the raw body, as sent.
    let item = stack
        .dynamo()
        .get_item()
        .table_name(stack.table("fitness"))
        .key(
            "user_id",
            aws_sdk_dynamodb::types::AttributeValue::S("u1".into()),
        )
        .key(
            "key",
            aws_sdk_dynamodb::types::AttributeValue::S("unknown#badge-1".into()),
        )
        .send()
        .await
        .unwrap()
        .item
        .unwrap();
    let raw: Value = serde_json::from_str(item["raw"].as_s().unwrap()).unwrap();
    assert_eq!(raw, badge);
    assert!(stack.dead_letters("fitness-events").await.is_empty());
    assert!(fitness_notifications(&stack).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_events_are_refused_with_field_codes_and_a_batch_answers_per_event() {
    let stack = TestStack::start().await;
    let (status, body) = stack
        .api_as(
            Some("u"),
            "POST",
            "/v1/event",
            Some(&json!({"user_id": "u", "type": "app_launch"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["details"][0]["field"], "time_stamp");
    assert_eq!(body["error"]["details"][0]["code"], "missing_field");
    let batch = json!({"events": [
        legacy("b1", "app_launch", "2026-12-01 09:00:00"),
        {"user_id": "b1", "type": "app_launch", "time_stamp": "soon"},
        legacy("b1", "training_program_started", "2026-12-01 09:01:00"),
    ]});
    let (status, body) = stack
        .api_as(Some("b1"), "POST", "/v1/events", Some(&batch))
        .await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    let statuses: Vec<u64> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [202, 400, 202]);
    assert_eq!(
        body["results"][1]["error"]["details"][0]["code"],
        "invalid_timestamp"
    );
    let functions = stack.functions();
    stack
        .pump_until(&functions, Duration::from_secs(60), || async {
            activity(&stack, "b1").await["launches"][0]["nudge"] == "cancelled"
        })
        .await;
}

/// The functions with a nudge window of `secs` (wall clock and event time).
fn nudging_after(stack: &TestStack, secs: u64) -> std::sync::Arc<integration_tests::Functions> {
    stack.functions_setting(&[("FITNESS_NUDGE_AFTER_SECONDS", &secs.to_string())])
}
