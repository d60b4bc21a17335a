//! Everything the Lambda functions share that is not a business rule: adapters for the domain's
//! ports (DynamoDB, SQS, SNS, the notification service), typed configuration, tracing, the FIFO
//! batch processor, the transactional outbox and its relay, and idempotency markers.

pub mod aws;
pub mod batch;
pub mod config;
pub mod consumer;
pub mod dynamo;
pub mod function;
pub mod idempotency;
pub mod metrics;
pub mod notify;
pub mod outbox;
pub mod sqs;
pub mod telemetry;
pub mod topology;
pub mod wiring;

pub use aws::sdk_error;
pub use batch::RecordError;
pub use config::ConfigError;
