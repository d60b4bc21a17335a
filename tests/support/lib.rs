//! Test harness: a private moto per test, the system's topology provisioned under a unique
//! prefix, the functions' handlers wired to the real AWS adapters, and the devstack bridge to
//! move messages between them exactly as the event-source mappings do.

#![recursion_limit = "256"]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use devstack::bridge::{InvokeError, SqsSource, StreamSource};
use devstack::moto::MotoServer;
use devstack::provision::Resources;
use devstack::sink::Sink;
use devstack::topology::{EventSource, Topology};
use domain::memory::ScriptedExecutor;
use notifier::Notifier;
use platform::config::RentalTables;
use platform::dynamo::{
    DynamoFormulaStore, DynamoRentalStore, DynamoStatsStore, DynamoTaskStore, ProcessedMarkers,
    RejectionLog,
};
use platform::notify::{NotifyClient, NotifyConfig};
use platform::outbox::AwsPublisher;
use queue_processor::QueueProcessor;
use serde_json::Value;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Visibility timeout of every queue in tests: short, so redelivery is observable quickly.
pub const TEST_VISIBILITY_SECS: u32 = 1;

pub struct TestStack {
    // Dropped last: stops the emulator.
    pub moto: MotoServer,
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
        let moto = MotoServer::start(None)
            .await
            .expect("moto starts (run `make venv` first)");
        let sdk = devstack::sdk_config(&moto.endpoint).await;
        let prefix = format!("t{}-", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let resources = devstack::provision(&sdk, &topology, &prefix).await.unwrap();
        devstack::seed::seed(&aws_sdk_dynamodb::Client::new(&sdk), &resources)
            .await
            .unwrap();
        let sink = Arc::new(Sink::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let notify_url = format!("http://{}", listener.local_addr().unwrap());
        tokio::spawn(devstack::sink::serve(listener, sink.clone()));
        Self {
            moto,
            sdk,
            topology,
            resources,
            sink,
            notify_url,
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

    pub fn rental_store(&self) -> DynamoRentalStore {
        let t = |l| self.table(l);
        DynamoRentalStore::new(
            self.dynamo(),
            RentalTables {
                users: t("users"),
                assets: t("assets"),
                rentals: t("rentals"),
                returns: t("returns"),
                outbox: t("outbox"),
            },
        )
    }

    pub fn rejections(&self) -> RejectionLog {
        RejectionLog::new(self.dynamo(), self.table("rejections"))
    }

    pub fn stats_store(&self) -> DynamoStatsStore {
        DynamoStatsStore::new(
            self.dynamo(),
            self.table("user-stats"),
            self.table("processed"),
        )
    }

    pub fn formula_store(&self) -> DynamoFormulaStore {
        DynamoFormulaStore::new(self.dynamo(), self.table("formulas"), self.table("outbox"))
    }

    pub fn task_store(&self) -> DynamoTaskStore {
        DynamoTaskStore::new(self.dynamo(), self.table("tasks"), self.table("outbox"))
    }

    pub fn notify_config(&self, base_url: &str) -> NotifyConfig {
        NotifyConfig {
            base_url: base_url.to_owned(),
            timeout: Duration::from_secs(2),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(10),
        }
    }

    /// Every function's handler, wired to this stack's resources and notification sink.
    pub fn functions(&self) -> Arc<Functions> {
        self.functions_notifying(&self.notify_url.clone())
    }

    pub fn functions_notifying(&self, notify_url: &str) -> Arc<Functions> {
        Arc::new(Functions {
            rentals: self.rental_store(),
            rejections: self.rejections(),
            notifier: Notifier {
                client: NotifyClient::new(self.notify_config(notify_url)).unwrap(),
                markers: ProcessedMarkers::new(self.dynamo(), self.table("processed")),
                rejections: self.rejections(),
            },
            processor: QueueProcessor {
                stats: self.stats_store(),
                formulas: self.formula_store(),
                tasks: self.task_store(),
                // Runs every task; a test scripts failures with `processor.executor.fail`.
                executor: ScriptedExecutor::default(),
                rejections: self.rejections(),
                max_receive_count: self.topology.max_receive_count,
            },
            publisher: AwsPublisher::new(
                aws_sdk_sns::Client::new(&self.sdk),
                self.sqs(),
                self.resources.topic("domain-events").unwrap(),
                Some(self.resources.queue("work").unwrap().url.clone()),
            ),
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
        SqsSource::new(self.sqs(), &q.url, &q.arn, &function, batch_size).with_wait_secs(0)
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
        let queues: Vec<SqsSource> = ["rental-returns", "notifications", "projections", "work"]
            .iter()
            .map(|q| self.queue_source(q))
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
        use http_body_util::BodyExt;
        use tower::ServiceExt;
        let services = Arc::new(api_handler::Services {
            rentals: self.rental_store(),
            stats: self.stats_store(),
            returns: platform::sqs::FifoSender::new(
                self.sqs(),
                &self.resources.queue("rental-returns").unwrap().url,
            ),
            idempotency: platform::idempotency::DynamoIdempotencyStore::new(
                self.dynamo(),
                self.table("idempotency"),
            ),
            formulas: self.formula_store(),
            tasks: self.task_store(),
            task_group: domain::tasks::TaskGroup::default(),
        });
        let mut request = axum::http::Request::builder()
            .method(method)
            .uri(uri)
            .header("content-type", "application/json");
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        let request = request
            .body(
                body.map(|b| axum::body::Body::from(b.to_string()))
                    .unwrap_or_else(axum::body::Body::empty),
            )
            .unwrap();
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
        let (status, _, body) = self.http(method, uri, body, None).await;
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    /// Writes `event`'s outbox row in a transaction of its own, as a state change does; the
    /// error text when the transaction is cancelled (the event id exists).
    pub async fn write_outbox(&self, event: &domain::events::DomainEvent) -> Result<(), String> {
        let put = platform::outbox::OutboxRecord::for_domain_event(event)
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
pub struct Functions {
    pub rentals: DynamoRentalStore,
    pub rejections: RejectionLog,
    pub notifier: Notifier<RejectionLog>,
    pub processor: QueueProcessor<
        DynamoStatsStore,
        DynamoFormulaStore,
        DynamoTaskStore,
        ScriptedExecutor,
        RejectionLog,
    >,
    pub publisher: AwsPublisher,
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
            "rental-return" => rental_return::handle(&self.rentals, &self.rejections, payload)
                .await
                .map_err(|e| err(&e))?,
            "notifier" => serde_json::to_value(
                self.notifier
                    .handle(serde_json::from_value(payload).map_err(|e| err(&e))?)
                    .await
                    .map_err(|e| err(&e))?,
            )
            .map_err(|e| err(&e))?,
            "queue-processor" => serde_json::to_value(
                self.processor
                    .handle(serde_json::from_value(payload).map_err(|e| err(&e))?)
                    .await
                    .map_err(|e| err(&e))?,
            )
            .map_err(|e| err(&e))?,
            "outbox-relay" => serde_json::to_value(
                outbox_relay::handle(
                    serde_json::from_value(payload).map_err(|e| err(&e))?,
                    &self.publisher,
                    &self.rejections,
                )
                .await,
            )
            .map_err(|e| err(&e))?,
            other => return Err(err(&format!("no function {other}"))),
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

/// Base64 of an id, as printed in a QR code.
pub fn qr(id: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(id)
}

/// A return event as a bin sends it.
pub fn return_event(user: &str, asset: &str, timestamp: &str, location: &str) -> Value {
    serde_json::json!({"timestamp": timestamp, "location_id": location,
                       "user_qr_data": qr(user), "asset_qr_data": qr(asset)})
}

/// The example events shipped in `events/rental-return/`.
pub fn example_events() -> Vec<Value> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../events/rental-return");
    (1..=5)
        .map(|i| {
            serde_json::from_str(
                &std::fs::read_to_string(dir.join(format!("event_0{i}.json"))).unwrap(),
            )
            .unwrap()
        })
        .collect()
}
