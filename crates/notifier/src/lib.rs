//! Sends users notifications for domain events from the notifications queue (SNS topic → SQS
//! FIFO, raw delivery). Every flow's events to notify about ([`domain::Notified`]) are
//! registered in [`registry`]; the message itself is the event's
//! [`domain::notifications::Notify`] rule, and [`SendNotification`] sends it once per event (a
//! marker, and an idempotency key that lets the service drop the one repeat a crash could cause).

// Nested SDK and HTTP futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

use domain::notifications::{EffectLog, NotificationSender, SendNotification};
use platform::ConfigError;
use platform::batch::RejectionSink;
use platform::config::Vars;
use platform::consumer::{Consumer, Registry};
use platform::dynamo::{ProcessedMarkers, RejectionLog};
use platform::notify::{NotifyClient, NotifyConfig};
use std::sync::Arc;
use std::time::Duration;

pub const SOURCE: &str = "notifications";

/// The events someone is told about: every flow's `Notified` events, as the domain lists them.
pub fn registry(send: SendNotification) -> Registry {
    Registry::new().on_groups::<domain::Notified, _>(send)
}

pub fn consumer(
    sender: Arc<dyn NotificationSender>,
    markers: Arc<dyn EffectLog>,
    rejections: Arc<dyn RejectionSink>,
    max_receive_count: u32,
    per_record: Duration,
) -> Consumer {
    Consumer {
        source: SOURCE,
        registry: registry(SendNotification { sender, markers }),
        rejections,
        max_receive_count,
        per_record,
    }
}

/// The notification service and DynamoDB adapters, named by `vars` (see
/// `infrastructure/topology.json`, notifier).
pub fn from_vars(sdk: &aws_config::SdkConfig, vars: &Vars) -> Result<Consumer, ConfigError> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let notify = NotifyConfig::from_vars(vars)?;
    // A record may take every attempt of one notification plus the marker's read and write
    // (normally milliseconds; a slower record is cut off and retried, within the 20 s timeout).
    let per_record = notify.worst_case() + Duration::from_secs(2);
    let client = NotifyClient::new(notify.clone()).map_err(|e| ConfigError::Invalid {
        name: "NOTIFY_URL".into(),
        value: notify.base_url.clone(),
        reason: e.to_string(),
    })?;
    Ok(consumer(
        Arc::new(client),
        Arc::new(ProcessedMarkers::new(
            dynamo.clone(),
            vars.table("processed")?,
        )),
        Arc::new(RejectionLog::new(dynamo, vars.table("rejections")?)),
        vars.topology().max_receive_count,
        per_record,
    ))
}
