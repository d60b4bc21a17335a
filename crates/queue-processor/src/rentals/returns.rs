//! The rental-return function: processes return scans. Two entry points share one path: a batch
//! from the rental-returns FIFO queue (grouped by user; answered with `batchItemFailures`), and a
//! raw return event sent by a direct invocation (answered with the outcome). Its crate,
//! `crates/rental-return`, serves [`FUNCTION`].

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::ValidationError;
use domain::rentals::ports::RentalStore;
use domain::rentals::{ReturnDecision, ReturnScan, ReturnState, process_return};
use platform::batch::{Budget, RejectionSink, json_body, process_sqs_fifo_batch};
use platform::dynamo::RejectionLog;
use platform::dynamo::rental_store::{DynamoRentalStore, RentalTables};
use platform::function::{Function, Handler, HandlerError};
use platform::wiring::Aws;
use platform::{ConfigError, RecordError};
use serde::Serialize;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tracing::{info, instrument};

pub const SOURCE: &str = "rental-returns";

pub const FUNCTION: Function = Function {
    name: "rental-return",
    // What one scan may take (a decision's reads and its transaction, re-made a few times when a
    // concurrent return wins the race for a rental) before it is cut off and retried, within the
    // function's 10 s.
    per_record: Duration::from_secs(8),
    wire,
};

fn wire(aws: &Aws) -> Result<Box<dyn Handler>, ConfigError> {
    Ok(Box::new(Returns::from_aws(aws)?))
}

/// The function's dependencies.
pub struct Returns {
    pub store: Arc<dyn RentalStore>,
    pub rejections: Arc<dyn RejectionSink>,
}

impl Returns {
    /// The DynamoDB adapters, named by `aws.vars` (see `infrastructure/topology.json`,
    /// rental-return).
    pub fn from_aws(aws: &Aws) -> Result<Self, ConfigError> {
        Ok(Self {
            store: Arc::new(DynamoRentalStore::new(
                aws.dynamo.clone(),
                RentalTables::from_vars(aws.vars)?,
            )),
            rejections: Arc::new(RejectionLog::new(
                aws.dynamo.clone(),
                aws.vars.table("rejections")?,
            )),
        })
    }
}

#[async_trait::async_trait]
impl Handler for Returns {
    /// See [`handle`].
    async fn handle(&self, payload: Value, budget: Budget) -> Result<Value, HandlerError> {
        Ok(handle(&*self.store, &*self.rejections, payload, budget).await?)
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
