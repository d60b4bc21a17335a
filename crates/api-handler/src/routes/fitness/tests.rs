//! The fitness app's routes' HTTP contract, with in-memory ports.

use crate::routes::tests::{call, call_as, post_to_with_key_as, services};
use axum::http::StatusCode;
use domain::fitness::memory::InMemoryAppEventQueue;
use serde_json::json;

/// The app user the legacy samples are of.
const FOO1: Option<&str> = Some("foo1");

const LEGACY_START: &str = r#"{"user_id": "foo1", "device_id": "bar1", "type": "training_program_started",
    "training_program_id": "2352", "training_program_title": "7 Minutes of HIIT Training",
    "time_stamp": "2021-02-28 16:23:25"}"#;

#[tokio::test]
async fn app_events_of_either_shape_are_queued_once_with_their_id() {
    let s = services();
    let (status, body) = call_as(&s, FOO1, "POST", "/v1/event", Some(LEGACY_START)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let legacy_id = body["event_id"].as_str().unwrap().to_owned();
    assert!(legacy_id.starts_with("lgc_"));
    let (_, again) = call_as(&s, FOO1, "POST", "/v1/event", Some(LEGACY_START)).await;
    assert_eq!(again["event_id"], legacy_id.as_str(), "same body, same id");
    let v2 = r#"{"schema_version": 2, "event_id": "e-1", "user_id": "foo1", "type": "app_launch",
        "time": "2021-02-28T16:00:00Z"}"#;
    let (status, body) = call_as(&s, FOO1, "POST", "/v1/event", Some(v2)).await;
    assert_eq!(
        (status, body["event_id"].as_str()),
        (StatusCode::ACCEPTED, Some("e-1"))
    );
    let unknown = r#"{"user_id": "foo1", "type": "badge_earned", "time_stamp": "2021-02-28 16:00:00", "badge": 3}"#;
    assert_eq!(
        call_as(&s, FOO1, "POST", "/v1/event", Some(unknown))
            .await
            .0,
        StatusCode::ACCEPTED
    );
    let queued = s.port::<InMemoryAppEventQueue>().queued();
    let types: Vec<&str> = queued.iter().map(|e| e.type_name.as_str()).collect();
    assert_eq!(
        types,
        ["training_program_started", "app_launch", "badge_earned"]
    );
    assert!(
        queued[2].raw.is_some(),
        "an unknown type keeps its raw body"
    );
}

#[tokio::test]
async fn what_is_not_an_app_event_is_400_and_queues_nothing() {
    let s = services();
    for (body, field, code) in [
        (
            r#"{"type": "app_launch", "time_stamp": "2021-02-28 16:00:00"}"#,
            "user_id",
            "missing_field",
        ),
        (
            r#"{"user_id": "u", "time_stamp": "2021-02-28 16:00:00"}"#,
            "type",
            "missing_field",
        ),
        (
            r#"{"user_id": "u", "type": "app_launch"}"#,
            "time_stamp",
            "missing_field",
        ),
        (
            r#"{"user_id": "u", "type": "app_launch", "time_stamp": "28/02/2021"}"#,
            "time_stamp",
            "invalid_timestamp",
        ),
        (
            r#"{"schema_version": 2, "event_id": "x", "user_id": "u", "type": "app_launch", "time": "nope"}"#,
            "time",
            "invalid_timestamp",
        ),
        (
            r#"{"user_id": "u", "type": "training_program_finished", "time_stamp": "2021-02-28 16:00:00"}"#,
            "training_program_id",
            "missing_field",
        ),
    ] {
        let (status, answer) = call_as(&s, Some("u"), "POST", "/v1/event", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["error"]["code"], "validation_failed");
        assert_eq!(answer["error"]["details"][0]["field"], field, "{body}");
        assert_eq!(answer["error"]["details"][0]["code"], code, "{body}");
    }
    let (status, answer) = call_as(&s, Some("u"), "POST", "/v1/event", Some("{not json")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    assert!(s.port::<InMemoryAppEventQueue>().queued().is_empty());
}

#[tokio::test]
async fn a_batch_answers_per_event_and_refuses_an_empty_or_oversized_one() {
    let s = services();
    let batch = format!(r#"{{"events": [{LEGACY_START}, {{"user_id": "u"}}]}}"#);
    let (status, body) = call_as(&s, FOO1, "POST", "/v1/events", Some(&batch)).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(body["results"][0]["status"], 202);
    assert_eq!(body["results"][1]["status"], 400);
    assert_eq!(body["results"][1]["error"]["code"], "validation_failed");
    assert_eq!(s.port::<InMemoryAppEventQueue>().queued().len(), 1);
    let all_good = format!(r#"{{"events": [{LEGACY_START}]}}"#);
    assert_eq!(
        call_as(&s, FOO1, "POST", "/v1/events", Some(&all_good))
            .await
            .0,
        StatusCode::ACCEPTED
    );
    for (events, code) in [
        (String::new(), "no_items"),
        (vec![LEGACY_START; 26].join(","), "too_many_items"),
    ] {
        let (status, body) = call_as(
            &s,
            FOO1,
            "POST",
            "/v1/events",
            Some(&format!(r#"{{"events": [{events}]}}"#)),
        )
        .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(body["error"]["details"][0]["code"], code);
    }
}

#[tokio::test]
async fn activity_and_event_types_answer_even_for_a_user_without_events() {
    let s = services();
    let (status, a) = call_as(&s, Some("nobody"), "GET", "/v1/users/nobody/activity", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        a,
        json!({"user_id": "nobody", "sessions": [], "launches": [], "unknown_event_types": {}})
    );
    let (status, t) = call_as(&s, Some("nobody"), "GET", "/v1/event-types", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(t["known"].as_array().unwrap().len(), 4);
    assert_eq!(t["unknown"], json!({}));
}

/// A 207 is not replayed under its `Idempotency-Key`: the retry sends the batch again, and the
/// events queued the first time are de-duplicated by their ids.
#[tokio::test]
async fn a_partial_batch_is_not_stored_under_its_key() {
    let s = services();
    let batch = format!(r#"{{"events": [{LEGACY_START}, {{"user_id": "u"}}]}}"#);
    let (first, _, _) = post_to_with_key_as(&s, FOO1, "/v1/events", "batch-1", &batch).await;
    assert_eq!(first, StatusCode::MULTI_STATUS);
    let (again, headers, _) = post_to_with_key_as(&s, FOO1, "/v1/events", "batch-1", &batch).await;
    assert_eq!(again, StatusCode::MULTI_STATUS);
    assert!(
        headers.get("idempotent-replayed").is_none(),
        "run again, not replayed"
    );
    assert_eq!(
        s.port::<InMemoryAppEventQueue>().queued().len(),
        1,
        "the queued event once"
    );
    let all = format!(r#"{{"events": [{LEGACY_START}]}}"#);
    let (ok, _, _) = post_to_with_key_as(&s, FOO1, "/v1/events", "batch-2", &all).await;
    assert_eq!(ok, StatusCode::ACCEPTED);
    let (_, replayed, _) = post_to_with_key_as(&s, FOO1, "/v1/events", "batch-2", &all).await;
    assert!(
        replayed.get("idempotent-replayed").is_some(),
        "a 202 is replayed"
    );
}

#[tokio::test]
async fn a_user_is_the_token_s_user_and_acts_on_nothing_of_another() {
    let s = services();
    // No user in the request context: the authorizer let nothing through.
    for (method, uri, body) in [
        ("POST", "/v1/event", Some(LEGACY_START)),
        ("POST", "/v1/events", Some(r#"{"events": []}"#)),
        ("GET", "/v1/users/foo1/activity", None),
    ] {
        let (status, answer) = call(&s, method, uri, body).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (StatusCode::UNAUTHORIZED, Some("unauthorized")),
            "{method} {uri}"
        );
    }
    // foo2 posting foo1's event, one in a batch, or reading foo1's activity.
    let foo2 = Some("foo2");
    let (status, answer) = call_as(&s, foo2, "POST", "/v1/event", Some(LEGACY_START)).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
    let own = r#"{"user_id": "foo2", "type": "app_launch", "time_stamp": "2021-02-28 16:00:00"}"#;
    let batch = format!(r#"{{"events": [{own}, {LEGACY_START}]}}"#);
    let (status, answer) = call_as(&s, foo2, "POST", "/v1/events", Some(&batch)).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{answer}");
    assert_eq!(answer["results"][0]["status"], 202);
    assert_eq!(answer["results"][1]["status"], 403);
    assert_eq!(answer["results"][1]["error"]["code"], "forbidden");
    let queued = s.port::<InMemoryAppEventQueue>().queued();
    assert_eq!(queued.len(), 1, "only foo2's own event");
    assert_eq!(queued[0].user_id.as_str(), "foo2");
    let (status, answer) = call_as(&s, foo2, "GET", "/v1/users/foo1/activity", None).await;
    assert_eq!(
        (status, answer["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("forbidden"))
    );
}

/// An `Idempotency-Key` is its caller's: another user's request with the same key is its own
/// request, neither a replay nor a mismatch.
#[tokio::test]
async fn the_same_key_from_two_users_is_two_requests() {
    let s = services();
    let foo2 = r#"{"user_id": "foo2", "type": "app_launch", "time_stamp": "2021-02-28 16:00:00"}"#;
    let (first, _, one) = post_to_with_key_as(&s, FOO1, "/v1/event", "k-1", LEGACY_START).await;
    let (second, headers, two) =
        post_to_with_key_as(&s, Some("foo2"), "/v1/event", "k-1", foo2).await;
    assert_eq!(
        (first, second),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    assert!(headers.get("idempotent-replayed").is_none());
    assert_ne!(one, two);
    assert_eq!(s.port::<InMemoryAppEventQueue>().queued().len(), 2);
}
