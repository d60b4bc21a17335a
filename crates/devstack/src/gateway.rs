//! The API Gateway front of the local stack: turns each HTTP request into a REST API proxy
//! event (the payload API Gateway sends in AWS), invokes the API function and turns its answer
//! back into HTTP.

use crate::bridge::Invoker;
use aws_lambda_events::event::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tracing::warn;

/// API Gateway's own payload limit is 10 MB; the function applies the API's smaller limit.
const MAX_PROXY_BODY: usize = 10 * 1024 * 1024;

pub struct Gateway<I> {
    pub invoker: I,
    pub function: String,
    requests: AtomicU64,
}

impl<I: Invoker + 'static> Gateway<I> {
    pub fn new(invoker: I, function: impl Into<String>) -> Arc<Self> {
        Arc::new(Self {
            invoker,
            function: function.into(),
            requests: AtomicU64::new(0),
        })
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(proxy::<I>).with_state(self)
    }
}

async fn proxy<I: Invoker + 'static>(
    State(gw): State<Arc<Gateway<I>>>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_PROXY_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request too large").into_response();
    };
    let n = gw.requests.fetch_add(1, Ordering::Relaxed);
    let event = proxy_event(&parts, &body, n);
    let payload = match serde_json::to_value(&event) {
        Ok(p) => p,
        Err(e) => return (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    };
    let answer = match gw.invoker.invoke(&gw.function, payload).await {
        Ok(answer) => answer,
        Err(e) => {
            warn!(error = %e, "API function failed");
            // What API Gateway answers when the integration fails.
            return (
                StatusCode::BAD_GATEWAY,
                axum::Json(serde_json::json!({"message": "Internal server error"})),
            )
                .into_response();
        }
    };
    match serde_json::from_value::<ApiGatewayProxyResponse>(answer) {
        Ok(r) => http_response(r),
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            format!("malformed Lambda proxy response: {e}"),
        )
            .into_response(),
    }
}

fn proxy_event(parts: &axum::http::request::Parts, body: &Bytes, n: u64) -> ApiGatewayProxyRequest {
    let mut e = ApiGatewayProxyRequest::default();
    let path = parts.uri.path().to_owned();
    e.http_method = parts.method.clone();
    e.path = Some(path.clone());
    e.resource = Some("/{proxy+}".into());
    e.headers = parts.headers.clone();
    e.multi_value_headers = parts.headers.clone();
    if let Some(query) = parts.uri.query() {
        let mut params: std::collections::HashMap<String, Vec<String>> = Default::default();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            params.entry(k.to_owned()).or_default().push(v.to_owned());
        }
        e.query_string_parameters = params.clone().into();
        e.multi_value_query_string_parameters = params.into();
    }
    e.path_parameters
        .insert("proxy".into(), path.trim_start_matches('/').to_owned());
    e.request_context.stage = Some("local".into());
    e.request_context.request_id = Some(format!("local-{n}"));
    e.request_context.resource_path = Some("/{proxy+}".into());
    e.request_context.http_method = parts.method.clone();
    e.request_context.path = Some(format!("/local{path}"));
    e.request_context.account_id = Some("000000000000".into());
    e.request_context.apiid = Some("local".into());
    e.request_context.identity.source_ip = Some("127.0.0.1".into());
    e.request_context.request_time_epoch = chrono::Utc::now().timestamp_millis();
    if !body.is_empty() {
        match std::str::from_utf8(body) {
            Ok(text) => e.body = Some(text.to_owned()),
            Err(_) => {
                e.body = Some(base64::engine::general_purpose::STANDARD.encode(body));
                e.is_base64_encoded = true;
            }
        }
    }
    e
}

fn http_response(r: ApiGatewayProxyResponse) -> Response {
    let status = u16::try_from(r.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok());
    let body: Vec<u8> = match r.body {
        Some(aws_lambda_events::encodings::Body::Text(t)) => t.into_bytes(),
        Some(aws_lambda_events::encodings::Body::Binary(b)) => b,
        _ => Vec::new(),
    };
    let mut response = (status.unwrap_or(StatusCode::BAD_GATEWAY), body).into_response();
    for (name, value) in r.headers.iter().chain(r.multi_value_headers.iter()) {
        if let (Ok(n), Ok(v)) = (
            HeaderName::try_from(name.as_str()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            response.headers_mut().append(n, v);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::InvokeError;
    use serde_json::{Value, json};
    use std::sync::Mutex;

    type Seen = Arc<Mutex<Vec<Value>>>;

    /// A function that records the event it got and answers `answer`.
    fn gateway(
        answer: Result<Value, &'static str>,
    ) -> (Arc<Gateway<impl Invoker + 'static>>, Seen) {
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let invoker = move |function: String, payload: Value| {
            log.lock().unwrap().push(payload);
            let answer = answer.clone().map_err(|detail| InvokeError::Function {
                function,
                detail: detail.into(),
            });
            async move { answer }
        };
        (Gateway::new(invoker, "api-handler"), seen)
    }

    async fn send(
        gw: Arc<Gateway<impl Invoker + 'static>>,
        request: axum::http::Request<axum::body::Body>,
    ) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
        let response = proxy(State(gw), request).await;
        let (parts, body) = response.into_parts();
        let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        (parts.status, parts.headers, body.to_vec())
    }

    #[tokio::test]
    async fn requests_become_rest_proxy_events_and_answers_become_http() {
        let (gw, seen) = gateway(Ok(json!({
            "statusCode": 202,
            "headers": {"content-type": "application/json", "location": "/tasks/tsk_1"},
            "body": "{\"task_id\":\"tsk_1\"}",
            "isBase64Encoded": false
        })));
        let request = axum::http::Request::post("/tasks?a=1&a=2&flag")
            .header("content-type", "application/json")
            .header("idempotency-key", "k")
            .body(axum::body::Body::from(r#"{"title":"t"}"#))
            .unwrap();
        let (status, headers, body) = send(gw, request).await;
        assert_eq!(status, StatusCode::ACCEPTED);
        assert_eq!(headers["location"], "/tasks/tsk_1");
        assert_eq!(body, br#"{"task_id":"tsk_1"}"#);

        let event = seen.lock().unwrap()[0].clone();
        let parsed: ApiGatewayProxyRequest = serde_json::from_value(event.clone()).unwrap();
        assert_eq!(parsed.http_method, axum::http::Method::POST);
        assert_eq!(parsed.path.as_deref(), Some("/tasks"));
        assert_eq!(parsed.body.as_deref(), Some(r#"{"title":"t"}"#));
        assert!(!parsed.is_base64_encoded);
        assert_eq!(parsed.headers["idempotency-key"], "k");
        assert_eq!(
            event["multiValueQueryStringParameters"]["a"],
            json!(["1", "2"])
        );
        assert_eq!(event["queryStringParameters"]["flag"], "");
        assert_eq!(parsed.path_parameters["proxy"], "tasks");
        assert_eq!(parsed.request_context.stage.as_deref(), Some("local"));
        assert_eq!(parsed.request_context.path.as_deref(), Some("/local/tasks"));
    }

    #[tokio::test]
    async fn binary_bodies_travel_base64_encoded() {
        let (gw, seen) = gateway(Ok(json!({"statusCode": 204})));
        let request = axum::http::Request::put("/blob")
            .body(axum::body::Body::from(vec![0xff_u8, 0x00, 0xfe]))
            .unwrap();
        let (status, _, body) = send(gw, request).await;
        assert_eq!(status, StatusCode::NO_CONTENT);
        assert!(body.is_empty());
        let event = seen.lock().unwrap()[0].clone();
        assert_eq!(event["isBase64Encoded"], true);
        assert_eq!(event["body"], "/wD+");
    }

    #[tokio::test]
    async fn a_failing_function_or_a_malformed_answer_is_a_502() {
        let (gw, _) = gateway(Err("panicked"));
        let (status, _, body) = send(gw, axum::http::Request::default()).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert_eq!(
            serde_json::from_slice::<Value>(&body).unwrap(),
            json!({"message": "Internal server error"})
        );
        let (gw, _) = gateway(Ok(json!({"statusCode": "not a number"})));
        let (status, _, body) = send(gw, axum::http::Request::default()).await;
        assert_eq!(status, StatusCode::BAD_GATEWAY);
        assert!(String::from_utf8_lossy(&body).contains("malformed Lambda proxy response"));
    }
}
