//! The router's HTTP contract with in-memory ports: status codes, error bodies, routing.

use super::router;
use crate::wiring::{Ports, Services};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use domain::PortError;
use domain::rentals::memory::InMemoryReturnQueue;
use http_body_util::BodyExt;
use platform::idempotency::IdempotencyStore;
use platform::idempotency::memory::InMemoryIdempotencyStore;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// Arbitrary requests through the whole router.
mod props;

pub(crate) type TestServices = Ports;

/// Every flow's in-memory ports, empty: a flow's tests arrange what they read.
pub(crate) fn services() -> Arc<TestServices> {
    Arc::new(Ports::default())
}

pub(crate) async fn call(
    s: &Arc<TestServices>,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    call_as(s, None, method, uri, body).await
}

/// [`call`] from the app user `user`, as the Cognito authorizer vouches for one.
pub(crate) async fn call_as(
    s: &Arc<TestServices>,
    user: Option<&str>,
    method: &str,
    uri: &str,
    body: Option<&str>,
) -> (StatusCode, Value) {
    let mut req = Request::builder().method(method).uri(uri);
    if body.is_some() {
        req = req.header("content-type", "application/json");
    }
    let mut req = req
        .body(
            body.map(|b| Body::from(b.to_owned()))
                .unwrap_or_else(Body::empty),
        )
        .unwrap();
    if let Some(user) = user {
        req.extensions_mut()
            .insert(crate::caller::app_user_context(user));
    }
    let res = router(Services::in_memory(s)).oneshot(req).await.unwrap();
    let status = res.status();
    let bytes = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

pub(crate) const EVENT: &str = r#"{"timestamp": "2025-02-10T11:00:00+00:00", "location_id": "topanga-location-01",
    "user_qr_data": "dHBnX3UwMDAx", "asset_qr_data": "dHBnX2EwMDAwMQ=="}"#;

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
        // As an app user: the app's routes read their caller before the path.
        let (status, body) = call_as(&s, Some("u"), "GET", path, None).await;
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
        // Any value for each path parameter: a documented operation answers a documented status.
        let uri: String = template
            .split('/')
            .map(|segment| {
                if segment.starts_with('{') {
                    "x_1"
                } else {
                    segment
                }
            })
            .collect::<Vec<_>>()
            .join("/");
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

pub(crate) async fn post_with_key(
    s: &Arc<TestServices>,
    key: &str,
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    post_to_with_key(s, "/rentals/returns", key, body).await
}

pub(crate) async fn post_to_with_key(
    s: &Arc<TestServices>,
    path: &str,
    key: &str,
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    post_to_with_key_as(s, None, path, key, body).await
}

/// [`post_to_with_key`] from the app user `user`.
pub(crate) async fn post_to_with_key_as(
    s: &Arc<TestServices>,
    user: Option<&str>,
    path: &str,
    key: &str,
    body: &str,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::post(path)
        .header("content-type", "application/json")
        .header("idempotency-key", key)
        .body(Body::from(body.to_owned()))
        .unwrap();
    if let Some(user) = user {
        req.extensions_mut()
            .insert(crate::caller::app_user_context(user));
    }
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
        .claim("anonymous POST /rentals/returns k-3", &hash, now)
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
    let key = "anonymous POST /rentals/returns k-9";
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
    let get = |key: Option<&str>| {
        let req = Request::get("/tasks/tsk_1");
        let req = match key {
            Some(key) => req.header("idempotency-key", key),
            None => req,
        };
        router(Services::in_memory(&s)).oneshot(req.body(Body::empty()).unwrap())
    };
    let (with, without) = (
        get(Some("has space")).await.unwrap(),
        get(None).await.unwrap(),
    );
    assert_eq!(with.status(), without.status());
    assert_eq!(with.status(), StatusCode::NOT_FOUND);
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

/// Every answer, a refusal or an unrouted path's included, lets a page of an allowed origin read
/// it and no other origin's; each says it varies by origin.
#[tokio::test]
async fn answers_are_readable_by_the_allowed_origins_only() {
    let s =
        Arc::new(Ports::default().with(crate::cors::AllowedOrigins::new(["https://app.example"])));
    for (method, uri) in [
        ("GET", "/tasks/tsk_x"),
        ("GET", "/nowhere"),
        ("DELETE", "/tasks"),
    ] {
        for (origin, readable) in [
            (Some("https://app.example"), true),
            (Some("https://evil.example"), false),
            (None, false),
        ] {
            let mut req = Request::builder().method(method).uri(uri);
            if let Some(origin) = origin {
                req = req.header("origin", origin);
            }
            let res = router(Services::in_memory(&s))
                .oneshot(req.body(Body::empty()).unwrap())
                .await
                .unwrap();
            let allowed = res.headers().get("access-control-allow-origin");
            assert_eq!(
                allowed.map(|v| v.to_str().unwrap()),
                origin.filter(|_| readable),
                "{method} {uri} from {origin:?}"
            );
            assert_eq!(res.headers()["vary"], "Origin", "{method} {uri}");
        }
    }
}
