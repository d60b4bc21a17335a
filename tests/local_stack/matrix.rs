//! Every declared route × credential, through the running local gateway with the stack's own
//! credentials: none, malformed, wrong (signature, key, expired token, another pool's token),
//! another scheme's, a caller role or app user the route does not take, and the right one.
//! Each refusal has the deployed gateway's status and code and leaves nothing behind (no item
//! in any table; its `Idempotency-Key` then runs the right request afresh); the right one is
//! let in.

use super::LocalStack;
use devstack::routes::{Authorization as Scheme, Route, Routes};
use devstack::sigv4::Signer;
use devstack::user_pool::{UserPool, VALID_FOR};
use std::collections::BTreeMap;

/// Headers a request carries.
type Headers = Vec<(String, String)>;

/// A refusal: what is sent, its headers, the status and code the gateway answers.
struct Refusal {
    what: &'static str,
    headers: Headers,
    /// The gateway refuses it (else the function: another user's data).
    by_gateway: bool,
    status: u16,
    code: &'static str,
}

/// The app user of the requests (path and bodies), whose token is the right one.
const USER: &str = "matrix-user";

/// One route's request: its path (parameters filled) and body.
struct Call<'a> {
    route: &'a Route,
    path: String,
    body: String,
}

impl Call<'_> {
    fn url(&self, stack: &LocalStack) -> String {
        format!("{}{}", stack.api(), self.path)
    }

    async fn send(
        &self,
        http: &reqwest::Client,
        stack: &LocalStack,
        key: &str,
        headers: &Headers,
    ) -> reqwest::Response {
        let mut request = http.request(self.route.method.parse().unwrap(), self.url(stack));
        if !self.body.is_empty() {
            request = request
                .header("content-type", "application/json")
                .body(self.body.clone());
        }
        if self.route.method == "POST" {
            request = request.header("idempotency-key", key);
        }
        for (k, v) in headers {
            request = request.header(k, v);
        }
        request.send().await.unwrap()
    }
}

/// The request of `route`: its path with every parameter the app user, and a body the route
/// accepts for the four whose acceptance is checked (`{}` elsewhere: the function's answer to
/// it, whatever it is, shows the gateway let it in).
fn call(route: &Route) -> Call<'_> {
    let path = route
        .resource
        .split('/')
        .map(|s| if s.starts_with('{') { USER } else { s })
        .collect::<Vec<_>>()
        .join("/");
    let event = format!(
        r#"{{"user_id": "{USER}", "device_id": "d1", "type": "app_launch", "time_stamp": "2021-02-28 16:00:00"}}"#
    );
    let body = match (route.method.as_str(), route.resource.as_str()) {
        ("GET", _) => String::new(),
        ("POST", "/tasks") => r#"{"title": "matrix", "description": "", "priority": "low"}"#.into(),
        ("POST", "/rentals/returns") => std::fs::read_to_string(
            devstack::emulator::workspace_root().join("events/rental-return/event_02.json"),
        )
        .unwrap(),
        ("POST", "/v1/event") => event,
        ("POST", "/v1/events") => format!(r#"{{"events": [{event}]}}"#),
        _ => "{}".into(),
    };
    Call { route, path, body }
}

/// The stack's callers: a signer per caller role, its bin key, its user pool.
struct Callers {
    region: String,
    roles: BTreeMap<String, (String, String)>,
    bin: String,
    pool: UserPool,
}

impl Callers {
    /// The local principals as `devstack serve` makes them: `operations` with
    /// `.devstack/env`'s credentials, every other declared role with its name as key and secret.
    fn of(stack: &LocalStack, routes: &Routes) -> Self {
        let env = &stack.env;
        let roles = routes
            .all()
            .iter()
            .flat_map(|r| r.roles.iter().cloned())
            .map(|role| {
                let credentials = if role == "operations" {
                    (
                        env["AWS_ACCESS_KEY_ID"].clone(),
                        env["AWS_SECRET_ACCESS_KEY"].clone(),
                    )
                } else {
                    (role.clone(), role.clone())
                };
                (role, credentials)
            })
            .collect();
        Self {
            region: env["AWS_REGION"].clone(),
            roles,
            bin: env["RETURN_BIN_API_KEY"].clone(),
            pool: UserPool::load(&stack.dir).unwrap(),
        }
    }

    fn sign(&self, key: &str, secret: &str, c: &Call, url: &str) -> Headers {
        let json = [("content-type", "application/json")];
        let signed: &[(&str, &str)] = if c.body.is_empty() { &[] } else { &json };
        Signer::new(key, secret, None, &self.region)
            .headers(&c.route.method, url, signed, c.body.as_bytes())
            .unwrap()
    }

    fn as_role(&self, role: &str, c: &Call, url: &str) -> Headers {
        let (key, secret) = &self.roles[role];
        self.sign(key, secret, c, url)
    }

    fn token(&self, user: &str, issued: i64) -> Headers {
        let token = self.pool.token(user, issued, VALID_FOR).unwrap();
        vec![("authorization".into(), token)]
    }

    /// The right credential of `c`'s route and the refusals it must answer.
    fn cases(&self, c: &Call, url: &str) -> (Headers, Vec<Refusal>) {
        let now = chrono::Utc::now().timestamp();
        let one = |k: &str, v: &str| vec![(k.to_owned(), v.to_owned())];
        let refusal = |what, headers, status, code| Refusal {
            what,
            headers,
            status,
            code,
            by_gateway: what != "another user's token",
        };
        let role = c.route.roles.first().map_or("operations", String::as_str);
        let signed = self.as_role(role, c, url);
        match c.route.authorization {
            Scheme::ReturnBinKey => (
                one("x-api-key", &self.bin),
                vec![
                    refusal("no key", vec![], 403, "invalid_api_key"),
                    refusal(
                        "an unknown key",
                        one("x-api-key", "guess"),
                        403,
                        "invalid_api_key",
                    ),
                    refusal("a signature", signed, 403, "invalid_api_key"),
                ],
            ),
            Scheme::Iam => {
                let (key, _) = &self.roles[role];
                let mut refusals = vec![
                    refusal("no credential", vec![], 403, "missing_authentication"),
                    refusal(
                        "a malformed signature",
                        one("authorization", "AWS4-HMAC-SHA256 x"),
                        403,
                        "invalid_signature",
                    ),
                    refusal(
                        "a wrong secret",
                        self.sign(key, "guess", c, url),
                        403,
                        "invalid_signature",
                    ),
                    refusal(
                        "a bin key",
                        one("x-api-key", &self.bin),
                        403,
                        "missing_authentication",
                    ),
                    refusal(
                        "an app token",
                        self.token(USER, now),
                        403,
                        "invalid_signature",
                    ),
                ];
                let not_allowed = self.roles.keys().find(|r| !c.route.roles.contains(r));
                if let Some(other) = not_allowed {
                    let headers = self.as_role(other, c, url);
                    refusals.push(refusal("a role not allowed", headers, 403, "forbidden"));
                }
                (signed, refusals)
            }
            Scheme::AppUsers => {
                let foreign = UserPool::generate().unwrap();
                let foreign = foreign.token(USER, now, VALID_FOR).unwrap();
                (
                    self.token(USER, now),
                    vec![
                        refusal("no token", vec![], 401, "unauthorized"),
                        refusal(
                            "a malformed token",
                            one("authorization", "not-a-token"),
                            401,
                            "unauthorized",
                        ),
                        refusal(
                            "an expired token",
                            self.token(USER, now - 7200),
                            401,
                            "unauthorized",
                        ),
                        refusal(
                            "another pool's token",
                            one("authorization", &foreign),
                            401,
                            "unauthorized",
                        ),
                        refusal("a signature", signed, 401, "unauthorized"),
                        refusal(
                            "another user's token",
                            self.token("someone-else", now),
                            403,
                            "forbidden",
                        ),
                    ],
                )
            }
        }
    }
}

/// Items in every table of the stack.
async fn items(stack: &LocalStack) -> BTreeMap<String, usize> {
    let env = devstack::stackenv::StackEnv::read_file(&stack.dir.join("env")).unwrap();
    let sdk = devstack::sdk_config(&env.endpoints().unwrap()).await;
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let tables = dynamo.list_tables().send().await.unwrap();
    let mut counts = BTreeMap::new();
    for table in tables.table_names() {
        let items = devstack::report::scan_items(&dynamo, table).await.unwrap();
        counts.insert(table.clone(), items.len());
    }
    counts
}

/// The status and error code of a refusal: the answer's, or a batch's one event's (a `207`).
fn refusal_of(status: u16, body: &serde_json::Value) -> (u16, Option<&str>) {
    let (status, error) = match (status, &body["results"][0]) {
        (207, result) => (
            result["status"].as_u64().unwrap_or(0) as u16,
            &result["error"],
        ),
        _ => (status, &body["error"]),
    };
    (status, error["code"].as_str())
}

/// Sends every refusal of `calls` the gateway (`by_gateway`) or the function answers.
async fn refuse(
    http: &reqwest::Client,
    stack: &LocalStack,
    callers: &Callers,
    calls: &[Call<'_>],
    by_gateway: bool,
) -> usize {
    let mut refused = 0;
    for c in calls {
        let (route, url) = (c.route, c.url(stack));
        let key = format!("matrix-{}-{}", route.method, route.resource);
        for r in callers.cases(c, &url).1 {
            if r.by_gateway != by_gateway {
                continue;
            }
            let answer = c.send(http, stack, &key, &r.headers).await;
            let status = answer.status().as_u16();
            let body: serde_json::Value = answer.json().await.unwrap_or_default();
            assert_eq!(
                refusal_of(status, &body),
                (r.status, Some(r.code)),
                "{} {} with {}: {body}",
                route.method,
                route.resource,
                r.what
            );
            refused += 1;
        }
    }
    // Anything a refusal let through would have written by now (the idempotency record at
    // once, the consumers within a poll).
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    refused
}

pub(super) async fn each_route_lets_in_only_its_credential(stack: &LocalStack) {
    let http = reqwest::Client::new();
    let routes = Routes::declared().unwrap();
    let callers = Callers::of(stack, &routes);
    let calls: Vec<Call> = routes.all().iter().map(call).collect();
    let before = items(stack).await;
    let refused = refuse(&http, stack, &callers, &calls, true).await;
    assert_eq!(items(stack).await, before, "a refused request left items");
    // The function's refusals (another user's data) are answers like any other: replayed
    // to their caller for the same key (the idempotency record, under that caller's scope),
    // and nothing else.
    let refused = refused + refuse(&http, stack, &callers, &calls, false).await;
    let idempotency = |mut items: BTreeMap<String, usize>| {
        items.retain(|table, _| !table.ends_with("idempotency"));
        items
    };
    assert_eq!(
        idempotency(items(stack).await),
        idempotency(before),
        "another user's refused request left items"
    );

    for c in &calls {
        let (route, url) = (c.route, c.url(stack));
        let key = format!("matrix-{}-{}", route.method, route.resource);
        let right = callers.cases(c, &url).0;
        let answer = c.send(&http, stack, &key, &right).await;
        let status = answer.status().as_u16();
        let replayed = answer.headers().contains_key("idempotent-replayed");
        let body: serde_json::Value = answer.json().await.unwrap_or_default();
        let what = format!(
            "{} {} with its credential: {status} {body}",
            route.method, route.resource
        );
        assert!(!matches!(status, 401 | 403), "{what}");
        assert!(
            !replayed,
            "{what}: a refused request left something under its key"
        );
        if !c.body.is_empty() && c.body != "{}" {
            assert_eq!(status, 202, "{what}");
        }
    }
    assert!(
        routes.all().len() >= 10 && refused >= 3 * routes.all().len(),
        "{refused} refusals"
    );
}
