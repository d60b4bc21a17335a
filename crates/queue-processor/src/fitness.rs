//! The fitness app: its events move each user's sessions on (in order, per user), and nudge
//! timers fire when a launch was not followed by a start in time.

use crate::flow::ConsumerFlow;
use domain::fitness::{AppEvent, ConsumeAppEvents, FireNudge, Fitness, NudgeCheck, event_types};
use platform::ConfigError;
use platform::config::Vars;
use platform::consumer::Registry;
use platform::dynamo::fitness_store::DynamoFitnessStore;
use platform::sqs::DelayQueue;
use platform::wiring::Aws;
use std::sync::Arc;

pub const FLOW: ConsumerFlow = ConsumerFlow {
    name: "fitness",
    functions: &[],
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(registry: Registry, aws: &Aws) -> Result<Registry, ConfigError> {
    let (dynamo, vars) = (&aws.dynamo, aws.vars);
    let fitness = Fitness {
        store: Arc::new(DynamoFitnessStore::new(
            dynamo.clone(),
            vars.table("fitness")?,
            vars.table("outbox")?,
        )),
        timer: Arc::new(DelayQueue::new(
            aws.sqs.clone(),
            vars.queue_url("fitness-nudges")?,
        )),
        window: nudge_window(vars)?,
        clock: chrono::Utc::now,
    };
    Ok(register(registry, fitness))
}

fn register(registry: Registry, fitness: Fitness) -> Registry {
    registry
        .on::<AppEvent>(ConsumeAppEvents {
            fitness: fitness.clone(),
            types: Arc::new(event_types()),
        })
        .on::<NudgeCheck>(FireNudge(fitness))
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
fn in_memory(registry: Registry, ports: &platform::wiring::Ports) -> Registry {
    use domain::fitness::memory::{InMemoryFitness, InMemoryTimer};
    let window = chrono::Duration::seconds(domain::fitness::DEFAULT_NUDGE_AFTER_SECONDS as i64);
    register(
        registry,
        Fitness {
            store: ports.port::<InMemoryFitness>(),
            timer: ports.port::<InMemoryTimer>(),
            window,
            clock: chrono::Utc::now,
        },
    )
}
