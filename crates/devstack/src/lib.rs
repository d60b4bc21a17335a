//! The local stack, with no Docker and no AWS account: moto stands in for AWS, the real Lambda
//! binaries run under `cargo lambda watch`, and this crate supplies what neither does — the
//! resources (from [`topology`]), the event-source mappings ([`bridge`]), the API Gateway front
//! ([`gateway`]), the notification service stand-in ([`sink`]), reference data ([`seed`]).

// Nested SDK futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

pub mod bridge;
pub mod gateway;
pub mod moto;
pub mod provision;
pub mod report;
pub mod seed;
pub mod sink;
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

/// AWS SDK configuration for the emulator at `endpoint`, with static test credentials.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(provision::REGION))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "test", "test", None, None, "devstack",
        ))
        .load()
        .await
}
