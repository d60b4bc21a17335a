//! What the task flow needs from storage, and the work a task stands for.

use super::Task;
use crate::PortError;
use crate::events::Outbound;
use crate::tasks::TaskId;
use async_trait::async_trait;

#[async_trait]
pub trait TaskStore: Send + Sync {
    /// Stores a new task and the event that queues it, in one transaction.
    async fn submit(&self, task: &Task, event: &Outbound) -> Result<(), PortError>;
    async fn get(&self, id: &TaskId) -> Result<Option<Task>, PortError>;
    /// The last sequence number handed out (0 before the first).
    async fn last_sequence(&self) -> Result<u64, PortError>;
    /// Writes `next` in place of `prior`, provided the stored task still has `prior`'s status and
    /// attempt count; when `next` carries a new sequence number `n`, the counter moves from
    /// `n - 1` to `n` in the same transaction. `false`, writing nothing, when the task or the
    /// counter moved since they were read.
    async fn replace(&self, prior: &Task, next: &Task) -> Result<bool, PortError>;
}

/// The work a task stands for. Called at least once per task, so it must be idempotent; a
/// retryable error is tried again (nothing later in the stream overtakes it), a permanent one
/// fails the task at once.
#[async_trait]
pub trait TaskExecutor: Send + Sync {
    async fn execute(&self, task: &Task) -> Result<(), PortError>;
}
