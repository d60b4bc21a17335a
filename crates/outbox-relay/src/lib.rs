//! The outbox relay: fed by the outbox table's stream, it publishes each new row to its
//! destination (the domain-events topic or the work queue) with the row's event id as the FIFO
//! de-duplication id and its aggregate as the message group.

use platform::ConfigError;
use platform::config::required;

pub use platform::outbox::relay_stream_batch as handle;

#[derive(Debug, Clone)]
pub struct Config {
    pub topic_arn: String,
    pub work_queue_url: Option<String>,
    pub rejections_table: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            topic_arn: required("DOMAIN_EVENTS_TOPIC_ARN")?,
            work_queue_url: required("WORK_QUEUE_URL").ok(),
            rejections_table: required("REJECTIONS_TABLE")?,
        })
    }
}
