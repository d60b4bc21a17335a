//! The API Gateway front of the local stack: turns each HTTP request into a REST API proxy
//! event (the payload API Gateway sends in AWS), invokes the API function and turns its answer
//! back into HTTP with exactly the function's status, headers and body. What the gateway answers
//! itself (a request it cannot pass on, a failing function, the 29 s integration timeout, stage
//! throttling) has the API's error shape, with the codes the deployed API's gateway responses use.
//!
//! Each route's caller is checked as its declared security scheme says ([`crate::access`]),
//! refused with the deployed gateway's status and code, and handed to the function in the
//! request context.
//!
//! Like API Gateway it never waits without bound: a request over the stage's rate and burst is
//! answered `429` at once, and one the function has not answered within the integration timeout
//! (waiting for a free function instance included) `504`.

use crate::access::{self, Access};
use crate::bridge::Invoker;
use crate::routes::{Authorization, Matched, Routes};
use aws_lambda_events::event::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyResponse};
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tracing::warn;

/// API Gateway's own payload limit is 10 MB; the function applies the API's smaller limit.
const MAX_PROXY_BODY: usize = 10 * 1024 * 1024;

/// The local stage's throttling unless `DEVSTACK_API_RATE_LIMIT` / `DEVSTACK_API_BURST_LIMIT`
/// say otherwise: the production stage's (`infrastructure/lib/config.ts`), so that a load run
/// meets the limits it would meet there.
pub const LOCAL_RATE_LIMIT: u32 = 1000;
pub const LOCAL_BURST_LIMIT: u32 = 2000;

/// API Gateway's integration timeout for REST APIs.
pub const INTEGRATION_TIMEOUT: Duration = Duration::from_secs(29);

pub struct Gateway<I> {
    pub invoker: I,
    pub function: String,
    requests: AtomicU64,
    timeout: Duration,
    throttle: Option<Throttle>,
    /// The declared routes, to name each request's resource as API Gateway does.
    routes: Routes,
    /// Who may call each route; `None` lets every request through (a gateway under test for
    /// what it does besides).
    access: Option<Access>,
}

/// Stage throttling as API Gateway applies it: a token bucket holding up to `burst` requests,
/// refilled at `rate` requests a second.
#[derive(Debug)]
pub struct Throttle {
    rate: f64,
    burst: f64,
    bucket: std::sync::Mutex<(f64, std::time::Instant)>,
}

impl Throttle {
    pub fn new(rate: u32, burst: u32) -> Self {
        let burst = f64::from(burst.max(1));
        Self {
            rate: f64::from(rate.max(1)),
            burst,
            bucket: std::sync::Mutex::new((burst, std::time::Instant::now())),
        }
    }

    /// Takes a token, or says in how many whole seconds one will be there.
    fn take(&self) -> Result<(), u64> {
        let Ok(mut bucket) = self.bucket.lock() else {
            return Ok(());
        };
        let now = std::time::Instant::now();
        let (tokens, last) = *bucket;
        let tokens = (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
        if tokens >= 1.0 {
            *bucket = (tokens - 1.0, now);
            Ok(())
        } else {
            *bucket = (tokens, now);
            Err(((1.0 - tokens) / self.rate).ceil().max(1.0) as u64)
        }
    }
}

impl<I: Invoker + 'static> Gateway<I> {
    pub fn new(invoker: I, function: impl Into<String>) -> Arc<Self> {
        Self::with_timeout(invoker, function, INTEGRATION_TIMEOUT)
    }

    /// A gateway that gives up on the function after `timeout` (tests use a short one).
    pub fn with_timeout(invoker: I, function: impl Into<String>, timeout: Duration) -> Arc<Self> {
        Self::configured(invoker, function, timeout, None, None)
    }

    /// A gateway with the integration `timeout` and, if given, stage throttling and the callers
    /// it lets in.
    pub fn configured(
        invoker: I,
        function: impl Into<String>,
        timeout: Duration,
        throttle: Option<Throttle>,
        access: Option<Access>,
    ) -> Arc<Self> {
        Arc::new(Self {
            invoker,
            function: function.into(),
            requests: AtomicU64::new(0),
            timeout,
            throttle,
            routes: Routes::declared().unwrap_or_else(|e| {
                warn!(error = %e, "no declared routes: every request goes to /{{proxy+}}");
                Routes::parse(&serde_json::Value::Null).unwrap_or_else(|_| unreachable!())
            }),
            access,
        })
    }

    pub fn router(self: Arc<Self>) -> Router {
        Router::new().fallback(proxy::<I>).with_state(self)
    }
}

/// The gateway's answer to `request`; the function's own carries its CORS headers, the gateway's
/// own get them here, as API Gateway's gateway responses do.
async fn proxy<I: Invoker + 'static>(
    State(gw): State<Arc<Gateway<I>>>,
    request: Request,
) -> Response {
    let origin = request.headers().get(axum::http::header::ORIGIN).cloned();
    let mut response = answer(&gw, request).await;
    let allowed = origin.filter(|o| {
        let origins = gw
            .access
            .as_ref()
            .map(|a| a.origins.as_slice())
            .unwrap_or_default();
        o.to_str()
            .is_ok_and(|o| origins.iter().any(|allowed| allowed == o))
    });
    let headers = response.headers_mut();
    if let Some(origin) = allowed
        && !headers.contains_key(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN)
    {
        headers.insert(axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        headers.append(axum::http::header::VARY, HeaderValue::from_static("Origin"));
    }
    response
}

async fn answer<I: Invoker + 'static>(gw: &Arc<Gateway<I>>, request: Request) -> Response {
    if let Some(Err(retry_after)) = gw.throttle.as_ref().map(Throttle::take) {
        let mut response = gateway_error(
            StatusCode::TOO_MANY_REQUESTS,
            "throttled",
            "too many requests: slow down and retry",
        );
        response
            .headers_mut()
            .insert("retry-after", HeaderValue::from(retry_after));
        return response;
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_PROXY_BODY).await else {
        return gateway_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "request body exceeds 10 MB",
        );
    };
    // A proxy event carries headers as text; API Gateway refuses what is not.
    if let Some((name, _)) = parts.headers.iter().find(|(_, v)| v.to_str().is_err()) {
        return gateway_error(
            StatusCode::BAD_REQUEST,
            "invalid_header",
            &format!("header {name} is not valid text"),
        );
    }
    let n = gw.requests.fetch_add(1, Ordering::Relaxed);
    let matched = gw.routes.find(parts.method.as_str(), parts.uri.path());
    let caller = match &gw.access {
        Some(access) => match caller_of(access, &gw.routes, matched.as_ref(), &parts, &body) {
            Ok(caller) => Some(caller),
            Err(refused) => return gateway_error(refused.status, refused.code, &refused.message),
        },
        None => None,
    };
    let mut event = proxy_event(&parts, &body, n, matched);
    if let Some(caller) = caller {
        caller.fill(&mut event.request_context);
    }
    let payload = match serde_json::to_value(&event) {
        Ok(p) => p,
        Err(e) => {
            warn!(error = %e, "request cannot become a proxy event");
            return gateway_error(StatusCode::BAD_REQUEST, "bad_request", "malformed request");
        }
    };
    let answer =
        match tokio::time::timeout(gw.timeout, gw.invoker.invoke(&gw.function, payload)).await {
            Ok(Ok(answer)) => answer,
            Ok(Err(e)) => {
                warn!(error = %e, "API function failed");
                return gateway_error(
                    StatusCode::BAD_GATEWAY,
                    "bad_gateway",
                    "internal server error",
                );
            }
            Err(_) => {
                warn!(timeout_s = gw.timeout.as_secs(), "API function timed out");
                return gateway_error(
                    StatusCode::GATEWAY_TIMEOUT,
                    "integration_timeout",
                    "the API did not answer in time",
                );
            }
        };
    match serde_json::from_value::<ApiGatewayProxyResponse>(answer) {
        Ok(r) => http_response(r),
        Err(e) => {
            warn!(error = %e, "malformed Lambda proxy response");
            gateway_error(
                StatusCode::BAD_GATEWAY,
                "bad_gateway",
                "internal server error",
            )
        }
    }
}

/// The caller of a request to the `matched` route (none: the `{proxy+}` catch-all's, an IAM
/// route), or the gateway's refusal.
fn caller_of(
    access: &Access,
    routes: &Routes,
    matched: Option<&Matched<'_>>,
    parts: &axum::http::request::Parts,
    body: &Bytes,
) -> Result<access::Caller, access::Refusal> {
    // A method API Gateway has no method for on a resource it has.
    if matched.is_none() && routes.has_resource(parts.uri.path()) {
        return Err(access::Refusal {
            status: StatusCode::FORBIDDEN,
            code: "missing_authentication",
            message: "Missing Authentication Token".into(),
        });
    }
    let scheme = matched.map_or(Authorization::Iam, |m| m.route.authorization);
    let roles = matched.map(|m| m.route.roles.as_slice());
    authenticate(access, scheme, roles, parts, body)
}

/// The caller of a request to a route of `scheme`, as `access` checks it.
fn authenticate(
    access: &Access,
    scheme: Authorization,
    roles: Option<&[String]>,
    parts: &axum::http::request::Parts,
    body: &Bytes,
) -> Result<access::Caller, access::Refusal> {
    // Every header is text by now (checked above).
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(k, v)| Some((k.as_str(), v.to_str().ok()?)))
        .collect();
    let host = parts
        .headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1");
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let url = format!("http://{host}{path}");
    access.check(
        scheme,
        roles,
        &access::Request {
            method: parts.method.as_str(),
            url: &url,
            headers: &headers,
            body,
        },
    )
}

/// An answer of the gateway itself, in the API's error shape.
fn gateway_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = serde_json::json!({"error": {"code": code, "message": message, "details": []}});
    (status, axum::Json(body)).into_response()
}

/// The proxy event API Gateway sends for the request: the resource its declared route names, or
/// the `{proxy+}` catch-all's with the whole path as `proxy`.
fn proxy_event(
    parts: &axum::http::request::Parts,
    body: &Bytes,
    n: u64,
    matched: Option<Matched<'_>>,
) -> ApiGatewayProxyRequest {
    let mut e = ApiGatewayProxyRequest::default();
    let path = parts.uri.path().to_owned();
    let resource = match matched {
        Some(m) => {
            e.path_parameters.extend(m.path_parameters);
            m.route.resource.clone()
        }
        None => {
            e.path_parameters
                .insert("proxy".into(), path.trim_start_matches('/').to_owned());
            "/{proxy+}".to_owned()
        }
    };
    e.http_method = parts.method.clone();
    e.path = Some(path.clone());
    e.resource = Some(resource.clone());
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
    e.request_context.stage = Some("local".into());
    e.request_context.request_id = Some(format!("local-{n}"));
    e.request_context.resource_path = Some(resource);
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
    // Exactly the function's headers: a plain body adds no content type of its own.
    let mut response = Response::new(axum::body::Body::from(body));
    *response.status_mut() = status.unwrap_or(StatusCode::BAD_GATEWAY);
    // API Gateway merges the two maps; a header in both is sent once.
    let mut headers = r.multi_value_headers.clone();
    for (name, value) in r.headers.iter() {
        if !headers.contains_key(name) {
            headers.append(name.clone(), value.clone());
        }
    }
    for (name, value) in headers.iter() {
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
        throttled_gateway(answer, None)
    }

    fn throttled_gateway(
        answer: Result<Value, &'static str>,
        throttle: Option<Throttle>,
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
        let gw = Gateway::configured(invoker, "api-handler", INTEGRATION_TIMEOUT, throttle, None);
        (gw, seen)
    }

    /// A gateway that lets in the callers of `access`, before a function that answers 200.
    fn guarded(access: Access) -> (Arc<Gateway<impl Invoker + 'static>>, Seen) {
        let seen: Seen = Arc::default();
        let log = seen.clone();
        let invoker = move |_: String, payload: Value| {
            log.lock().unwrap().push(payload);
            async move { Ok(json!({"statusCode": 200, "body": "{}"})) }
        };
        let gw = Gateway::configured(
            invoker,
            "api-handler",
            INTEGRATION_TIMEOUT,
            None,
            Some(access),
        );
        (gw, seen)
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
        assert_eq!(
            parsed.resource.as_deref(),
            Some("/tasks"),
            "the declared route"
        );
        assert!(parsed.path_parameters.is_empty());
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

    /// Like API Gateway: a declared route's resource and parameters, and the catch-all's for a
    /// request no route declares (the router answers that one 404 or 405).
    #[tokio::test]
    async fn the_event_names_the_declared_resource_or_the_catch_all() {
        let (gw, seen) = gateway(Ok(json!({"statusCode": 200})));
        for uri in ["/v1/users/ec_u1/activity", "/v1/users/ec_u1"] {
            let request = axum::http::Request::get(uri)
                .body(axum::body::Body::empty())
                .unwrap();
            send(gw.clone(), request).await;
        }
        let events: Vec<ApiGatewayProxyRequest> = seen
            .lock()
            .unwrap()
            .iter()
            .map(|e| serde_json::from_value(e.clone()).unwrap())
            .collect();
        assert_eq!(
            events[0].resource.as_deref(),
            Some("/v1/users/{user_id}/activity")
        );
        assert_eq!(
            events[0].request_context.resource_path.as_deref(),
            Some("/v1/users/{user_id}/activity")
        );
        assert_eq!(events[0].path_parameters["user_id"], "ec_u1");
        assert_eq!(events[1].resource.as_deref(), Some("/{proxy+}"));
        assert_eq!(events[1].path_parameters["proxy"], "v1/users/ec_u1");
    }

    fn code(body: &[u8]) -> Value {
        serde_json::from_slice::<Value>(body).unwrap()["error"]["code"].clone()
    }

    #[tokio::test]
    async fn a_failing_function_or_a_malformed_answer_is_a_502_in_the_error_shape() {
        let (gw, _) = gateway(Err("panicked"));
        let (status, _, body) = send(gw, axum::http::Request::default()).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_GATEWAY, json!("bad_gateway"))
        );
        let (gw, _) = gateway(Ok(json!({"statusCode": "not a number"})));
        let (status, _, body) = send(gw, axum::http::Request::default()).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_GATEWAY, json!("bad_gateway"))
        );
    }

    #[tokio::test]
    async fn a_function_slower_than_the_integration_timeout_is_a_504() {
        let slow = |_: String, _: Value| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            Ok(json!({"statusCode": 200}))
        };
        let gw = Gateway::with_timeout(slow, "api-handler", Duration::from_millis(50));
        let (status, _, body) = send(gw, axum::http::Request::default()).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::GATEWAY_TIMEOUT, json!("integration_timeout"))
        );
    }

    #[tokio::test]
    async fn requests_over_the_stage_rate_and_burst_are_429_with_retry_after() {
        let (gw, seen) =
            throttled_gateway(Ok(json!({"statusCode": 200})), Some(Throttle::new(1, 3)));
        let mut statuses = vec![];
        for _ in 0..5 {
            let (status, headers, body) = send(gw.clone(), axum::http::Request::default()).await;
            if status == StatusCode::TOO_MANY_REQUESTS {
                assert_eq!(code(&body), json!("throttled"));
                assert_eq!(headers["retry-after"], "1");
            }
            statuses.push(status.as_u16());
        }
        // The burst passes; the rest waits for the bucket to refill.
        assert_eq!(statuses, [200, 200, 200, 429, 429]);
        assert_eq!(seen.lock().unwrap().len(), 3);
    }

    #[test]
    fn the_bucket_refills_at_the_rate() {
        let t = Throttle::new(1000, 1);
        assert!(t.take().is_ok());
        assert!(t.take().is_err());
        std::thread::sleep(Duration::from_millis(5));
        assert!(t.take().is_ok());
    }

    #[tokio::test]
    async fn answers_carry_exactly_the_functions_headers() {
        let (gw, _) = gateway(Ok(json!({
            "statusCode": 200,
            "headers": {"content-type": "application/json"},
            "multiValueHeaders": {"content-type": ["application/json"], "x-a": ["1", "2"]},
            "body": "{}"
        })));
        let (_, headers, _) = send(gw, axum::http::Request::default()).await;
        let types: Vec<_> = headers.get_all("content-type").iter().collect();
        assert_eq!(types, ["application/json"]);
        let a: Vec<_> = headers.get_all("x-a").iter().collect();
        assert_eq!(a, ["1", "2"]);
    }

    #[tokio::test]
    async fn a_header_that_is_not_text_is_a_400_and_never_reaches_the_function() {
        let (gw, seen) = gateway(Ok(json!({"statusCode": 200})));
        let request = axum::http::Request::get("/tasks")
            .header(
                "user-agent",
                HeaderValue::from_bytes(&[0xff, 0xfe]).unwrap(),
            )
            .body(axum::body::Body::empty())
            .unwrap();
        let (status, _, body) = send(gw, request).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::BAD_REQUEST, json!("invalid_header"))
        );
        assert!(seen.lock().unwrap().is_empty());
    }

    /// Every route × credential: none, malformed, wrong (signature, key, another pool's or an
    /// expired token), another scheme's, and the right one. A refusal is the deployed gateway's
    /// status and code and never reaches the function; the right one reaches it with its caller.
    #[tokio::test]
    async fn each_route_lets_in_only_the_credential_its_scheme_takes() {
        use crate::access::{BinKey, Principal, bin_keys};
        use crate::routes::Authorization as Scheme;
        use crate::sigv4::Signer;
        use crate::user_pool::{UserPool, VALID_FOR};
        let principal = Principal {
            access_key_id: "AKID".into(),
            secret_access_key: "secret".into(),
            arn: "arn:aws:iam::000000000000:role/operations".into(),
            role: "operations".into(),
        };
        let kitchen = Principal {
            access_key_id: "KITCHEN".into(),
            secret_access_key: "kitchen".into(),
            arn: "arn:aws:iam::000000000000:role/kitchen".into(),
            role: "kitchen".into(),
        };
        let bins: Vec<BinKey> = bin_keys(2);
        let users = UserPool::generate().unwrap();
        let now = chrono::Utc::now().timestamp();
        let token = |user: &str| users.token(user, now, VALID_FOR).unwrap();
        let (expired, foreign) = (
            users.token("foo1", now - 7200, VALID_FOR).unwrap(),
            UserPool::generate()
                .unwrap()
                .token("foo1", now, VALID_FOR)
                .unwrap(),
        );
        let (good_token, bin) = (token("foo1"), bins[0].value.clone());
        let access = Access {
            region: "eu-west-1".into(),
            bins,
            principals: vec![principal, kitchen],
            users,
            origins: vec!["http://localhost:3000".into()],
        };
        let (gw, seen) = guarded(access);
        let sign_as = |key: &str, secret: &str, method: &str, path: &str, body: &[u8]| {
            let url = format!("http://127.0.0.1:3000{path}");
            let json = [("content-type", "application/json")];
            let signed: &[(&str, &str)] = if body.is_empty() { &[] } else { &json };
            Signer::new(key, secret, None, "eu-west-1")
                .headers(method, &url, signed, body)
                .unwrap()
        };
        let sign = |secret: &str, method: &str, path: &str, body: &[u8]| {
            sign_as("AKID", secret, method, path, body)
        };
        let routes = Routes::declared().unwrap();
        assert!(routes.all().len() >= 10);
        for route in routes.all() {
            let path = route
                .resource
                .split('/')
                .map(|s| if s.starts_with('{') { "foo1" } else { s })
                .collect::<Vec<_>>()
                .join("/");
            let body: &[u8] = if route.method == "GET" { b"" } else { b"{}" };
            let request = |headers: Vec<(String, String)>| {
                let mut r = axum::http::Request::builder()
                    .method(route.method.as_str())
                    .uri(&path)
                    .header("host", "127.0.0.1:3000");
                if !body.is_empty() {
                    r = r.header("content-type", "application/json");
                }
                for (k, v) in headers {
                    r = r.header(k, v);
                }
                r.body(axum::body::Body::from(body.to_vec())).unwrap()
            };
            let one = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
            let signed = sign("secret", &route.method, &path, body);
            let wrongly_signed = sign("guess", &route.method, &path, body);
            let (right, refusals) = match route.authorization {
                Scheme::ReturnBinKey => (
                    one("x-api-key", &bin),
                    vec![
                        ("none", vec![], 403, "invalid_api_key"),
                        (
                            "unknown key",
                            one("x-api-key", "guess"),
                            403,
                            "invalid_api_key",
                        ),
                        ("a signature", signed.clone(), 403, "invalid_api_key"),
                    ],
                ),
                Scheme::Iam => (
                    signed.clone(),
                    [
                        ("none", vec![], 403, "missing_authentication"),
                        (
                            "malformed",
                            one("authorization", "AWS4-HMAC-SHA256 x"),
                            403,
                            "invalid_signature",
                        ),
                        ("wrong secret", wrongly_signed, 403, "invalid_signature"),
                        (
                            "a bin key",
                            one("x-api-key", &bin),
                            403,
                            "missing_authentication",
                        ),
                        (
                            "a token",
                            one("authorization", &good_token),
                            403,
                            "invalid_signature",
                        ),
                    ]
                    .into_iter()
                    // A role the route's x-roles do not name.
                    .chain((!route.roles.iter().any(|r| r == "kitchen")).then(|| {
                        let as_kitchen = sign_as("KITCHEN", "kitchen", &route.method, &path, body);
                        ("a role not allowed", as_kitchen, 403, "forbidden")
                    }))
                    .collect(),
                ),
                Scheme::AppUsers => (
                    one("authorization", &good_token),
                    vec![
                        ("none", vec![], 401, "unauthorized"),
                        (
                            "malformed",
                            one("authorization", "not-a-token"),
                            401,
                            "unauthorized",
                        ),
                        (
                            "expired",
                            one("authorization", &expired),
                            401,
                            "unauthorized",
                        ),
                        (
                            "another pool's",
                            one("authorization", &foreign),
                            401,
                            "unauthorized",
                        ),
                        ("a signature", signed.clone(), 401, "unauthorized"),
                    ],
                ),
            };
            for (what, headers, status, code) in refusals {
                let before = seen.lock().unwrap().len();
                let (got, _, answer) = send(gw.clone(), request(headers)).await;
                let answer: Value = serde_json::from_slice(&answer).unwrap();
                assert_eq!(
                    (got.as_u16(), answer["error"]["code"].as_str()),
                    (status, Some(code)),
                    "{} {} with {what}: {answer}",
                    route.method,
                    route.resource
                );
                assert_eq!(
                    seen.lock().unwrap().len(),
                    before,
                    "a refusal reached the function"
                );
            }
            let (got, _, _) = send(gw.clone(), request(right)).await;
            assert_eq!(got, StatusCode::OK, "{} {}", route.method, route.resource);
            let event: ApiGatewayProxyRequest =
                serde_json::from_value(seen.lock().unwrap().last().unwrap().clone()).unwrap();
            let context = &event.request_context;
            match route.authorization {
                Scheme::ReturnBinKey => {
                    assert_eq!(context.identity.api_key_id.as_deref(), Some("local-bin-1"))
                }
                Scheme::Iam => assert!(context.identity.user_arn.is_some()),
                Scheme::AppUsers => {
                    assert_eq!(context.authorizer.fields["claims"]["sub"], "foo1")
                }
            }
        }
        // A method not declared on a declared path: API Gateway's missing authentication.
        let (got, _, _) = send(
            gw.clone(),
            axum::http::Request::delete("/tasks")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(got, StatusCode::FORBIDDEN);
        // The gateway's own answers let the allowed origin's pages read them, no other's.
        for (origin, readable) in [
            ("http://localhost:3000", true),
            ("https://evil.example", false),
        ] {
            let refused = axum::http::Request::get("/tasks/t1")
                .header("origin", origin)
                .body(axum::body::Body::empty())
                .unwrap();
            let (got, headers, _) = send(gw.clone(), refused).await;
            assert_eq!(got, StatusCode::FORBIDDEN);
            assert_eq!(
                headers
                    .get("access-control-allow-origin")
                    .map(|v| v.to_str().unwrap()),
                readable.then_some(origin),
                "{origin}"
            );
        }
    }
}
