//! The local stack, with no Docker and no AWS account: DynamoDB Local stands in for DynamoDB and
//! its streams, fauxqs (or moto) for SQS and SNS ([`emulator`]), the functions' own optimized
//! binaries run behind a Lambda Runtime API of this crate's ([`runtime`]), and this crate
//! supplies what none of them does — the resources (from
//! [`topology`]), the event-source mappings ([`bridge`]), the API Gateway front ([`gateway`]),
//! AWS's transaction conflicts and throttling on demand ([`faults`]), the notification service
//! stand-in ([`sink`]), reference data ([`seed`]).

// Nested SDK futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

pub mod access;
pub mod bridge;
pub mod chaos;
pub mod emulator;
pub mod faults;
pub mod gateway;
pub mod provision;
pub mod report;
pub mod routes;
pub mod runtime;
pub mod seed;
pub mod serve;
pub mod sigv4;
pub mod sink;
pub mod stackenv;
pub mod user_pool;
/// The topology (`infrastructure/topology.json`), as the functions read it.
pub use platform::topology;

pub use provision::{Resources, provision};
pub use topology::Topology;

/// Errors of the local tooling. These are developer-facing: they say what to do.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    #[error("{0}")]
    Setup(String),
    #[error(transparent)]
    Port(#[from] domain::PortError),
    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error(transparent)]
    Topology(#[from] platform::topology::TopologyError),
}

impl DevError {
    /// The error in one line for a terminal: the SDK's own text can run to pages (the full
    /// error goes to the log).
    pub fn summary(&self) -> String {
        let text = self.to_string();
        let line = text.lines().next().unwrap_or_default();
        let mut short: String = line.chars().take(200).collect();
        if short.len() < line.len() {
            short.push('…');
        }
        short
    }
}

pub type Result<T, E = DevError> = std::result::Result<T, E>;

/// Where the local stack's services answer: SQS and SNS at `messaging` (fauxqs or moto),
/// DynamoDB and its streams at `dynamodb` (DynamoDB Local, or the fault injector in front of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    pub messaging: String,
    pub dynamodb: String,
}

impl Endpoints {
    /// The variables that route an SDK to these endpoints, one per service, as AWS's SDKs read
    /// them (a service with none would go to AWS itself, which no local credential reaches).
    pub fn env(&self) -> [(&'static str, &str); 4] {
        [
            ("AWS_ENDPOINT_URL_SQS", &self.messaging),
            ("AWS_ENDPOINT_URL_SNS", &self.messaging),
            ("AWS_ENDPOINT_URL_DYNAMODB", &self.dynamodb),
            ("AWS_ENDPOINT_URL_DYNAMODB_STREAMS", &self.dynamodb),
        ]
    }
}

/// Every service's endpoint, given as service configuration rather than by `AWS_ENDPOINT_URL*`
/// variables, so that one process can talk to several stacks. (An endpoint set in code on the
/// shared configuration would win over every service-specific one.)
#[derive(Debug)]
struct ServiceEndpoints(Endpoints);

impl aws_types::service_config::LoadServiceConfig for ServiceEndpoints {
    fn load_config(&self, key: aws_types::service_config::ServiceConfigKey<'_>) -> Option<String> {
        if key.env() != "AWS_ENDPOINT_URL" {
            return None;
        }
        Some(match key.service_id() {
            "DynamoDB" | "DynamoDB Streams" => self.0.dynamodb.clone(),
            _ => self.0.messaging.clone(),
        })
    }
}

/// AWS SDK configuration for the emulators at `endpoints`, with static test credentials.
pub async fn sdk_config(endpoints: &Endpoints) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(provision::REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "devstack",
        ))
        .load()
        .await
        .into_builder()
        .service_config(ServiceEndpoints(endpoints.clone()))
        .build()
}

/// Runs `f` against the running stack (`make up`): its SDK configuration, its resources, its
/// env file.
pub async fn with_stack<F, Fut>(f: F) -> Result<()>
where
    F: FnOnce(aws_config::SdkConfig, Resources, stackenv::StackEnv) -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    let env = stackenv::StackEnv::read()?;
    let sdk = sdk_config(&env.endpoints()?).await;
    // Provisioning is idempotent: here it only looks the resources up.
    let resources = provision(&sdk, &Topology::system()?, serve::PREFIX).await?;
    f(sdk, resources, env).await
}
