//! Consumes the projections queue (domain events fanned out by the SNS topic) and the work
//! queues of the flows (formulas, tasks, the fitness app's events and their nudge timers). Each flow registers its handlers by event type in
//! [`registry`]; a message of a type nobody registered is rejected for review, not retried.

// Nested SDK futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

mod executor;

pub use executor::RecordingExecutor;

use domain::events::EventOutbox;
use domain::fitness::{AppEvent, ConsumeAppEvents, FireNudge, Fitness, NudgeCheck, event_types};
use domain::formulas::{FormulaSubmitted, ProcessFormula, ports::FormulaStore};
use domain::orders::{CountOrders, OrderStatusChanged, RaiseLowStock, ports::OrderAnalyticsStore};
use domain::rentals::{ProjectStats, RentalCompleted, ports::StatsProjection};
use domain::tasks::ports::{TaskExecutor, TaskStore};
use domain::tasks::{RunTask, TaskSubmitted};
use platform::ConfigError;
use platform::batch::RejectionSink;
use platform::config::Vars;
use platform::consumer::{Consumer, Registry};
use platform::dynamo::{
    DynamoFitnessStore, DynamoFormulaStore, DynamoOrderAnalytics, DynamoOutbox,
    DynamoStatsProjection, DynamoTaskStore, RejectionLog,
};
use platform::sqs::DelayQueue;
use std::sync::Arc;
use std::time::Duration;

pub const SOURCE: &str = "queue-processor";

/// What one message may take (a handful of DynamoDB calls and a task's work) before it is cut
/// off and retried; fewer messages are started when less time is left before the function's
/// timeout (10 s in topology.json).
pub const PER_RECORD: Duration = Duration::from_secs(8);

/// The stores and services the handlers of every flow work with.
#[derive(Clone)]
pub struct Ports {
    pub stats: Arc<dyn StatsProjection>,
    pub formulas: Arc<dyn FormulaStore>,
    pub tasks: Arc<dyn TaskStore>,
    pub executor: Arc<dyn TaskExecutor>,
    pub order_analytics: Arc<dyn OrderAnalyticsStore>,
    /// Where handlers write the events that follow from an event (low-stock alerts).
    pub outbox: Arc<dyn EventOutbox>,
    pub fitness: Fitness,
}

/// Each flow's handlers, by event type: the one registration point of a flow in this function.
pub fn registry(ports: Ports) -> Registry {
    Registry::new()
        .on::<RentalCompleted>(ProjectStats(ports.stats))
        .on::<FormulaSubmitted>(ProcessFormula(ports.formulas))
        .on::<TaskSubmitted>(RunTask {
            store: ports.tasks,
            executor: ports.executor,
            clock: chrono::Utc::now,
        })
        .on::<OrderStatusChanged>(RaiseLowStock(ports.outbox))
        .on::<OrderStatusChanged>(CountOrders(ports.order_analytics))
        .on::<AppEvent>(ConsumeAppEvents {
            fitness: ports.fitness.clone(),
            types: Arc::new(event_types()),
        })
        .on::<NudgeCheck>(FireNudge(ports.fitness))
}

/// The consumer over `ports`; `max_receive_count` is the source queues' (see topology.json).
pub fn consumer(
    ports: Ports,
    rejections: Arc<dyn RejectionSink>,
    max_receive_count: u32,
) -> Consumer {
    Consumer {
        source: SOURCE,
        registry: registry(ports),
        rejections,
        max_receive_count,
        per_record: PER_RECORD,
    }
}

/// The AWS adapters, named by `vars` (see `infrastructure/topology.json`, queue-processor).
pub fn from_vars(
    sdk: &aws_config::SdkConfig,
    vars: &Vars,
    executor: Arc<dyn TaskExecutor>,
) -> Result<Consumer, ConfigError> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let ports = Ports {
        stats: Arc::new(DynamoStatsProjection::new(
            dynamo.clone(),
            vars.table("user-stats")?,
            vars.table("processed")?,
        )),
        formulas: Arc::new(DynamoFormulaStore::reader(
            dynamo.clone(),
            vars.table("formulas")?,
        )),
        tasks: Arc::new(DynamoTaskStore::reader(
            dynamo.clone(),
            vars.table("tasks")?,
        )),
        executor,
        order_analytics: Arc::new(DynamoOrderAnalytics::new(
            dynamo.clone(),
            vars.table("order-analytics")?,
            vars.table("processed")?,
        )),
        outbox: Arc::new(DynamoOutbox::new(dynamo.clone(), vars.table("outbox")?)),
        fitness: Fitness {
            store: Arc::new(DynamoFitnessStore::new(
                dynamo.clone(),
                vars.table("fitness")?,
                vars.table("outbox")?,
            )),
            timer: Arc::new(DelayQueue::new(
                aws_sdk_sqs::Client::new(sdk),
                vars.queue_url("fitness-nudges")?,
            )),
            window: nudge_window(vars)?,
            clock: chrono::Utc::now,
        },
    };
    let rejections = Arc::new(RejectionLog::new(dynamo, vars.table("rejections")?));
    // The same file sets the queues' maxReceiveCount (CDK and the local stack alike).
    let max_receive_count = vars.topology().max_receive_count;
    Ok(consumer(ports, rejections, max_receive_count))
}

/// `FITNESS_NUDGE_AFTER_SECONDS`: how long after a launch a start still cancels its nudge (event
/// time), and how long its timer runs (wall clock): whole seconds, 1 to 7 days' worth. The
/// deployment supplies it (600 in every CDK environment, `make up` from its environment).
pub fn nudge_window(vars: &Vars) -> Result<chrono::Duration, ConfigError> {
    const NAME: &str = "FITNESS_NUDGE_AFTER_SECONDS";
    let raw = vars.required(NAME)?;
    match raw.trim().parse::<i64>() {
        Ok(secs) if (1..=7 * 24 * 3600).contains(&secs) => Ok(chrono::Duration::seconds(secs)),
        _ => Err(ConfigError::Invalid {
            name: NAME.into(),
            value: raw,
            reason: "whole seconds from 1 to 604800 (7 days)".into(),
        }),
    }
}

#[cfg(any(test, feature = "memory"))]
pub use memory::InMemory;

#[cfg(any(test, feature = "memory"))]
mod memory {
    use super::*;
    use domain::fitness::memory::{InMemoryFitness, InMemoryTimer};
    use domain::formulas::memory::InMemoryFormulaStore;
    use domain::orders::memory::{InMemoryOrderAnalytics, InMemoryOutbox};
    use domain::rentals::memory::InMemoryStatsStore;
    use domain::tasks::memory::{InMemoryTaskStore, ScriptedExecutor};

    /// Every port in memory, kept by its concrete type so tests can arrange and inspect state.
    #[derive(Clone, Default)]
    pub struct InMemory {
        pub stats: Arc<InMemoryStatsStore>,
        pub formulas: Arc<InMemoryFormulaStore>,
        pub tasks: Arc<InMemoryTaskStore>,
        pub executor: Arc<ScriptedExecutor>,
        pub order_analytics: Arc<InMemoryOrderAnalytics>,
        pub outbox: Arc<InMemoryOutbox>,
        pub fitness: Arc<InMemoryFitness>,
        pub timer: Arc<InMemoryTimer>,
    }

    impl InMemory {
        pub fn ports(&self) -> Ports {
            Ports {
                stats: self.stats.clone(),
                formulas: self.formulas.clone(),
                tasks: self.tasks.clone(),
                executor: self.executor.clone(),
                order_analytics: self.order_analytics.clone(),
                outbox: self.outbox.clone(),
                fitness: Fitness {
                    store: self.fitness.clone(),
                    timer: self.timer.clone(),
                    window: chrono::Duration::seconds(
                        domain::fitness::DEFAULT_NUDGE_AFTER_SECONDS as i64,
                    ),
                    clock: chrono::Utc::now,
                },
            }
        }
    }
}

#[cfg(test)]
mod tests;
