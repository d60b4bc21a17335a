//! Test harness: one DynamoDB Local per test binary and a private messaging emulator (SQS, SNS:
//! fauxqs, or moto with `DEVSTACK_MESSAGING=moto`) per test, the
//! system's topology provisioned under a prefix of the test's own, the functions' handlers wired
//! to the real AWS adapters, and the devstack bridge to move messages between them exactly as the
//! event-source mappings do. A test that needs AWS's transaction conflicts and throttling gets a
//! fault injector in front of DynamoDB Local ([`TestStack::start_with_faults`]).

#![recursion_limit = "256"]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use devstack::Endpoints;
use devstack::bridge::{InvokeError, SqsSource, StreamSource};
use devstack::emulator::{Emulator, Messaging};
use devstack::faults::{FaultProxy, Faults};
use devstack::provision::Resources;
use devstack::sink::Sink;
use devstack::topology::{EventSource, Topology};
use platform::batch::Budget;
use platform::config::Vars;
use platform::consumer::Consumer;
use platform::dynamo::RejectionLog;
use serde_json::Value;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Visibility timeout of every queue in tests: short, so redelivery is observable quickly.
pub const TEST_VISIBILITY_SECS: u32 = 1;

/// DynamoDB Local, started by the first test of a binary that needs it and stopped when the
/// binary exits (the emulator's lifeline closes with the process).
static DYNAMODB_LOCAL: tokio::sync::OnceCell<Emulator> = tokio::sync::OnceCell::const_new();

async fn dynamodb_local() -> &'static Emulator {
    DYNAMODB_LOCAL
        .get_or_init(|| async {
            Emulator::dynamodb_local(0, None)
                .await
                .expect("DynamoDB Local starts (run `make dynamodb-local`; it needs Java 17+)")
        })
        .await
}

pub struct TestStack {
    // Dropped last: stops the emulator.
    pub messaging: Emulator,
    /// The fault injector in front of DynamoDB Local, when the test asked for one.
    pub faults: Option<Arc<FaultProxy>>,
    pub sdk: aws_config::SdkConfig,
    pub topology: Topology,
    pub resources: Resources,
    pub sink: Arc<Sink>,
    pub notify_url: String,
}

impl TestStack {
    /// A fresh emulator with the whole topology (short visibility timeouts) and the reference
    /// data.
    pub async fn start() -> Self {
        Self::start_with(
            Topology::system()
                .unwrap()
                .with_visibility_timeout(TEST_VISIBILITY_SECS),
        )
        .await
    }

    /// A fresh emulator with `topology` and the reference data.
    pub async fn start_with(topology: Topology) -> Self {
        Self::start_on(topology, None).await
    }

    /// [`Self::start`] with DynamoDB reached through a fault injector, switched on with `faults`
    /// once the stack is provisioned and seeded.
    pub async fn start_with_faults(faults: Faults) -> Self {
        let topology = Topology::system()
            .unwrap()
            .with_visibility_timeout(TEST_VISIBILITY_SECS);
        let stack = Self::start_on(topology, Some(Faults::default())).await;
        if let Some(proxy) = &stack.faults {
            proxy.set(faults);
        }
        stack
    }

    async fn start_on(topology: Topology, faults: Option<Faults>) -> Self {
        let which = Messaging::from_env().unwrap();
        let (messaging, dynamodb) =
            tokio::join!(Emulator::messaging(which, 0, None), dynamodb_local());
        let messaging = messaging.unwrap_or_else(|e| {
            panic!(
                "{} starts (`make fauxqs`, or `make venv` for moto): {e}",
                which.name()
            )
        });
        let mut endpoints = Endpoints {
            messaging: messaging.endpoint.clone(),
            dynamodb: dynamodb.endpoint.clone(),
        };
        let proxy = match faults {
            Some(faults) => {
                let proxy = FaultProxy::new(&dynamodb.endpoint, faults, 1);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                endpoints.dynamodb = format!("http://{}", listener.local_addr().unwrap());
                tokio::spawn(devstack::faults::serve(listener, proxy.clone()));
                Some(proxy)
            }
            None => None,
        };
        let sdk = devstack::sdk_config(&endpoints).await;
        let prefix = format!("t{}-", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let resources = devstack::provision(&sdk, &topology, &prefix).await.unwrap();
        devstack::seed::seed(&aws_sdk_dynamodb::Client::new(&sdk), &topology, &resources)
            .await
            .unwrap();
        let sink = Arc::new(Sink::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let notify_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(devstack::sink::serve(listener, sink.clone()));
        Self {
            messaging,
            faults: proxy,
            sdk,
            topology,
            resources,
            sink,
            notify_url,
        }
    }

    /// Switches the injected faults off, so that checks read what happened under them without
    /// being throttled themselves (the counts of what was injected stay).
    pub fn calm(&self) {
        if let Some(faults) = &self.faults {
            faults.set(Faults::default());
        }
    }

    pub fn dynamo(&self) -> aws_sdk_dynamodb::Client {
        aws_sdk_dynamodb::Client::new(&self.sdk)
    }

    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk)
    }

    pub fn table(&self, logical: &str) -> String {
        self.resources.table(logical).unwrap().to_owned()
    }

    /// The configuration the functions get on this stack, as the local stack writes it: every
    /// resource's variable, the flows' settings at their `local` values in topology.json, the
    /// notification service at `notify_url` (short timeouts and back-off, so tests of failures
    /// are quick).
    pub fn vars_notifying(&self, notify_url: &str) -> Vars {
        self.vars_with(notify_url, &[])
    }

    /// [`Self::vars_notifying`] with `settings` (a flow's settings, by variable name) instead of
    /// their local values.
    pub fn vars_with(&self, notify_url: &str, settings: &[(&str, &str)]) -> Vars {
        let mut env: BTreeMap<String, String> = self.resources.env.clone();
        let declared = Topology::system().unwrap().settings;
        env.extend(declared.into_iter().map(|(name, s)| (name, s.local)));
        for (k, v) in settings {
            env.insert((*k).into(), (*v).into());
        }
        for (k, v) in [
            ("NOTIFY_URL", notify_url),
            ("CORS_ALLOW_ORIGINS", CORS_ORIGIN),
            ("NOTIFY_TIMEOUT_MS", "2000"),
            ("NOTIFY_MAX_ATTEMPTS", "3"),
            ("NOTIFY_BACKOFF_MS", "10"),
        ] {
            env.insert(k.into(), v.into());
        }
        Vars::from_map(env).unwrap()
    }

    pub fn vars(&self) -> Vars {
        self.vars_notifying(&self.notify_url)
    }

    pub fn rejections(&self) -> RejectionLog {
        RejectionLog::new(self.dynamo(), self.table("rejections"))
    }

    /// Every function's handler, wired to this stack's resources and notification sink.
    pub fn functions(&self) -> Arc<Functions> {
        self.functions_notifying(&self.notify_url.clone())
    }

    /// The functions as their `main` wires them (the same `from_vars`).
    pub fn functions_notifying(&self, notify_url: &str) -> Arc<Functions> {
        self.functions_with(self.vars_notifying(notify_url))
    }

    /// The functions with `settings` (a flow's settings, by variable name) instead of their
    /// local values.
    pub fn functions_setting(&self, settings: &[(&str, &str)]) -> Arc<Functions> {
        self.functions_with(self.vars_with(&self.notify_url, settings))
    }

    /// The functions with `given` ports in place of a flow's own (as a flow's tests script a
    /// dependency: the tasks' executor).
    pub fn functions_given(&self, given: platform::wiring::Ports) -> Arc<Functions> {
        self.functions_wired(self.vars(), given)
    }

    fn functions_with(&self, vars: Vars) -> Arc<Functions> {
        self.functions_wired(vars, platform::wiring::Ports::default())
    }

    fn functions_wired(&self, vars: Vars, given: platform::wiring::Ports) -> Arc<Functions> {
        let aws = platform::wiring::Aws::new(&self.sdk, &vars).given(given);
        Arc::new(Functions {
            own: queue_processor::functions()
                .map(|f| (f.name, (f.wire)(&aws).unwrap()))
                .collect(),
            notifier: notifier::from_vars(&self.sdk, &vars).unwrap(),
            processor: queue_processor::from_aws(&aws).unwrap(),
            relay: outbox_relay::Relay::from_vars(&self.sdk, &vars).unwrap(),
        })
    }

    /// The queue → function mapping for `queue`, as the bridge runs it, without long polling.
    pub fn queue_source(&self, queue: &str) -> SqsSource {
        let (function, batch_size) = self
            .topology
            .event_sources
            .iter()
            .find_map(|s| match s {
                EventSource::Queue {
                    queue: q,
                    function,
                    batch_size,
                    ..
                } if q == queue => Some((function.clone(), *batch_size)),
                _ => None,
            })
            .unwrap();
        let q = self.resources.queue(queue).unwrap();
        let backend = Messaging::from_env().unwrap();
        SqsSource::new(self.sqs(), &q.url, &q.arn, &function, batch_size)
            .with_wait_secs(0)
            .waking_on_release(backend.wakes_long_polls_on_release())
    }

    pub fn outbox_source(&self) -> StreamSource {
        StreamSource::new(&self.sdk, &self.table("outbox"), "outbox-relay", 100)
    }

    /// Runs every event source until `done` holds (checked after each round), or panics after
    /// `timeout`.
    pub async fn pump_until<F, Fut>(
        &self,
        functions: &Arc<Functions>,
        timeout: Duration,
        mut done: F,
    ) where
        F: FnMut() -> Fut,
        Fut: Future<Output = bool>,
    {
        let invoker = functions.invoker();
        let queues: Vec<SqsSource> = self
            .topology
            .queues
            .iter()
            .map(|q| self.queue_source(&q.logical))
            .collect();
        let stream = self.outbox_source();
        let deadline = Instant::now() + timeout;
        loop {
            for q in &queues {
                q.poll_once(&invoker).await.unwrap();
            }
            stream.poll_once(&invoker).await.unwrap();
            if done().await {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "condition not reached within {timeout:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// One request through the API router wired to this stack's real adapters.
    pub async fn http(
        &self,
        method: &str,
        uri: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> (axum::http::StatusCode, axum::http::HeaderMap, Vec<u8>) {
        self.http_as(None, method, uri, body, idempotency_key).await
    }

    /// [`Self::http`] from the fitness app's user `user`, as the Cognito authorizer hands the
    /// function a request it let through.
    pub async fn http_as(
        &self,
        user: Option<&str>,
        method: &str,
        uri: &str,
        body: Option<&Value>,
        idempotency_key: Option<&str>,
    ) -> (axum::http::StatusCode, axum::http::HeaderMap, Vec<u8>) {
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let services = api_handler::Services::from_vars(&self.sdk, &self.vars()).unwrap();
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json");
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let mut request = request
            .body(
                body.map(|b| axum::body::Body::from(b.to_string()))
                    .unwrap_or_else(axum::body::Body::empty),
            )
            .unwrap();
        if let Some(user) = user {
            request
                .extensions_mut()
                .insert(api_handler::caller::app_user_context(user));
        }
        let response = api_handler::router(services)
            .oneshot(request)
            .await
            .unwrap();
        let (parts, body) = response.into_parts();
        (
            parts.status,
            parts.headers,
            body.collect().await.unwrap().to_bytes().to_vec(),
        )
    }

    /// [`Self::http`] without a key, the body parsed as JSON.
    pub async fn api(
        &self,
        method: &str,
        uri: &str,
        body: Option<&Value>,
    ) -> (axum::http::StatusCode, Value) {
        self.api_as(None, method, uri, body).await
    }

    /// [`Self::api`] from the fitness app's user `user`.
    pub async fn api_as(
        &self,
        user: Option<&str>,
        method: &str,
        uri: &str,
        body: Option<&Value>,
    ) -> (axum::http::StatusCode, Value) {
        let (status, _, body) = self.http_as(user, method, uri, body, None).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Writes `event`'s outbox row in a transaction of its own, as a state change does; the
    /// error text when the transaction is cancelled (the event id exists).
    pub async fn write_outbox(&self, event: &domain::events::Outbound) -> Result<(), String> {
        let put = platform::outbox::OutboxRecord::for_event(event)
            .unwrap()
            .transact_put(&self.table("outbox"))
            .unwrap();
        self.dynamo()
            .transact_write_items()
            .transact_items(put)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// What `make report` prints for this stack.
    pub async fn report(&self) -> String {
        let snapshot = devstack::report::snapshot(
            &self.sdk,
            &self.topology,
            &self.resources,
            &self.notify_url,
        )
        .await
        .unwrap();
        devstack::report::render(&snapshot)
    }

    /// Messages currently in `queue`'s dead-letter queue (received and left there).
    pub async fn dead_letters(&self, queue: &str) -> Vec<String> {
        let out = self
            .sqs()
            .receive_message()
            .queue_url(&self.resources.queue(queue).unwrap().dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(0)
            .send()
            .await
            .unwrap();
        out.messages()
            .iter()
            .filter_map(|m| m.body.clone())
            .collect()
    }
}

/// The functions' library handlers, dispatched by function name like the Lambda service does.
/// Wires `function` of topology.json from `vars` as its `main` does (its `from_vars`); an error
/// names what it lacks. Every function of the system is here, as in [`Functions`]: the backbone's
/// by name, the flows' own as their flows declare them.
pub fn wire_function(
    function: &str,
    sdk: &aws_config::SdkConfig,
    vars: &Vars,
) -> Result<(), String> {
    let e = |e: platform::ConfigError| e.to_string();
    match function {
        "api-handler" => api_handler::Services::from_vars(sdk, vars)
            .map(drop)
            .map_err(e),
        "notifier" => notifier::from_vars(sdk, vars).map(drop).map_err(e),
        "queue-processor" => queue_processor::from_vars(sdk, vars).map(drop).map_err(e),
        "outbox-relay" => outbox_relay::Relay::from_vars(sdk, vars)
            .map(drop)
            .map_err(e),
        own => queue_processor::function(own)
            .and_then(|f| (f.wire)(&platform::wiring::Aws::new(sdk, vars)))
            .map(drop)
            .map_err(e),
    }
}

/// The browser origin the tests' API allows.
pub const CORS_ORIGIN: &str = "http://localhost:3000";

pub struct Functions {
    /// The functions the flows bring of their own (rentals' rental-return), by name.
    own: Vec<(&'static str, Box<dyn platform::function::Handler>)>,
    pub notifier: Consumer,
    pub processor: Consumer,
    pub relay: outbox_relay::Relay,
}

fn function_error(function: &str, e: impl std::fmt::Display) -> InvokeError {
    InvokeError::Function {
        function: function.to_owned(),
        detail: e.to_string(),
    }
}

impl Functions {
    pub async fn invoke(&self, function: &str, payload: Value) -> Result<Value, InvokeError> {
        let err = |e: &dyn std::fmt::Display| function_error(function, e);
        let out = match function {
            "notifier" => serde_json::to_value(
                self.notifier
                    .handle(
                        serde_json::from_value(payload).map_err(|e| err(&e))?,
                        Budget::unlimited(),
                    )
                    .await
                    .map_err(|e| err(&e))?,
            )
            .map_err(|e| err(&e))?,
            "queue-processor" => serde_json::to_value(
                self.processor
                    .handle(
                        serde_json::from_value(payload).map_err(|e| err(&e))?,
                        Budget::unlimited(),
                    )
                    .await
                    .map_err(|e| err(&e))?,
            )
            .map_err(|e| err(&e))?,
            "outbox-relay" => serde_json::to_value(
                self.relay
                    .handle(
                        serde_json::from_value(payload).map_err(|e| err(&e))?,
                        Budget::unlimited(),
                    )
                    .await,
            )
            .map_err(|e| err(&e))?,
            own => {
                let Some((_, handler)) = self.own.iter().find(|(name, _)| *name == own) else {
                    return Err(err(&format!("no function {own}")));
                };
                handler
                    .handle(payload, Budget::unlimited())
                    .await
                    .map_err(|e| err(&e))?
            }
        };
        Ok(out)
    }

    /// An invoker for the bridge that calls these handlers in-process.
    pub fn invoker(
        self: &Arc<Self>,
    ) -> impl Fn(
        String,
        Value,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Value, InvokeError>> + Send>>
    + Send
    + Sync {
        let functions = self.clone();
        move |name: String, payload: Value| {
            let functions = functions.clone();
            Box::pin(async move { functions.invoke(&name, payload).await })
        }
    }
}

/// DynamoDB Local alone, without a messaging emulator: some of the topology's tables, freshly
/// created (empty) under a prefix of the caller's own. For tests of the DynamoDB adapters by
/// themselves (the port contracts under `ports/`).
pub struct DynamoTables {
    pub client: aws_sdk_dynamodb::Client,
    pub resources: Resources,
}

impl DynamoTables {
    /// The tables named `logical` in `infrastructure/topology.json`.
    pub async fn start(logical: &[&str]) -> Self {
        let dynamodb = dynamodb_local().await;
        // Nothing here talks to SQS or SNS: their endpoint is one where nothing answers.
        let endpoints = Endpoints {
            messaging: "http://127.0.0.1:9".into(),
            dynamodb: dynamodb.endpoint.clone(),
        };
        let sdk = devstack::sdk_config(&endpoints).await;
        let mut topology = Topology::system().unwrap();
        topology
            .tables
            .retain(|t| logical.contains(&t.logical.as_str()));
        assert_eq!(
            topology.tables.len(),
            logical.len(),
            "the topology has a table of each name in {logical:?}"
        );
        topology.queues.clear();
        topology.topics.clear();
        topology.subscriptions.clear();
        let prefix = format!("p{}-", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let resources = devstack::provision(&sdk, &topology, &prefix).await.unwrap();
        Self {
            client: aws_sdk_dynamodb::Client::new(&sdk),
            resources,
        }
    }

    pub fn table(&self, logical: &str) -> String {
        self.resources.table(logical).unwrap().to_owned()
    }

    /// Every row of the outbox table as the relay would publish it: its destination and the
    /// event, ordered by event id.
    pub async fn outbox(&self) -> Vec<(String, domain::events::DomainEvent)> {
        let items: Vec<platform::dynamo::Item> = self
            .client
            .scan()
            .table_name(self.table("outbox"))
            .consistent_read(true)
            .into_paginator()
            .items()
            .send()
            .collect::<Result<_, _>>()
            .await
            .unwrap();
        let mut rows: Vec<(String, domain::events::DomainEvent)> = items
            .into_iter()
            .map(|item| {
                let row: platform::outbox::OutboxRecord = serde_dynamo::from_item(item).unwrap();
                (row.destination, serde_json::from_str(&row.body).unwrap())
            })
            .collect();
        rows.sort_by(|a, b| a.1.event_id.cmp(&b.1.event_id));
        rows
    }
}

/// The tests of port contracts: for each rule (an async fn taking the port's harness by
/// reference), one test per adapter, `<rule>::in_memory` and `<rule>::dynamodb_local`, each on
/// a harness from its constructor (an async fn of the calling module). Attributes before a rule
/// apply to both of its tests.
#[macro_export]
macro_rules! contract_tests {
    (in_memory: $memory:ident, dynamodb_local: $dynamo:ident; $($(#[$meta:meta])* $rule:ident),+ $(,)?) => {
        $(
            mod $rule {
                $(#[$meta])*
                #[tokio::test]
                async fn in_memory() {
                    super::$rule(&super::$memory().await).await;
                }

                $(#[$meta])*
                #[tokio::test]
                async fn dynamodb_local() {
                    super::$rule(&super::$dynamo().await).await;
                }
            }
        )+
    };
}

/// Transaction conflicts on 30 % and throttling on 10 % of the DynamoDB calls a test's writes
/// make: what each flow's retries must turn into exactly one effect.
pub const CONFLICTS_AND_THROTTLING: Faults = Faults {
    conflict: 0.3,
    throttle: 0.1,
    server_error: 0.0,
    lost_answer: 0.0,
};

/// A client that honours `503` + `Retry-After` (what the API answers for a retryable failure)
/// by sending the same request again with the same `Idempotency-Key`.
pub async fn post_retrying(
    stack: &TestStack,
    uri: &str,
    body: &Value,
    key: &str,
) -> (axum::http::StatusCode, Value) {
    for _ in 0..10 {
        let (status, headers, bytes) = stack.http("POST", uri, Some(body), Some(key)).await;
        if status == axum::http::StatusCode::SERVICE_UNAVAILABLE {
            assert!(headers.contains_key("retry-after"));
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        }
        return (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        );
    }
    panic!("{uri} still unavailable after 10 tries");
}
