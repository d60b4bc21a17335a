use domain::PortError;
use domain::tasks::Task;
use domain::tasks::ports::TaskExecutor;
use tracing::info;

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
