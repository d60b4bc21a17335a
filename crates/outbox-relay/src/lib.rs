//! The outbox relay: fed by the outbox table's stream, it publishes each new row to the channel
//! its event type declares (a topic or queue of topology.json, which this function must list in
//! its `uses`), with the row's event id as the FIFO de-duplication id and its aggregate as the
//! message group.

#![recursion_limit = "256"]

use aws_lambda_events::event::dynamodb::Event;
use aws_lambda_events::event::streams::DynamoDbEventResponse;
use platform::ConfigError;
use platform::batch::{Budget, RejectionSink};
use platform::config::Vars;
use platform::dynamo::RejectionLog;
use platform::outbox::{AwsPublisher, Publisher, relay_stream_batch};
use std::sync::Arc;
use std::time::Duration;

pub const FUNCTION: &str = "outbox-relay";

/// One publish: a call with its retries.
pub const PER_RECORD: Duration = platform::aws::OPERATION_TIMEOUT;

pub struct Relay {
    pub publisher: Arc<dyn Publisher>,
    pub rejections: Arc<dyn RejectionSink>,
}

impl Relay {
    /// Every channel the function declares must be configured: a missing one stops it at cold
    /// start rather than rejecting every row meant for it.
    pub fn from_vars(sdk: &aws_config::SdkConfig, vars: &Vars) -> Result<Self, ConfigError> {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        Ok(Self {
            publisher: Arc::new(AwsPublisher::from_vars(sdk, vars, FUNCTION)?),
            rejections: Arc::new(RejectionLog::new(dynamo, vars.table("rejections")?)),
        })
    }

    pub async fn handle(&self, event: Event, budget: Budget) -> DynamoDbEventResponse {
        relay_stream_batch(event, &*self.publisher, &*self.rejections, budget).await
    }

    pub fn budget(deadline_ms: u64) -> Budget {
        Budget::until_epoch_ms(deadline_ms, PER_RECORD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn sdk() -> aws_config::SdkConfig {
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    #[test]
    fn a_missing_channel_stops_the_relay_at_cold_start() {
        let topology = platform::topology::Topology::system().unwrap();
        let vars: BTreeMap<String, String> = topology
            .env_names(FUNCTION)
            .unwrap()
            .into_iter()
            .map(|n| (n.clone(), format!("value-of-{n}")))
            .collect();
        assert!(Relay::from_vars(&sdk(), &Vars::from_map(vars.clone()).unwrap()).is_ok());
        let mut without = vars;
        without.remove("TASKS_QUEUE_URL");
        let err = Relay::from_vars(&sdk(), &Vars::from_map(without).unwrap())
            .err()
            .unwrap();
        assert_eq!(
            err.to_string(),
            "environment variable TASKS_QUEUE_URL is required"
        );
    }
}
