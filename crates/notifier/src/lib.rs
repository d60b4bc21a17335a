//! Sends users notifications for domain events from the notifications queue (SNS topic → SQS
//! FIFO, raw delivery). A notification is sent at most once per event: a marker is checked before
//! and written after the call, and the event-derived idempotency key lets the service drop the
//! one repeat a crash between the two could cause.

// Nested SDK and HTTP futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::events::DomainEvent;
use domain::rentals::notification::notification_for;
use platform::batch::{MissingMessageId, RejectionSink, json_body, process_sqs_fifo_batch};
use platform::config::required;
use platform::dynamo::ProcessedMarkers;
use platform::notify::{NotifyClient, NotifyConfig, NotifyError};
use platform::{ConfigError, RecordError};
use tracing::{info, instrument};

pub const SOURCE: &str = "notifications";

#[derive(Debug, Clone)]
pub struct Config {
    pub notify: NotifyConfig,
    pub markers_table: String,
    pub rejections_table: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            notify: NotifyConfig::from_env()?,
            markers_table: required("PROCESSED_TABLE")?,
            rejections_table: required("REJECTIONS_TABLE")?,
        })
    }
}

pub struct Notifier<R> {
    pub client: NotifyClient,
    pub markers: ProcessedMarkers,
    pub rejections: R,
}

impl<R: RejectionSink> Notifier<R> {
    #[instrument(skip_all, fields(records = event.records.len()))]
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, MissingMessageId> {
        process_sqs_fifo_batch(SOURCE, event, &self.rejections, |message| async move {
            let event: DomainEvent = json_body(&message)?;
            self.notify(&event).await
        })
        .await
    }

    #[instrument(skip_all, fields(event_id = %event.event_id, event_type = event.event_type()))]
    async fn notify(&self, event: &DomainEvent) -> Result<(), RecordError> {
        let Some(notification) = notification_for(event) else {
            return Ok(());
        };
        let marker = format!("notify#{}", notification.idempotency_key);
        if self.markers.is_done(&marker).await? {
            info!("already notified");
            return Ok(());
        }
        self.client.send(&notification).await.map_err(|e| match e {
            NotifyError::Unavailable(m) => RecordError::Retryable(m),
            NotifyError::Refused(m) => RecordError::Permanent(m),
        })?;
        info!(user_id = %notification.user_id, "notification sent");
        self.markers.mark_done(&marker).await?;
        Ok(())
    }
}
