//! Consumes the projections queue (domain events fanned out by the SNS topic) and the work queue
//! (work items from the outbox). Every message is a typed domain event; one whose type this
//! build does not know fails to parse and is rejected for review, not retried.
//!
//! - `RentalCompleted` → user stats and reward points, once per event (transaction with marker).
//! - `FormulaSubmitted` → the formula is processed and marked `processed` (conditional, once).
//! - `TaskSubmitted` → the task runs in its turn and records its sequence number and outcome;
//!   a failure holds back the rest of the task stream until it succeeds or, after the last
//!   receive, is marked `failed` and moves to the dead-letter queue.

// Nested SDK futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

mod executor;

pub use executor::RecordingExecutor;

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use domain::events::{DomainEvent, EventBody};
use domain::ports::{FormulaStore, StatsStore, TaskExecutor, TaskStore};
use domain::rentals::stats::stats_delta;
use domain::tasks::{Delivery, ProcessOutcome, process_task};
use platform::batch::{MissingMessageId, RejectionSink, json_body, process_sqs_fifo_batch};
use platform::config::{required, required_parsed};
use platform::{ConfigError, RecordError};
use tracing::{info, instrument};

pub const SOURCE: &str = "queue-processor";

#[derive(Debug, Clone)]
pub struct Config {
    pub stats_table: String,
    pub markers_table: String,
    pub formulas_table: String,
    pub tasks_table: String,
    pub outbox_table: String,
    pub rejections_table: String,
    /// The work queue's `maxReceiveCount`: the receive after which a failing task is given up.
    pub max_receive_count: u32,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            stats_table: required("STATS_TABLE")?,
            markers_table: required("PROCESSED_TABLE")?,
            formulas_table: required("FORMULAS_TABLE")?,
            tasks_table: required("TASKS_TABLE")?,
            outbox_table: required("OUTBOX_TABLE")?,
            rejections_table: required("REJECTIONS_TABLE")?,
            max_receive_count: required_parsed("MAX_RECEIVE_COUNT")?,
        })
    }
}

pub struct QueueProcessor<S, F, T, X, R> {
    pub stats: S,
    pub formulas: F,
    pub tasks: T,
    pub executor: X,
    pub rejections: R,
    pub max_receive_count: u32,
}

/// Which receive of its message this is; SQS counts them in `ApproximateReceiveCount`.
fn delivery(message: &SqsMessage, max_receives: u32) -> Delivery {
    let receive_count = message
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|c| c.parse().ok())
        .unwrap_or(1);
    Delivery {
        receive_count,
        max_receives,
    }
}

impl<S, F, T, X, R> QueueProcessor<S, F, T, X, R>
where
    S: StatsStore,
    F: FormulaStore,
    T: TaskStore,
    X: TaskExecutor,
    R: RejectionSink,
{
    #[instrument(skip_all, fields(records = event.records.len()))]
    pub async fn handle(&self, event: SqsEvent) -> Result<SqsBatchResponse, MissingMessageId> {
        process_sqs_fifo_batch(SOURCE, event, &self.rejections, |message| async move {
            let event: DomainEvent = json_body(&message)?;
            self.process(&event, delivery(&message, self.max_receive_count))
                .await
        })
        .await
    }

    #[instrument(skip_all, fields(event_id = %event.event_id, event_type = event.event_type(),
                                  receive_count = delivery.receive_count))]
    async fn process(&self, event: &DomainEvent, delivery: Delivery) -> Result<(), RecordError> {
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
            EventBody::TaskSubmitted(t) => {
                match process_task(
                    &self.tasks,
                    &self.executor,
                    &t.task_id,
                    delivery,
                    chrono::Utc::now,
                )
                .await?
                {
                    ProcessOutcome::Completed(task) => {
                        info!(task_id = %task.task_id, sequence = task.sequence, attempts = task.attempts, "task completed");
                    }
                    ProcessOutcome::AlreadyCompleted(task) => {
                        info!(task_id = %task.task_id, sequence = task.sequence, "task already completed; repeat delivery ignored");
                    }
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
