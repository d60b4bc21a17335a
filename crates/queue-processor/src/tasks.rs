//! Tasks: each submitted task runs in its turn, on [`RecordingExecutor`] unless the wiring is
//! given another `Arc<dyn TaskExecutor>` (a test's scripted one).

use crate::flow::ConsumerFlow;
use domain::PortError;
use domain::tasks::ports::TaskExecutor;
use domain::tasks::{RunTask, Task, TaskSubmitted};
use platform::ConfigError;
use platform::consumer::Registry;
use platform::dynamo::task_store::DynamoTaskStore;
use platform::wiring::Aws;
use std::sync::Arc;
use tracing::info;

pub const FLOW: ConsumerFlow = ConsumerFlow {
    name: "tasks",
    functions: &[],
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

/// The executor this service ships. A task of this API carries a title, a description, a
/// priority and a due date, not a program: running it means taking it in its turn and recording
/// that it ran (status, sequence, times on the task; this log line with its fields). Work with
/// side effects plugs in as another [`TaskExecutor`] and must then be idempotent, since a
/// message can be delivered more than once.
#[derive(Debug, Default, Clone, Copy)]
pub struct RecordingExecutor;

#[async_trait::async_trait]
impl TaskExecutor for RecordingExecutor {
    async fn execute(&self, task: &Task) -> Result<(), PortError> {
        info!(
            task_id = %task.task_id,
            sequence = task.sequence,
            priority = ?task.priority,
            attempt = task.attempts,
            "task executed"
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests;
