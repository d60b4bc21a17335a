use crate::PortError;
use crate::events::DomainEvent;
use crate::ids::TaskId;
use crate::ports::{TaskExecutor, TaskStore};
use crate::tasks::{Settlement, Task, TaskStatus};
use chrono::{DateTime, Utc};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct State {
    tasks: BTreeMap<TaskId, Task>,
    outbox: Vec<DomainEvent>,
    sequence: u64,
}

/// Tasks in memory, with the DynamoDB adapter's transitions and sequence numbering.
#[derive(Default)]
pub struct InMemoryTaskStore {
    state: Mutex<State>,
}

impl InMemoryTaskStore {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn events(&self) -> Vec<DomainEvent> {
        self.lock().outbox.clone()
    }
}

impl TaskStore for InMemoryTaskStore {
    async fn submit(&self, task: &Task, event: &DomainEvent) -> Result<(), PortError> {
        let mut s = self.lock();
        if s.tasks.contains_key(&task.task_id) {
            return Err(PortError::Retryable(format!(
                "task id {} is taken",
                task.task_id
            )));
        }
        s.tasks.insert(task.task_id.clone(), task.clone());
        s.outbox.push(event.clone());
        Ok(())
    }

    async fn get(&self, id: &TaskId) -> Result<Option<Task>, PortError> {
        Ok(self.lock().tasks.get(id).cloned())
    }

    async fn begin(&self, id: &TaskId, at: DateTime<Utc>) -> Result<Option<Task>, PortError> {
        let mut s = self.lock();
        let next = s.sequence + 1;
        let Some(task) = s.tasks.get_mut(id) else {
            return Ok(None);
        };
        let numbered = match task.status {
            TaskStatus::Completed => return Ok(Some(task.clone())),
            TaskStatus::Processing => false,
            TaskStatus::Queued | TaskStatus::Failed => {
                task.status = TaskStatus::Processing;
                task.sequence = Some(next);
                task.started_at = Some(at);
                task.finished_at = None;
                true
            }
        };
        task.attempts += 1;
        let task = task.clone();
        if numbered {
            s.sequence = next;
        }
        Ok(Some(task))
    }

    async fn settle(&self, id: &TaskId, settlement: &Settlement) -> Result<(), PortError> {
        let mut s = self.lock();
        let Some(task) = s.tasks.get_mut(id) else {
            return Ok(());
        };
        if task.status != TaskStatus::Processing {
            return Ok(());
        }
        match settlement {
            Settlement::Completed { at } => {
                task.status = TaskStatus::Completed;
                task.finished_at = Some(*at);
            }
            Settlement::Retrying { error } => task.last_error = Some(error.clone()),
            Settlement::Failed { error, at } => {
                task.status = TaskStatus::Failed;
                task.last_error = Some(error.clone());
                task.finished_at = Some(*at);
            }
        }
        Ok(())
    }
}

/// An executor for tests: records the tasks it ran, in order, and fails the ones whose title
/// it was told to fail (retryably, the given number of times; `u32::MAX` for always).
#[derive(Default)]
pub struct ScriptedExecutor {
    failures: Mutex<HashMap<String, u32>>,
    ran: Mutex<Vec<TaskId>>,
}

impl ScriptedExecutor {
    pub fn failing(title: &str, times: u32) -> Self {
        let executor = Self::default();
        executor.fail(title, times);
        executor
    }

    pub fn fail(&self, title: &str, times: u32) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(title.to_owned(), times);
    }

    /// Every successful run, in order (a task run twice appears twice).
    pub fn ran(&self) -> Vec<TaskId> {
        self.ran.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl TaskExecutor for ScriptedExecutor {
    async fn execute(&self, task: &Task) -> Result<(), PortError> {
        if let Some(left) = self
            .failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&task.title)
            .filter(|left| **left > 0)
        {
            *left = left.saturating_sub(u32::from(*left != u32::MAX));
            return Err(PortError::Retryable(format!(
                "scripted failure of {:?}",
                task.title
            )));
        }
        self.ran
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(task.task_id.clone());
        Ok(())
    }
}
