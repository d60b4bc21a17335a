//! Arbitrary bytes, content types, idempotency keys and path parameters through the whole
//! router (in-memory ports): never a 5xx, never a panic, and every 4xx in the error shape.

use crate::routes::router;
use crate::wiring::Ports;
use axum::body::Body;
use axum::http::Request;
use http_body_util::BodyExt;
use proptest::prelude::*;
use serde_json::Value;
use std::sync::Arc;
use tower::ServiceExt;

/// The operations `docs/openapi.json` declares, each as a method and a path whose one path
/// parameter, if any, is `{}`.
fn operations() -> Vec<(&'static str, String)> {
    let doc: Value = serde_json::from_str(include_str!("../../../../../docs/openapi.json"))
        .expect("the document");
    let mut ops = Vec::new();
    for (path, methods) in doc["paths"].as_object().expect("paths") {
        let path = with_anonymous_param(path);
        for method in ["GET", "POST", "PUT", "PATCH", "DELETE"] {
            if methods.get(method.to_lowercase()).is_some() {
                ops.push((method, path.clone()));
            }
        }
    }
    assert!(ops.len() >= 17, "{} operations", ops.len());
    ops
}

/// `path` with its `{param}` segment as `{}`.
fn with_anonymous_param(path: &str) -> String {
    path.split('/')
        .map(|s| if s.starts_with('{') { "{}" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

/// Every operation with a body.
fn writes() -> Vec<(&'static str, String)> {
    operations()
        .into_iter()
        .filter(|(m, _)| *m != "GET")
        .collect()
}

/// Every read with a path parameter to replace.
fn reads() -> Vec<String> {
    operations()
        .into_iter()
        .filter(|(m, p)| *m == "GET" && p.contains("{}"))
        .map(|(_, p)| p)
        .collect()
}

fn services() -> Arc<Ports> {
    Arc::new(Ports::default())
}

/// `None` when the answer keeps the contract, else what is wrong with it.
async fn answer(s: &Arc<Ports>, req: Request<Body>) -> Option<String> {
    let res = router(crate::wiring::Services::in_memory(s))
        .oneshot(req)
        .await
        .expect("infallible");
    let status = res.status();
    let json = res
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let bytes = res.into_body().collect().await.expect("a body").to_bytes();
    if status.is_server_error() {
        return Some(format!("{status}: {}", String::from_utf8_lossy(&bytes)));
    }
    if status.is_client_error() {
        let body: Value = match serde_json::from_slice(&bytes) {
            Ok(v) if json => v,
            _ => return Some(format!("{status} is not JSON: {bytes:?}")),
        };
        let e = &body["error"];
        let shaped = e["code"].as_str().is_some_and(|c| !c.is_empty())
            && e["message"].is_string()
            && e["details"].as_array().is_some_and(|d| {
                d.iter().all(|d| {
                    d["field"].is_string() && d["code"].is_string() && d["message"].is_string()
                })
            });
        if !shaped {
            return Some(format!("{status} not in the error shape: {body}"));
        }
    }
    None
}

fn path_param() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z0-9_]{1,20}",
        // Percent-encoded anything: slashes, dots, NUL, invalid UTF-8, half escapes.
        prop::collection::vec(any::<u8>(), 1..40)
            .prop_map(|b| b.iter().map(|c| format!("%{c:02X}")).collect()),
        Just("..".to_owned()),
        Just("%2E%2E".to_owned()),
        Just("a%2Fb".to_owned()),
        Just("%ZZ".to_owned()),
        "[a-z]{5000}",
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(Some("application/json".to_owned())),
        Just(Some("application/json; charset=utf-8".to_owned())),
        Just(Some("text/plain".to_owned())),
        Just(None),
        "[ -~]{0,30}".prop_map(Some),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..300),
        // JSON-looking bytes with the fields of the payloads, to get past the parser's first line.
        "\\{(\"(title|user_id|type|items|materials|status|available|timestamp|schema_version)\": ?(\"[^\"]{0,12}\"|[0-9eE.+-]{1,12}|null|true|\\[\\]|\\{\\}),? ?){0,6}\\}?"
            .prop_map(String::into_bytes),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn any_request_to_a_write_is_answered_below_500_in_the_error_shape(
        op in prop::sample::select(writes()),
        id in path_param(),
        ctype in content_type(),
        key in prop::option::of("[ -~]{0,300}"),
        bytes in body(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        let s = services();
        let (method, path) = &op;
        let method = *method;
        let mut req = Request::builder().method(method).uri(path.replace("{}", &id));
        if let Some(ctype) = &ctype {
            req = req.header("content-type", ctype);
        }
        if let Some(key) = &key {
            req = req.header("idempotency-key", key);
        }
        let Ok(req) = req.body(Body::from(bytes)) else {
            // Not a request HTTP can carry (a header the client would refuse to send).
            return Ok(());
        };
        if let Some(problem) = rt.block_on(answer(&s, req)) {
            prop_assert!(false, "{} {}: {}", method, path, problem);
        }
    }

    #[test]
    fn any_path_parameter_to_a_read_is_answered_below_500_in_the_error_shape(
        path in prop::sample::select(reads()),
        id in path_param(),
    ) {
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        let s = services();
        let Ok(req) = Request::builder().uri(path.replace("{}", &id)).body(Body::empty()) else {
            return Ok(());
        };
        if let Some(problem) = rt.block_on(answer(&s, req)) {
            prop_assert!(false, "GET {}: {}", path, problem);
        }
    }
}
