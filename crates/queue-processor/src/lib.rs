//! Consumes the projections queue (domain events fanned out by the SNS topic) and the work queue
//! (work items from the outbox). Every message is a typed domain event; one whose type this
//! build does not know fails to parse and is rejected for review, not retried.
//!
//! - `RentalCompleted` → user stats and reward points, once per event (transaction with marker).
//! - `FormulaSubmitted` → the formula is processed and marked `processed` (conditional, once).

// Nested SDK futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::events::{DomainEvent, EventBody};
use domain::ports::{FormulaStore, StatsStore};
use domain::rentals::stats::stats_delta;
use platform::batch::{MissingMessageId, RejectionSink, json_body, process_sqs_fifo_batch};
use platform::config::required;
use platform::{ConfigError, RecordError};
use tracing::{info, instrument};

pub const SOURCE: &str = "queue-processor";

#[derive(Debug, Clone)]
pub struct Config {
    pub stats_table: String,
    pub markers_table: String,
    pub formulas_table: String,
    pub outbox_table: String,
    pub rejections_table: String,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            stats_table: required("STATS_TABLE")?,
            markers_table: required("PROCESSED_TABLE")?,
            formulas_table: required("FORMULAS_TABLE")?,
            outbox_table: required("OUTBOX_TABLE")?,
            rejections_table: required("REJECTIONS_TABLE")?,
        })
    }
}

pub struct QueueProcessor<S, F, R> {
    pub stats: S,
    pub formulas: F,
    pub rejections: R,
}

impl<S: StatsStore, F: FormulaStore, R: RejectionSink> QueueProcessor<S, F, R> {
    #[instrument(skip_all, fields(records = event.records.len()))]
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, MissingMessageId> {
        process_sqs_fifo_batch(SOURCE, event, &self.rejections, |message| async move {
            let event: DomainEvent = json_body(&message)?;
            self.process(&event).await
        })
        .await
    }

    #[instrument(skip_all, fields(event_id = %event.event_id, event_type = event.event_type()))]
    async fn process(&self, event: &DomainEvent) -> Result<(), RecordError> {
        match &event.body {
            EventBody::RentalCompleted(_) => {
                if let Some(delta) = stats_delta(event) {
                    let applied = self.stats.apply(&event.event_id, &delta).await?;
                    info!(applied, user_id = %delta.user_id, "user stats projected");
                }
            }
            EventBody::FormulaSubmitted(f) => {
                let marked = self.formulas.mark_processed(&f.formula_id).await?;
                info!(formula_id = %f.formula_id, first_time = marked, "formula processed");
            }
        }
        Ok(())
    }
}
