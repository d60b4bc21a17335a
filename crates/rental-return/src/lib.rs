//! Processes return scans. Two entry points share one path: a batch from the rental-returns FIFO
//! queue (grouped by user; answered with `batchItemFailures`), and a raw return event sent by a
//! direct invocation (answered with the outcome).

// Nested SDK and HTTP futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::ValidationError;
use domain::rentals::ports::RentalStore;
use domain::rentals::{ReturnDecision, ReturnScan, ReturnState, process_return};
use platform::batch::{Budget, RejectionSink, json_body, process_sqs_fifo_batch};
use platform::config::Vars;
use platform::dynamo::RejectionLog;
use platform::dynamo::rental_store::{DynamoRentalStore, RentalTables};
use platform::{ConfigError, RecordError};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, instrument};

pub const SOURCE: &str = "rental-returns";

/// What one scan may take (a decision's reads and its transaction, re-made a few times when a
/// concurrent return wins the race for a rental) before it is cut off and retried, within the
/// function's 10 s.
pub const PER_RECORD: Duration = Duration::from_secs(8);

/// The function's dependencies.
pub struct Returns {
    pub store: Arc<dyn RentalStore>,
    pub rejections: Arc<dyn RejectionSink>,
}

impl Returns {
    /// The DynamoDB adapters, named by `vars` (see `infrastructure/topology.json`,
    /// rental-return).
    pub fn from_vars(sdk: &aws_config::SdkConfig, vars: &Vars) -> Result<Self, ConfigError> {
        let dynamo = aws_sdk_dynamodb::Client::new(sdk);
        Ok(Self {
            store: Arc::new(DynamoRentalStore::new(
                dynamo.clone(),
                RentalTables::from_vars(vars)?,
            )),
            rejections: Arc::new(RejectionLog::new(dynamo, vars.table("rejections")?)),
        })
    }

    /// See [`handle`].
    pub async fn handle(&self, payload: Value, budget: Budget) -> Result<Value, InvocationError> {
        handle(&*self.store, &*self.rejections, payload, budget).await
    }

    pub fn budget(deadline_ms: u64) -> Budget {
        Budget::until_epoch_ms(deadline_ms, PER_RECORD)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InvocationError {
    #[error(transparent)]
    InvalidEvent(#[from] ValidationError),
    #[error("{0}")]
    Port(#[from] domain::PortError),
    #[error(transparent)]
    Batch(#[from] platform::batch::MissingMessageId),
    #[error("malformed SQS event: {0}")]
    MalformedBatch(serde_json::Error),
    #[error("unserializable response: {0}")]
    Response(serde_json::Error),
}

/// What a direct invocation answers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReturnResult {
    pub return_id: String,
    #[serde(flatten)]
    pub state: ReturnState,
    /// True when the scan had already been processed and nothing changed.
    pub duplicate: bool,
}

impl From<ReturnDecision> for ReturnResult {
    fn from(d: ReturnDecision) -> Self {
        Self {
            return_id: d.record.return_id.to_string(),
            state: d.record.state,
            duplicate: d.duplicate,
        }
    }
}

/// The function's whole behaviour: a queue batch when the payload has `Records`, otherwise a
/// raw return event.
pub async fn handle(
    store: &dyn RentalStore,
    rejections: &dyn RejectionSink,
    payload: Value,
    budget: Budget,
) -> Result<Value, InvocationError> {
    let value = if payload.get("Records").is_some() {
        let event: SqsEvent =
            serde_json::from_value(payload).map_err(InvocationError::MalformedBatch)?;
        serde_json::to_value(handle_batch(store, rejections, event, budget).await?)
    } else {
        serde_json::to_value(handle_direct(store, &payload).await?)
    };
    value.map_err(InvocationError::Response)
}

#[instrument(skip_all, fields(records = event.records.len()))]
pub async fn handle_batch(
    store: &dyn RentalStore,
    rejections: &dyn RejectionSink,
    event: SqsEvent,
    budget: Budget,
) -> Result<SqsBatchResponse, InvocationError> {
    Ok(
        process_sqs_fifo_batch(SOURCE, event, rejections, budget, |message| async move {
            let body: Value = json_body(&message)?;
            let scan = ReturnScan::from_queued(&body)
                .map_err(|e| RecordError::Permanent(e.to_string()))?;
            process(store, &scan)
                .await
                .map(|_| ())
                .map_err(RecordError::from)
        })
        .await?,
    )
}

pub async fn handle_direct(
    store: &dyn RentalStore,
    payload: &Value,
) -> Result<ReturnResult, InvocationError> {
    let scan = ReturnScan::from_json(payload)?;
    Ok(process(store, &scan).await?.into())
}

/// Returns decided for the first time (a duplicate scan counts nothing), as topology.json
/// declares them for this function.
pub const RETURNS_COMPLETED: &str = "ReturnsCompleted";
/// With the label `reason`, the rejection's code.
pub const RETURNS_REJECTED: &str = "ReturnsRejected";

#[instrument(skip_all, fields(return_id = %scan.return_id(), location_id = %scan.location_id))]
async fn process(
    store: &dyn RentalStore,
    scan: &ReturnScan,
) -> Result<ReturnDecision, domain::PortError> {
    let decision = process_return(store, scan).await?;
    info!(outcome = ?decision.record.state, duplicate = decision.duplicate, "return processed");
    if !decision.duplicate {
        match &decision.record.state {
            ReturnState::Completed { .. } => platform::metrics::count(RETURNS_COMPLETED, &[]),
            ReturnState::Rejected { reason } => {
                platform::metrics::count(RETURNS_REJECTED, &[("reason", reason.as_str())])
            }
            ReturnState::Pending => {}
        }
    }
    Ok(decision)
}

#[cfg(test)]
mod metrics {
    use super::*;
    use platform::topology::Topology;

    #[test]
    fn the_return_metrics_are_declared_for_this_function() {
        let topology = Topology::system().unwrap();
        topology
            .declares_metric("rental-return", RETURNS_COMPLETED, &[])
            .unwrap();
        topology
            .declares_metric("rental-return", RETURNS_REJECTED, &["reason"])
            .unwrap();
    }

    #[test]
    fn an_undeclared_metric_is_named_with_what_to_add() {
        let topology = Topology::system().unwrap();
        let missing = topology
            .declares_metric("rental-return", "Nope", &[])
            .unwrap_err();
        assert!(
            missing.contains("function rental-return has no metric Nope"),
            "{missing}"
        );
        let labels = topology
            .declares_metric("rental-return", RETURNS_REJECTED, &[])
            .unwrap_err();
        assert!(labels.contains("has labels [\"reason\"]"), "{labels}");
    }
}
