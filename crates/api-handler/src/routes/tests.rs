//! The router's HTTP contract with in-memory ports: status codes, error bodies, routing.

use super::router;
use crate::wiring::{Ports, Services};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::PortError;
use domain::fitness::memory::InMemoryAppEventQueue;
use domain::formulas::memory::InMemoryFormulaStore;
use domain::ids::{AssetId, RentalId, UserId};
use domain::orders::memory::InMemoryOrders;
use domain::rentals::memory::{InMemoryRentalStore, InMemoryReturnQueue};
use domain::rentals::{AssetType, Rental, RentalStatus, User};
use domain::tasks::memory::InMemoryTaskStore;
use domain::time::parse_event_time;
use http_body_util::BodyExt;
use platform::idempotency::IdempotencyStore;
use platform::idempotency::memory::InMemoryIdempotencyStore;
use serde_json::{Value, json};
use std::sync::Arc;
use tower::ServiceExt;

type TestServices = Ports;

fn services() -> Arc<TestServices> {
    let s = Ports::default().with(domain::tasks::TaskGroup::parse("tasks-test").unwrap());
    let rentals = s.port::<InMemoryRentalStore>();
    rentals.put_user(User {
        user_id: UserId::parse("tpg_u0001").unwrap(),
        name: "Adam".into(),
    });
    for (id, created) in [
        ("tpg_r0002", "2025-02-07T12:00:00Z"),
        ("tpg_r0001", "2025-02-05T12:00:00Z"),
    ] {
        rentals.put_rental(Rental {
            rental_id: RentalId::parse(id).unwrap(),
            user_id: UserId::parse("tpg_u0001").unwrap(),
            asset_id: AssetId::parse("tpg_a00001").unwrap(),
            status: RentalStatus::InProgress,
            created_at: parse_event_time(created).unwrap(),
            expires_at: parse_event_time("2025-02-15T12:00:00Z").unwrap(),
            eligible_asset_types: vec![AssetType::Clamshell],
            created_at_location_id: None,
            returned_at: None,
            returned_at_location_id: None,
        });
    }
    Arc::new(s)
}

async fn call(
    s: &Arc<TestServices>,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let req = req
        .body(
            body.map(|b| Body::from(b.to_owned()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    let res = router(Services::in_memory(s)).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

const EVENT: &str = r#"{"timestamp": "2025-02-10T11:00:00+00:00", "location_id": "topanga-location-01",
    "user_qr_data": "dHBnX3UwMDAx", "asset_qr_data": "dHBnX2EwMDAwMQ=="}"#;

#[tokio::test]
async fn a_return_is_queued_once_and_readable_as_pending() {
    let s = services();
    let (status, body) = call(&s, "POST", "/rentals/returns", Some(EVENT)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = body["return_id"].as_str().unwrap().to_owned();
    let (status, again) = call(&s, "POST", "/rentals/returns", Some(EVENT)).await;
    assert_eq!(
        (status, again["return_id"].as_str()),
        (StatusCode::ACCEPTED, Some(id.as_str()))
    );
    assert_eq!(s.port::<InMemoryReturnQueue>().queued().len(), 1);
    assert_eq!(
        s.port::<InMemoryReturnQueue>().queued()[0].message_group(),
        "user-tpg_u0001"
    );
    let (status, body) = call(&s, "GET", &format!("/rentals/returns/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"return_id": id, "status": "pending"}));
}

#[tokio::test]
async fn malformed_and_invalid_bodies_are_400_with_details() {
    let s = services();
    let (status, body) = call(&s, "POST", "/rentals/returns", Some("{not json")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("malformed_json"))
    );
    let (status, body) = call(&s, "POST", "/rentals/returns", Some(r#"{"timestamp": 5}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "validation_failed");
    let fields: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        ["timestamp", "location_id", "user_qr_data", "asset_qr_data"]
    );
    assert!(
        s.port::<InMemoryReturnQueue>().queued().is_empty(),
        "nothing is queued for a bad request"
    );
}

#[tokio::test]
async fn oversized_bodies_are_413_and_wrong_media_type_415() {
    let s = services();
    let big = format!(r#"{{"pad": "{}"}}"#, "x".repeat(64 * 1024));
    let (status, body) = call(&s, "POST", "/rentals/returns", Some(&big)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::PAYLOAD_TOO_LARGE, Some("payload_too_large"))
    );
    let req = Request::post("/rentals/returns")
        .header("content-type", "text/plain")
        .body(Body::from(EVENT))
        .unwrap();
    let res = router(Services::in_memory(&s)).oneshot(req).await.unwrap();
    assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let s = services();
    let (status, body) = call(&s, "GET", "/nope", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("route_not_found"))
    );
    let (status, body) = call(&s, "DELETE", "/rentals/returns", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::METHOD_NOT_ALLOWED, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn unknown_return_and_user_are_404() {
    let s = services();
    let (status, body) = call(&s, "GET", "/rentals/returns/ret_unknown", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("return_not_found"))
    );
    let (status, body) = call(&s, "GET", "/users/nobody/rentals", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("user_not_found"))
    );
    let (status, _) = call(&s, "GET", "/users/nobody/stats", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn lists_rentals_oldest_first_in_the_spec_shape() {
    let s = services();
    let (status, body) = call(&s, "GET", "/users/tpg_u0001/rentals", None).await;
    assert_eq!(status, StatusCode::OK);
    let rentals = body["rentals"].as_array().unwrap();
    assert_eq!(rentals[0]["rental_id"], "tpg_r0001");
    assert_eq!(rentals[1]["rental_id"], "tpg_r0002");
    assert_eq!(
        rentals[0],
        json!({"rental_id": "tpg_r0001", "user_id": "tpg_u0001", "asset_id": "tpg_a00001",
               "status": "IN_PROGRESS", "created_at": "2025-02-05T12:00:00Z",
               "expires_at": "2025-02-15T12:00:00Z", "eligible_asset_types": ["clamshell"],
               "returned_at": null, "returned_at_location_id": null})
    );
}

#[tokio::test]
async fn stats_of_a_user_without_returns_are_zero() {
    let s = services();
    let (status, body) = call(&s, "GET", "/users/tpg_u0001/stats", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"user_id": "tpg_u0001", "returns_count": 0, "on_time_returns": 0,
                            "reward_points": 0, "last_return_at": null})
    );
}

#[tokio::test]
async fn storage_trouble_is_503_without_internals() {
    let s = services();
    s.port::<InMemoryRentalStore>()
        .fail_next(PortError::Retryable(
            "ThrottlingException: secret detail".into(),
        ));
    let (status, body) = call(&s, "GET", "/users/tpg_u0001/rentals", None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!body.to_string().contains("secret"));
    s.port::<InMemoryRentalStore>()
        .fail_next(PortError::Permanent("corrupt item".into()));
    let (status, body) = call(&s, "GET", "/users/tpg_u0001/rentals", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::INTERNAL_SERVER_ERROR, Some("internal_error"))
    );
}

#[tokio::test]
async fn invalid_path_ids_are_400() {
    let s = services();
    let long = "x".repeat(200);
    let (status, body) = call(&s, "GET", &format!("/users/{long}/stats"), None).await;
    assert_eq!(
        (status, body["error"]["details"][0]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_id"))
    );
    // Every id names its parameter and says what is wrong with it.
    for (path, field) in [
        ("/tasks/a%20b", "task_id"),
        ("/orders/a%09b", "order_id"),
        ("/inventory/a%20b", "sku"),
        ("/formulas/a%20b", "formula_id"),
        ("/rentals/returns/a%20b", "return_id"),
        ("/v1/users/a%20b/activity", "user_id"),
    ] {
        let (status, body) = call(&s, "GET", path, None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}");
        let detail = &body["error"]["details"][0];
        assert_eq!(detail["field"], field, "{path}");
        assert_eq!(
            detail["message"],
            format!("{field} must not contain whitespace or control characters"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn unreadable_path_parameters_are_400_in_the_error_shape() {
    let s = services();
    let (status, body) = call(&s, "GET", "/users/%FF%FE/rentals", None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["error"]["code"], "validation_failed");
    assert_eq!(body["error"]["details"][0]["code"], "invalid_id");
    assert_eq!(body["error"]["details"][0]["field"], "user_id");
}

/// Every field code the flows can emit (the shared ones and each flow's own) is in the
/// document's `FieldError.code`, and no other; no code is declared twice.
#[test]
fn the_openapi_field_codes_are_the_domains() {
    let doc: Value = serde_json::from_str(include_str!("../../../../docs/openapi.json")).unwrap();
    let documented: std::collections::BTreeSet<&str> =
        doc["components"]["schemas"]["FieldError"]["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
    let all: Vec<&str> = domain::FieldCode::SHARED
        .iter()
        .chain(super::FLOWS.iter().flat_map(|f| f.field_codes))
        .map(|c| c.as_str())
        .collect();
    let emitted: std::collections::BTreeSet<&str> = all.iter().copied().collect();
    assert_eq!(emitted.len(), all.len(), "a code declared twice: {all:?}");
    for code in &all {
        assert!(
            code.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
            "{code} is not snake case"
        );
    }
    assert_eq!(documented, emitted);
}

/// Every route a flow serves is declared in docs/openapi.json under that flow's tag, and every
/// declared operation is served by the flow it names: the document is the API's one declaration
/// of routes, which the CDK app and the local gateway build from.
#[test]
fn each_flow_serves_exactly_the_operations_docs_openapi_json_declares_for_it() {
    let doc: Value = serde_json::from_str(include_str!("../../../../docs/openapi.json")).unwrap();
    let mut declared = std::collections::BTreeSet::new();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            if let Some(tags) = op["tags"].as_array() {
                let flow = tags.first().and_then(Value::as_str).unwrap_or("");
                declared.insert((method.to_uppercase(), path.clone(), flow.to_owned()));
            }
        }
    }
    let ports = Ports::default();
    let mut served = std::collections::BTreeSet::new();
    for flow in super::FLOWS {
        for op in (flow.in_memory)(&ports).operations() {
            served.insert((op.method.clone(), op.path.to_owned(), flow.name.to_owned()));
        }
    }
    let undeclared: Vec<String> = served
        .difference(&declared)
        .map(|(m, p, f)| {
            format!(
                "{m} {p} (flow {f}): declare it in docs/openapi.json, paths.\"{p}\".{} with \
                 \"tags\": [\"{f}\"] and its security scheme",
                m.to_lowercase()
            )
        })
        .collect();
    let unserved: Vec<String> = declared
        .difference(&served)
        .map(|(m, p, f)| {
            format!("{m} {p}: docs/openapi.json gives it to flow {f:?}, whose routes lack it")
        })
        .collect();
    assert!(undeclared.is_empty(), "{undeclared:#?}");
    assert!(unserved.is_empty(), "{unserved:#?}");
    assert!(served.len() >= 17);
}

/// docs/openapi.json and the router agree: every documented operation is routed, and every
/// other method on a documented path is 405.
#[tokio::test]
async fn the_openapi_document_matches_the_router() {
    let doc: Value = serde_json::from_str(include_str!("../../../../docs/openapi.json")).unwrap();
    let s = services();
    let paths = doc["paths"].as_object().unwrap();
    assert!(!paths.is_empty());
    for (template, operations) in paths {
        let uri = template
            .replace("{return_id}", "ret_x")
            .replace("{user_id}", "tpg_u0001");
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            let documented = operations.get(method.to_lowercase()).is_some();
            let body = (method != "GET").then_some(EVENT);
            let (status, body) = call(&s, method, &uri, body).await;
            let code = body["error"]["code"].as_str().unwrap_or("");
            if documented {
                assert!(
                    code != "route_not_found" && code != "method_not_allowed",
                    "{method} {template}: {body}"
                );
                let responses = operations[method.to_lowercase()]["responses"]
                    .as_object()
                    .unwrap();
                assert!(
                    responses.contains_key(status.as_str()),
                    "{method} {template} answered undocumented {status}"
                );
            } else {
                assert_eq!(
                    status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {template}"
                );
            }
        }
    }
}

async fn post_with_key(
    s: &Arc<TestServices>,
    key: &str,
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    post_to_with_key(s, "/rentals/returns", key, body).await
}

async fn post_to_with_key(
    s: &Arc<TestServices>,
    path: &str,
    key: &str,
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let req = Request::post(path)
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_owned()))
        .unwrap();
    let res = router(Services::in_memory(s)).oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    (
        parts.status,
        parts.headers,
        body.collect().await.unwrap().to_bytes().to_vec(),
    )
}

#[tokio::test]
async fn the_same_key_and_body_replays_the_first_response_byte_for_byte() {
    let s = services();
    let (status, headers, first) = post_with_key(&s, "k-1", EVENT).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(headers.get("idempotent-replayed").is_none());
    // Same JSON, other layout: still the same request.
    let relaid: Value = serde_json::from_str(EVENT).unwrap();
    let (status, headers, again) = post_with_key(&s, "k-1", &relaid.to_string()).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert_eq!(again, first);
    assert_eq!(headers["idempotent-replayed"], "true");
    assert_eq!(
        headers["location"],
        format!(
            "/rentals/returns/{}",
            serde_json::from_slice::<Value>(&first).unwrap()["return_id"]
                .as_str()
                .unwrap()
        )
    );
}

#[tokio::test]
async fn the_same_key_with_another_body_is_422() {
    let s = services();
    post_with_key(&s, "k-2", EVENT).await;
    let other = EVENT.replace("11:00:00", "11:30:00");
    let (status, _, body) = post_with_key(&s, "k-2", &other).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"],
        "idempotency_key_mismatch"
    );
    assert_eq!(
        s.port::<InMemoryReturnQueue>().queued().len(),
        1,
        "the second request did not run"
    );
}

#[tokio::test]
async fn a_key_in_use_by_a_running_request_is_409() {
    let s = services();
    let hash = platform::idempotency::request_hash("POST", "/rentals/returns", EVENT.as_bytes());
    let now = chrono::Utc::now().timestamp_millis();
    s.port::<InMemoryIdempotencyStore>()
        .claim("POST /rentals/returns k-3", &hash, now)
        .await
        .unwrap();
    let (status, headers, body) = post_with_key(&s, "k-3", EVENT).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(headers["retry-after"], "1");
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"],
        "request_in_progress"
    );
    assert!(s.port::<InMemoryReturnQueue>().queued().is_empty());
}

#[tokio::test]
async fn a_server_failure_is_not_stored_so_a_retry_runs_again() {
    let s = services();
    s.port::<InMemoryReturnQueue>()
        .fail_next(PortError::Retryable("throttled".into()));
    let (status, _, _) = post_with_key(&s, "k-4", EVENT).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    let (status, headers, _) = post_with_key(&s, "k-4", EVENT).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    assert!(headers.get("idempotent-replayed").is_none());
    assert_eq!(s.port::<InMemoryReturnQueue>().queued().len(), 1);
}

#[tokio::test]
async fn a_corrupt_stored_response_is_a_500_not_a_made_up_replay() {
    let s = services();
    let key = "POST /rentals/returns k-9";
    let hash = platform::idempotency::request_hash("POST", "/rentals/returns", EVENT.as_bytes());
    let corrupt = platform::idempotency::StoredResponse {
        status: 202,
        headers: vec![],
        body: "%% not base64 %%".into(),
    };
    s.port::<InMemoryIdempotencyStore>()
        .claim(key, &hash, 0)
        .await
        .unwrap();
    s.port::<InMemoryIdempotencyStore>()
        .complete(key, &hash, &corrupt, 0)
        .await
        .unwrap();
    let (status, _, body) = post_with_key(&s, "k-9", EVENT).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(body["error"]["code"], "internal_error");
}

#[tokio::test]
async fn client_errors_are_stored_and_replayed() {
    let s = services();
    let (status, _, first) = post_with_key(&s, "k-5", "{broken").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, headers, again) = post_with_key(&s, "k-5", "{broken").await;
    assert_eq!((status, again), (StatusCode::BAD_REQUEST, first));
    assert_eq!(headers["idempotent-replayed"], "true");
}

#[tokio::test]
async fn malformed_keys_are_400_and_gets_ignore_the_header() {
    let s = services();
    let (status, _, body) = post_with_key(&s, "has space", EVENT).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["error"]["code"],
        "invalid_idempotency_key"
    );
    let req = Request::get("/users/tpg_u0001/stats")
        .header("idempotency-key", "has space")
        .body(Body::empty())
        .unwrap();
    assert_eq!(
        router(Services::in_memory(&s))
            .oneshot(req)
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn a_crashed_claim_expires_and_the_key_can_be_used_again() {
    let store =
        InMemoryIdempotencyStore::with_in_progress_expiry(std::time::Duration::from_millis(10));
    let hash = "h";
    assert_eq!(
        store.claim("k", hash, 0).await.unwrap(),
        platform::idempotency::Claim::Acquired
    );
    assert_eq!(
        store.claim("k", hash, 5).await.unwrap(),
        platform::idempotency::Claim::InProgress
    );
    assert_eq!(
        store.claim("k", hash, 11).await.unwrap(),
        platform::idempotency::Claim::Acquired
    );
}

#[tokio::test]
async fn a_formula_is_accepted_once_and_readable_with_its_status() {
    let s = services();
    let body = r#"{"name": "Summer Breeze", "materials": [{"name": "Bergamot Oil", "concentration": 15.5}, {"name": "Rose", "concentration": 4}]}"#;
    let (status, created) = call(&s, "POST", "/formulas", Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = created["formula_id"].as_str().unwrap().to_owned();
    let rewritten = r#"{"name": "Other", "materials": [{"name": " rose ", "concentration": "4.00"}, {"name": "BERGAMOT OIL", "concentration": 15.50}]}"#;
    let (status, dup) = call(&s, "POST", "/formulas", Some(rewritten)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(dup["formula_id"], id.as_str());
    assert_eq!(dup["error"]["code"], "duplicate_formula");
    assert_eq!(
        s.port::<InMemoryFormulaStore>().events().len(),
        1,
        "nothing published for the duplicate"
    );
    let (status, got) = call(&s, "GET", &format!("/formulas/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["status"], "pending");
    assert_eq!(got["name"], "Summer Breeze");
    assert_eq!(
        got["materials"][0],
        json!({"name": "Bergamot Oil", "concentration": 15.5})
    );
}

#[tokio::test]
async fn invalid_formulas_are_400_with_a_code_per_problem() {
    let s = services();
    let (status, body) = call(
        &s,
        "POST",
        "/formulas",
        Some(r#"{"name": "", "materials": [{"name": "a", "concentration": 101}]}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let codes: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["empty_name", "concentration_out_of_range"]);
    let (status, body) = call(&s, "GET", "/formulas/frm_unknown", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("formula_not_found"))
    );
}

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
    assert_eq!(events[0].aggregate_id, "tasks-test");
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

fn stocked(sku: &str, available: u32, threshold: u32) -> Arc<TestServices> {
    let s = services();
    s.port::<InMemoryOrders>()
        .put_level(domain::orders::StockLevel {
            sku: domain::ids::Sku::parse(sku).unwrap(),
            available,
            low_stock_threshold: threshold,
        });
    s
}

#[tokio::test]
async fn an_order_is_placed_read_and_moved_along_its_lifecycle() {
    let s = stocked("ec_sku_a", 3, 1);
    let body = r#"{"customer_id": "ec_c0001", "items": [{"sku": "ec_sku_a", "quantity": 2}]}"#;
    let (status, placed) = call(&s, "POST", "/orders", Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{placed}");
    assert_eq!(placed["status"], "placed");
    let id = placed["order_id"].as_str().unwrap();
    assert!(id.starts_with("ord_"));
    let (status, order) = call(&s, "GET", &format!("/orders/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(order["items"], json!([{"sku": "ec_sku_a", "quantity": 2}]));
    assert_eq!(order["history"][0]["status"], "placed");

    let patch = |to: &str| format!(r#"{{"status": "{to}"}}"#);
    let uri = format!("/orders/{id}/status");
    let (status, same) = call(&s, "PATCH", &uri, Some(&patch("placed"))).await;
    assert_eq!(
        (status, same["history"].as_array().unwrap().len()),
        (StatusCode::OK, 1)
    );
    let (status, wrong) = call(&s, "PATCH", &uri, Some(&patch("delivered"))).await;
    assert_eq!(
        (status, wrong["error"]["code"].as_str()),
        (StatusCode::CONFLICT, Some("invalid_transition"))
    );
    let (status, bad) = call(&s, "PATCH", &uri, Some(&patch("eaten"))).await;
    assert_eq!(
        (status, bad["error"]["details"][0]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_status"))
    );
    let (status, cancelled) = call(&s, "PATCH", &uri, Some(&patch("cancelled"))).await;
    assert_eq!(
        (status, cancelled["status"].as_str()),
        (StatusCode::OK, Some("cancelled"))
    );
    let (_, stock) = call(&s, "GET", "/inventory/ec_sku_a", None).await;
    assert_eq!(
        stock,
        json!({"sku": "ec_sku_a", "available": 3, "low_stock_threshold": 1, "low_stock": false})
    );
    let (status, missing) = call(&s, "GET", "/orders/ord_missing", None).await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("order_not_found"))
    );
}

#[tokio::test]
async fn refusals_name_the_lines_in_the_error_shape() {
    let s = stocked("ec_sku_a", 1, 0);
    let body = r#"{"customer_id": "c", "items": [{"sku": "ec_sku_a", "quantity": 2}, {"sku": "zz", "quantity": 1}]}"#;
    let (status, e) = call(&s, "POST", "/orders", Some(body)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "unknown_sku");
    assert_eq!(
        e["error"]["details"],
        json!([{"field": "items[1].sku", "code": "unknown_sku", "message": "no SKU zz"}])
    );
    let body = r#"{"customer_id": "c", "items": [{"sku": "ec_sku_a", "quantity": 2}]}"#;
    let (status, e) = call(&s, "POST", "/orders", Some(body)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{e}");
    assert_eq!(e["error"]["code"], "insufficient_stock");
    assert_eq!(
        e["error"]["details"][0]["message"],
        "ec_sku_a: 2 requested, 1 available"
    );
    let (status, e) = call(
        &s,
        "POST",
        "/orders",
        Some(r#"{"customer_id": "c", "items": []}"#),
    )
    .await;
    assert_eq!(
        (status, e["error"]["details"][0]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("no_items"))
    );
}

#[tokio::test]
async fn inventory_is_set_and_read_and_analytics_always_answer() {
    let s = services();
    let (status, _) = call(&s, "GET", "/inventory/ec_sku_new", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, set) = call(
        &s,
        "PUT",
        "/inventory/ec_sku_new",
        Some(r#"{"available": 3, "low_stock_threshold": 5}"#),
    )
    .await;
    assert_eq!(
        (status, set["low_stock"].as_bool()),
        (StatusCode::OK, Some(true))
    );
    let (status, e) = call(
        &s,
        "PUT",
        "/inventory/ec_sku_new",
        Some(r#"{"available": -1, "low_stock_threshold": 5}"#),
    )
    .await;
    assert_eq!(
        (status, e["error"]["details"][0]["code"].as_str()),
        (StatusCode::BAD_REQUEST, Some("invalid_stock"))
    );
    let (status, a) = call(&s, "GET", "/analytics/orders", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(a["orders_total"], 0);
    assert_eq!(a["by_status"]["out_for_delivery"], 0);
}

const LEGACY_START: &str = r#"{"user_id": "foo1", "device_id": "bar1", "type": "training_program_started",
    "training_program_id": "2352", "training_program_title": "7 Minutes of HIIT Training",
    "time_stamp": "2021-02-28 16:23:25"}"#;

#[tokio::test]
async fn app_events_of_either_shape_are_queued_once_with_their_id() {
    let s = services();
    let (status, body) = call(&s, "POST", "/v1/event", Some(LEGACY_START)).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let legacy_id = body["event_id"].as_str().unwrap().to_owned();
    assert!(legacy_id.starts_with("lgc_"));
    let (_, again) = call(&s, "POST", "/v1/event", Some(LEGACY_START)).await;
    assert_eq!(again["event_id"], legacy_id.as_str(), "same body, same id");
    let v2 = r#"{"schema_version": 2, "event_id": "e-1", "user_id": "foo1", "type": "app_launch",
        "time": "2021-02-28T16:00:00Z"}"#;
    let (status, body) = call(&s, "POST", "/v1/event", Some(v2)).await;
    assert_eq!(
        (status, body["event_id"].as_str()),
        (StatusCode::ACCEPTED, Some("e-1"))
    );
    let unknown = r#"{"user_id": "foo1", "type": "badge_earned", "time_stamp": "2021-02-28 16:00:00", "badge": 3}"#;
    assert_eq!(
        call(&s, "POST", "/v1/event", Some(unknown)).await.0,
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
        let (status, answer) = call(&s, "POST", "/v1/event", Some(body)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer["error"]["code"], "validation_failed");
        assert_eq!(answer["error"]["details"][0]["field"], field, "{body}");
        assert_eq!(answer["error"]["details"][0]["code"], code, "{body}");
    }
    let (status, answer) = call(&s, "POST", "/v1/event", Some("{not json")).await;
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
    let (status, body) = call(&s, "POST", "/v1/events", Some(&batch)).await;
    assert_eq!(status, StatusCode::MULTI_STATUS, "{body}");
    assert_eq!(body["results"][0]["status"], 202);
    assert_eq!(body["results"][1]["status"], 400);
    assert_eq!(body["results"][1]["error"]["code"], "validation_failed");
    assert_eq!(s.port::<InMemoryAppEventQueue>().queued().len(), 1);
    let all_good = format!(r#"{{"events": [{LEGACY_START}]}}"#);
    assert_eq!(
        call(&s, "POST", "/v1/events", Some(&all_good)).await.0,
        StatusCode::ACCEPTED
    );
    for (events, code) in [
        (String::new(), "no_items"),
        (vec![LEGACY_START; 26].join(","), "too_many_items"),
    ] {
        let (status, body) = call(
            &s,
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
    let (status, a) = call(&s, "GET", "/v1/users/nobody/activity", None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        a,
        json!({"user_id": "nobody", "sessions": [], "launches": [], "unknown_event_types": {}})
    );
    let (status, t) = call(&s, "GET", "/v1/event-types", None).await;
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
    let (first, _, _) = post_to_with_key(&s, "/v1/events", "batch-1", &batch).await;
    assert_eq!(first, StatusCode::MULTI_STATUS);
    let (again, headers, _) = post_to_with_key(&s, "/v1/events", "batch-1", &batch).await;
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
    let (ok, _, _) = post_to_with_key(&s, "/v1/events", "batch-2", &all).await;
    assert_eq!(ok, StatusCode::ACCEPTED);
    let (_, replayed, _) = post_to_with_key(&s, "/v1/events", "batch-2", &all).await;
    assert!(
        replayed.get("idempotent-replayed").is_some(),
        "a 202 is replayed"
    );
}
