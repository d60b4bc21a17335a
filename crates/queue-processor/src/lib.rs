//! Consumes the projections queue (domain events fanned out by the SNS topic) and the work
//! queues of the flows (formulas, tasks, the fitness app's events and their nudge timers). Each
//! flow registers its handlers by event type in its own module, listed once in [`FLOWS`]; a
//! message of a type nobody registered is rejected for review, not retried. A flow that brings a
//! Lambda function of its own declares it here too (its `ConsumerFlow::functions`), and that
//! function's crate serves it ([`function`]).

// Nested SDK futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

pub mod flow;

mod fitness;
mod formulas;
mod orders;
mod rentals;
mod tasks;

use flow::ConsumerFlow;
use platform::ConfigError;
use platform::batch::RejectionSink;
use platform::config::Vars;
use platform::consumer::{Consumer, Registry};
use platform::dynamo::RejectionLog;
use platform::function::Function;
use platform::wiring::Aws;
use std::sync::Arc;
use std::time::Duration;

pub const SOURCE: &str = "queue-processor";

/// What one message may take (a handful of DynamoDB calls and a task's work) before it is cut
/// off and retried; fewer messages are started when less time is left before the function's
/// timeout (10 s in topology.json).
pub const PER_RECORD: Duration = Duration::from_secs(8);

/// Every flow this function consumes for: one line per flow.
pub const FLOWS: &[ConsumerFlow] = &[
    rentals::FLOW,
    formulas::FLOW,
    tasks::FLOW,
    orders::FLOW,
    fitness::FLOW,
];

/// Every function of their own the flows bring.
pub fn functions() -> impl Iterator<Item = &'static Function> {
    FLOWS.iter().flat_map(|flow| flow.functions)
}

/// The function topology.json names `name`, as a flow declares it.
pub fn function(name: &str) -> Result<&'static Function, ConfigError> {
    functions().find(|f| f.name == name).ok_or_else(|| {
        ConfigError::Topology(format!(
            "no flow declares the function {name}: add it to its flow's ConsumerFlow::functions"
        ))
    })
}

/// The consumer of `registry`; `max_receive_count` is the source queues' (see topology.json).
pub fn consumer(
    registry: Registry,
    rejections: Arc<dyn RejectionSink>,
    max_receive_count: u32,
) -> Consumer {
    Consumer {
        source: SOURCE,
        registry,
        rejections,
        max_receive_count,
        per_record: PER_RECORD,
    }
}

/// The AWS adapters, named by `vars` (see `infrastructure/topology.json`, queue-processor).
pub fn from_vars(sdk: &aws_config::SdkConfig, vars: &Vars) -> Result<Consumer, ConfigError> {
    from_aws(&Aws::new(sdk, vars))
}

/// The AWS adapters with the ports `aws.given` holds in place of a flow's own (a test's
/// scripted task executor).
pub fn from_aws(aws: &Aws) -> Result<Consumer, ConfigError> {
    let vars = aws.vars;
    let registry = FLOWS.iter().try_fold(Registry::new(), |registry, flow| {
        (flow.from_aws)(registry, aws)
    })?;
    let rejections = Arc::new(RejectionLog::new(
        aws.dynamo.clone(),
        vars.table("rejections")?,
    ));
    // The same file sets the queues' maxReceiveCount (CDK and the local stack alike).
    let max_receive_count = vars.topology().max_receive_count;
    Ok(consumer(registry, rejections, max_receive_count))
}

/// Every flow's handlers over in-memory ports: a test arranges and inspects state through
/// `ports.port::<T>()`.
#[cfg(any(test, feature = "memory"))]
pub fn registry_in_memory(ports: &platform::wiring::Ports) -> Registry {
    FLOWS.iter().fold(Registry::new(), |registry, flow| {
        (flow.in_memory)(registry, ports)
    })
}

#[cfg(test)]
mod tests;
