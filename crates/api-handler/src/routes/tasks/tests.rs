//! The task routes' HTTP contract, with in-memory ports.

use crate::routes::tests::{call, post_to_with_key, services};
use axum::http::StatusCode;
use domain::tasks::TaskGroup;
use domain::tasks::memory::InMemoryTaskStore;
use serde_json::Value;

#[tokio::test]
async fn a_task_is_queued_in_the_configured_group_and_readable() {
    let s = services();
    let body = r#"{"title": "  Restock shelf 4 ", "description": "Aisle 3\nBack room", "priority": "high", "due_date": "2026-12-01T09:00:00"}"#;
    let (status, created) = call(&s, "POST", "/tasks", Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(created.as_object().unwrap().len(), 1, "{created}");
    let id = created["task_id"].as_str().unwrap().to_owned();
    assert!(id.starts_with("tsk_"));
    let events = s.port::<InMemoryTaskStore>().events();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].aggregate_id, TaskGroup::DEFAULT);
    let (status, got) = call(&s, "GET", &format!("/tasks/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["title"], "Restock shelf 4");
    assert_eq!(got["description"], "Aisle 3\nBack room");
    assert_eq!(got["due_date"], "2026-12-01T09:00:00Z");
    assert_eq!(got["status"], "queued");
    assert_eq!(got["sequence"], Value::Null);
    assert_eq!(got["attempts"], 0);
}

#[tokio::test]
async fn task_ids_from_one_instance_increase() {
    let s = services();
    let mut ids = Vec::new();
    for i in 0..50 {
        let body = format!(r#"{{"title": "t{i}", "description": "", "priority": "low"}}"#);
        let (status, created) = call(&s, "POST", "/tasks", Some(&body)).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        ids.push(created["task_id"].as_str().unwrap().to_owned());
    }
    let mut sorted = ids.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, ids);
}

#[tokio::test]
async fn invalid_tasks_are_400_with_a_code_per_problem_and_store_nothing() {
    let s = services();
    let (status, body) = call(
        &s,
        "POST",
        "/tasks",
        Some(r#"{"title": "a\u0007b", "description": "ok", "priority": "urgent", "due_date": "soon"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "validation_failed");
    let codes: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        ["control_character", "invalid_priority", "invalid_due_date"]
    );
    assert!(s.port::<InMemoryTaskStore>().events().is_empty());
    let (status, body) = call(&s, "GET", "/tasks/tsk_unknown", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("task_not_found"))
    );
}

#[tokio::test]
async fn a_retried_task_submission_with_its_key_queues_one_task() {
    let s = services();
    let body = r#"{"title": "once", "description": "", "priority": "low"}"#;
    let (status, _, first) = post_to_with_key(&s, "/tasks", "task-key", body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    // Without the key a retry would be a second task: every submission gets a new id.
    let (status, headers, again) = post_to_with_key(&s, "/tasks", "task-key", body).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(again, first);
    assert_eq!(s.port::<InMemoryTaskStore>().events().len(), 1);
    let (_, created) = call(&s, "POST", "/tasks", Some(body)).await;
    let first: Value = serde_json::from_slice(&first).unwrap();
    assert_ne!(created["task_id"], first["task_id"]);
    assert_eq!(s.port::<InMemoryTaskStore>().events().len(), 2);
}
