//! Tasks in memory, persisting what the lifecycle decides under the same conditions as the
//! DynamoDB adapter; and an executor whose failures a test scripts.

use super::Task;
use super::ports::{TaskExecutor, TaskStore};
use crate::PortError;
use crate::events::{DomainEvent, Outbound};
use crate::tasks::TaskId;
use async_trait::async_trait;
use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
struct State {
    tasks: BTreeMap<TaskId, Task>,
    outbox: Vec<DomainEvent>,
    sequence: u64,
    /// Replacements to refuse, as if another writer had moved the task first.
    refuse_next: usize,
}

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

    /// The next `n` replacements find the task moved (a lost race) and write nothing.
    pub fn lose_next_races(&self, n: usize) {
        self.lock().refuse_next = n;
    }
}

#[async_trait]
impl TaskStore for InMemoryTaskStore {
    async fn submit(&self, task: &Task, event: &Outbound) -> Result<(), PortError> {
        let mut s = self.lock();
        if s.tasks.contains_key(&task.task_id) {
            return Err(PortError::Retryable(format!(
                "task id {} is taken",
                task.task_id
            )));
        }
        s.tasks.insert(task.task_id.clone(), task.clone());
        s.outbox.push(event.event.clone());
        Ok(())
    }

    async fn get(&self, id: &TaskId) -> Result<Option<Task>, PortError> {
        Ok(self.lock().tasks.get(id).cloned())
    }

    async fn last_sequence(&self) -> Result<u64, PortError> {
        Ok(self.lock().sequence)
    }

    async fn replace(&self, prior: &Task, next: &Task) -> Result<bool, PortError> {
        let mut s = self.lock();
        if s.refuse_next > 0 {
            s.refuse_next -= 1;
            return Ok(false);
        }
        let unchanged = s
            .tasks
            .get(&prior.task_id)
            .is_some_and(|t| t.status == prior.status && t.attempts == prior.attempts);
        let numbered = next.sequence.filter(|_| next.sequence != prior.sequence);
        let counter_ok = numbered.is_none_or(|n| s.sequence + 1 == n);
        if !(unchanged && counter_ok) {
            return Ok(false);
        }
        if let Some(n) = numbered {
            s.sequence = n;
        }
        s.tasks.insert(next.task_id.clone(), next.clone());
        Ok(true)
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

#[async_trait]
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
