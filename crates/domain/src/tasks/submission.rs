use super::events::TaskSubmitted;
use super::ports::TaskStore;
use super::task::{NewTask, Task, TaskGroup};
use crate::PortError;
use crate::tasks::TaskId;
use chrono::{DateTime, Utc};

/// Stores a validated task as `queued` together with the event that puts it in `group`'s
/// stream. Once this returns, the task is durably queued.
pub async fn submit_task(
    store: &dyn TaskStore,
    task_id: TaskId,
    new: NewTask,
    group: &TaskGroup,
    at: DateTime<Utc>,
) -> Result<Task, PortError> {
    let task = Task::queued(task_id, new, at);
    let event = TaskSubmitted {
        task_id: task.task_id.clone(),
    }
    .outbound(group, at)?;
    store.submit(&task, &event).await?;
    Ok(task)
}
