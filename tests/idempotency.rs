//! The DynamoDB idempotency store against the local emulators, and `Idempotency-Key` end to end through the
//! router with the real adapters.

use integration_tests::TestStack;
use platform::idempotency::{Claim, DynamoIdempotencyStore, IdempotencyStore, StoredResponse};
use std::sync::Arc;
use std::time::Duration;

fn response(body: &str) -> StoredResponse {
    StoredResponse {
        status: 202,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_claim_wins_then_replays_refuses_mismatches_and_expires() {
    let stack = TestStack::start().await;
    let store = Arc::new(
        DynamoIdempotencyStore::new(stack.dynamo(), stack.table("idempotency"))
            .with_in_progress_expiry(Duration::from_millis(500)),
    );
    // The table has TTL on `expires_at`, and DynamoDB Local deletes expired items as AWS does:
    // the records must expire in the future, not at a fixed date in the past.
    let now = chrono::Utc::now().timestamp_millis();

    // Eight concurrent claims of one key: exactly one acquires.
    let claims: Vec<Claim> = {
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let store = store.clone();
                tokio::spawn(async move { store.claim("POST /x k", "hash-a", now).await.unwrap() })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    };
    assert_eq!(
        claims.iter().filter(|c| **c == Claim::Acquired).count(),
        1,
        "{claims:?}"
    );
    assert!(
        claims
            .iter()
            .all(|c| matches!(c, Claim::Acquired | Claim::InProgress))
    );

    assert_eq!(
        store.claim("POST /x k", "hash-b", now).await.unwrap(),
        Claim::Mismatch
    );
    // Only the claim's own request completes it.
    assert!(
        store
            .complete("POST /x k", "hash-b", &response("e30="), now)
            .await
            .is_err()
    );
    store
        .complete("POST /x k", "hash-a", &response("e30="), now)
        .await
        .unwrap();
    assert_eq!(
        store.claim("POST /x k", "hash-a", now + 10).await.unwrap(),
        Claim::Completed(response("e30="))
    );
    // A completed record is replayed even after the in-progress window.
    assert_eq!(
        store
            .claim("POST /x k", "hash-a", now + 60_000)
            .await
            .unwrap(),
        Claim::Completed(response("e30="))
    );

    // A claim whose holder crashed expires; a released claim is free at once.
    assert_eq!(
        store.claim("POST /x crashed", "h", now).await.unwrap(),
        Claim::Acquired
    );
    assert_eq!(
        store
            .claim("POST /x crashed", "h", now + 100)
            .await
            .unwrap(),
        Claim::InProgress
    );
    assert_eq!(
        store
            .claim("POST /x crashed", "h", now + 600)
            .await
            .unwrap(),
        Claim::Acquired
    );
    store.release("POST /x crashed").await.unwrap();
    assert_eq!(
        store
            .claim("POST /x crashed", "h", now + 700)
            .await
            .unwrap(),
        Claim::Acquired
    );

    // Records carry their TTL; one past it counts as gone even before DynamoDB deletes it.
    let far = now + 25 * 3600 * 1000;
    assert_eq!(
        store.claim("POST /x k", "hash-b", far).await.unwrap(),
        Claim::Acquired
    );
}

/// What a subscriber wrote, shared with the test that reads it.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'w> tracing_subscriber::fmt::MakeWriter<'w> for Captured {
    type Writer = Captured;
    fn make_writer(&'w self) -> Self::Writer {
        self.clone()
    }
}

/// Posts tasks and an app event with secret-marked keys and bodies (accepted, replayed,
/// mismatched, refused); `round` keeps the keys of two runs apart.
async fn post_secrets(stack: &TestStack, round: &str) {
    let key = format!("key-SECRET-{round}");
    let task = serde_json::json!({"title": format!("title-SECRET-{round}"),
        "description": "desc-SECRET", "priority": "high"});
    let event = serde_json::json!({"user_id": format!("u-redact-{round}"),
        "device_id": "device-SECRET", "type": "app_launched", "time_stamp": "2021-02-28 16:23:25"});
    let other = serde_json::json!({"title": "another", "description": "", "priority": "low"});
    let bad =
        serde_json::json!({"title": "", "description": "bad-SECRET", "priority": "urgent-SECRET"});
    let mut statuses = Vec::new();
    for (path, body, key) in [
        ("/tasks", &task, key.clone()),
        ("/tasks", &task, key.clone()),
        ("/tasks", &other, key.clone()),
        ("/v1/event", &event, format!("{key}-event")),
        ("/tasks", &bad, format!("{key}-bad")),
    ] {
        // The app's user sends its own event.
        let user = body["user_id"].as_str();
        let (status, _, _) = stack
            .http_as(user, "POST", path, Some(body), Some(&key))
            .await;
        statuses.push(status.as_u16());
    }
    assert_eq!(statuses, [202, 202, 422, 202, 400]);
}

fn without_secrets(text: &str) {
    assert!(
        !text.contains("SECRET"),
        "a key or a body reached the logs:\n{}",
        text.lines()
            .filter(|l| l.contains("SECRET"))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

// Current-thread runtime: the subscriber set for this thread sees every span and event of the
// requests, the SDK calls included.
#[tokio::test]
async fn idempotency_keys_and_bodies_never_reach_the_logs() {
    let stack = TestStack::start().await;

    // Exactly what a function in Lambda writes, at Lambda's INFO level.
    let logs = Captured::default();
    let filter = || {
        tracing_subscriber::EnvFilter::new(platform::telemetry::filter_directives(
            None,
            Some("INFO"),
        ))
    };
    {
        let _guard = tracing::subscriber::set_default(platform::telemetry::lambda_subscriber(
            filter(),
            logs.clone(),
        ));
        post_secrets(&stack, "info").await;
    }
    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    // The capture works: the accepted task and event are logged, as JSON lines.
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines.iter().any(|l| l["fields"]["task_id"].is_string()),
        "no task line in {text}"
    );
    without_secrets(&text);

    // Stricter: every span of this workspace's crates, down to trace, written when it closes
    // with all its fields, whether or not anything was logged inside it. A span field holding
    // the key would show here even if no event at info ever carried it.
    let spans = Captured::default();
    {
        let strict = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(
                platform::telemetry::filter_directives(None, Some("TRACE")),
            ))
            .json()
            .with_span_list(true)
            .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
            .with_writer(spans.clone())
            .finish();
        let _guard = tracing::subscriber::set_default(strict);
        post_secrets(&stack, "spans").await;
    }
    let text = String::from_utf8(spans.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.contains("\"name\":\"claim\""),
        "the store's spans are captured: {text}"
    );
    without_secrets(&text);
}

/// A claim whose write happened but whose answer was lost (the proxy forwards it, then answers
/// 500): the SDK's retry meets the claim its first attempt made and must take it as its own.
/// Before claims carried their own mark, the retry answered "in progress" to the very request
/// that held it, a 409 for a request nobody else had sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_whose_answer_was_lost_is_still_ours() {
    let stack = TestStack::start_with_faults(devstack::faults::Faults {
        lost_answer: 0.5,
        ..devstack::faults::Faults::default()
    })
    .await;
    let store = DynamoIdempotencyStore::new(stack.dynamo(), stack.table("idempotency"));
    let now = chrono::Utc::now().timestamp_millis();
    let mut acquired = 0;
    for i in 0..40 {
        match store.claim(&format!("POST /x lost-{i}"), "hash", now).await {
            Ok(Claim::Acquired) => acquired += 1,
            // Every attempt's answer lost: the request fails and the client retries; fine.
            Err(domain::PortError::Retryable(_)) => {}
            other => panic!("claim {i} of a fresh key: {other:?}"),
        }
    }
    let lost = stack.faults.as_ref().unwrap().counts().lost_answers;
    assert!(lost >= 10, "the proxy lost {lost} answers");
    // Half of all answers lost: most claims get through within the SDK's attempts; what
    // matters above is that none of them was answered "in progress".
    assert!(acquired >= 20, "{acquired} of 40 acquired");
}
