//! Consumes the projections queue (domain events fanned out by the SNS topic) and keeps the
//! read models: user stats and reward points. Each event is applied once, in one transaction
//! with a marker keyed by its event id.

// Nested SDK and HTTP futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::events::DomainEvent;
use domain::ports::StatsStore;
use domain::rentals::stats::stats_delta;
use platform::batch::{MissingMessageId, RejectionSink, json_body, process_sqs_fifo_batch};
use platform::config::required;
use platform::{ConfigError, RecordError};
use tracing::{info, instrument};

pub const SOURCE: &str = "projections";

#[derive(Debug, Clone)]
pub struct Config {
    pub stats_table: String,
    pub markers_table: String,
    pub rejections_table: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            stats_table: required("STATS_TABLE")?,
            markers_table: required("PROCESSED_TABLE")?,
            rejections_table: required("REJECTIONS_TABLE")?,
        })
    }
}

pub struct Projections<S, R> {
    pub stats: S,
    pub rejections: R,
}

impl<S: StatsStore, R: RejectionSink> Projections<S, R> {
    #[instrument(skip_all, fields(records = event.records.len()))]
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, MissingMessageId> {
        process_sqs_fifo_batch(SOURCE, event, &self.rejections, |message| async move {
            let event: DomainEvent = json_body(&message)?;
            self.project(&event).await
        })
        .await
    }

    #[instrument(skip_all, fields(event_id = %event.event_id, event_type = event.event_type()))]
    async fn project(&self, event: &DomainEvent) -> Result<(), RecordError> {
        if let Some(delta) = stats_delta(event) {
            let applied = self.stats.apply(&event.event_id, &delta).await?;
            info!(applied, user_id = %delta.user_id, "user stats projected");
        }
        Ok(())
    }
}
