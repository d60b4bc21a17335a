//! Tasks: each submitted task runs in its turn, on the executor `main` gives (an
//! `Arc<dyn TaskExecutor>` port), [`RecordingExecutor`] when none is given.

use crate::RecordingExecutor;
use crate::flow::ConsumerFlow;
use domain::tasks::ports::TaskExecutor;
use domain::tasks::{RunTask, TaskSubmitted};
use platform::ConfigError;
use platform::consumer::Registry;
use platform::dynamo::task_store::DynamoTaskStore;
use platform::wiring::Aws;
use std::sync::Arc;

pub const FLOW: ConsumerFlow = ConsumerFlow {
    name: "tasks",
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(registry: Registry, aws: &Aws) -> Result<Registry, ConfigError> {
    let store = DynamoTaskStore::reader(aws.dynamo.clone(), aws.vars.table("tasks")?);
    let executor: Arc<dyn TaskExecutor> = match aws.given.get::<Arc<dyn TaskExecutor>>() {
        Some(given) => Arc::clone(&given),
        None => Arc::new(RecordingExecutor),
    };
    Ok(registry.on::<TaskSubmitted>(RunTask {
        store: Arc::new(store),
        executor,
        clock: chrono::Utc::now,
    }))
}

#[cfg(any(test, feature = "memory"))]
fn in_memory(registry: Registry, ports: &platform::wiring::Ports) -> Registry {
    use domain::tasks::memory::{InMemoryTaskStore, ScriptedExecutor};
    registry.on::<TaskSubmitted>(RunTask {
        store: ports.port::<InMemoryTaskStore>(),
        executor: ports.port::<ScriptedExecutor>(),
        clock: chrono::Utc::now,
    })
}
