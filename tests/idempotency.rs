//! The DynamoDB idempotency store against the local emulators, and `Idempotency-Key` end to end through the
//! router with the real adapters.

#![recursion_limit = "256"]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

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
