use super::events::TaskSubmitted;
use super::ports::{TaskExecutor, TaskStore};
use super::task::{Settlement, Task, TaskStatus};
use crate::PortError;
use crate::contention::{Try, optimistically};
use crate::events::{Delivery, DomainEvent, EventHandler};
use crate::tasks::TaskId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tracing::{debug, info};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessOutcome {
    Completed(Task),
    /// A repeated delivery of a task that already completed: nothing ran.
    AlreadyCompleted(Task),
}

/// Starts an attempt (see [`Task::begin`]); `None`: no such task. A task that starts afresh
/// takes the number after the last one handed out, atomically with the counter, so numbers are
/// gap-free and strictly increasing in processing order.
pub async fn begin_attempt(
    store: &dyn TaskStore,
    id: &TaskId,
    at: DateTime<Utc>,
) -> Result<Option<Task>, PortError> {
    let what = format!("task {id} or the sequence counter");
    optimistically(&what, (), |()| async move {
        let Some(task) = store.get(id).await? else {
            return Ok(Try::Done(None));
        };
        let next_sequence = if task.takes_new_number() {
            store.last_sequence().await? + 1
        } else {
            0
        };
        let Some(started) = task.begin(at, next_sequence) else {
            return Ok(Try::Done(Some(task)));
        };
        Ok(match store.replace(&task, &started).await? {
            true => Try::Done(Some(started)),
            false => Try::Lost(()),
        })
    })
    .await
}

/// Records how `attempt` ended (see [`Task::settle`]); nothing when the task is no longer
/// `processing` or a later attempt has started on it (a redelivery while this one ran): that
/// attempt records its own end.
async fn record(
    store: &dyn TaskStore,
    attempt: &Task,
    settlement: &Settlement,
) -> Result<(), PortError> {
    let id = &attempt.task_id;
    // The attempt is the state this run wrote; only a lost race needs a fresh read.
    optimistically(
        &format!("task {id}"),
        attempt.clone(),
        |current| async move {
            if current.attempts != attempt.attempts {
                debug!(
                    attempts = current.attempts,
                    "a later attempt has started; it records its end"
                );
                return Ok(Try::Done(()));
            }
            let Some(settled) = current.settle(settlement) else {
                debug!("task is no longer processing; nothing to record");
                return Ok(Try::Done(()));
            };
            if store.replace(&current, &settled).await? {
                return Ok(Try::Done(()));
            }
            Ok(match store.get(id).await? {
                Some(fresh) => Try::Lost(fresh),
                None => Try::Done(()),
            })
        },
    )
    .await
}

/// Runs one attempt at a task. The task's state tells a retry from a repeat: a completed task is
/// not run again. A retryable failure leaves the task `processing` with its error and returns
/// the error, so the message (and every later one of its group) goes back to the queue; on the
/// last delivery the task is marked `failed` first and the message then moves to the
/// dead-letter queue. A permanent failure marks it `failed` at once.
pub async fn process_task(
    store: &dyn TaskStore,
    executor: &dyn TaskExecutor,
    task_id: &TaskId,
    delivery: Delivery,
    now: impl Fn() -> DateTime<Utc> + Send + Sync,
) -> Result<ProcessOutcome, PortError> {
    let Some(task) = begin_attempt(store, task_id, now()).await? else {
        return Err(PortError::Permanent(format!("no task {task_id}")));
    };
    if task.status == TaskStatus::Completed {
        return Ok(ProcessOutcome::AlreadyCompleted(task));
    }
    match executor.execute(&task).await {
        Ok(()) => {
            let at = now();
            record(store, &task, &Settlement::Completed { at }).await?;
            Ok(ProcessOutcome::Completed(Task {
                status: TaskStatus::Completed,
                finished_at: Some(at),
                ..task
            }))
        }
        Err(PortError::Retryable(error)) if !delivery.is_last() => {
            let retrying = Settlement::Retrying {
                error: error.clone(),
            };
            record(store, &task, &retrying).await?;
            Err(PortError::Retryable(error))
        }
        Err(e) => {
            let error = e.to_string();
            let failed = Settlement::Failed {
                error: error.clone(),
                at: now(),
            };
            record(store, &task, &failed).await?;
            Err(match e {
                PortError::Retryable(_) => PortError::Retryable(format!(
                    "last attempt ({} of {}) failed, the message goes to the dead-letter queue: {error}",
                    delivery.receive_count, delivery.max_receives
                )),
                PortError::Permanent(_) => PortError::Permanent(error),
            })
        }
    }
}

/// Runs each task in its turn through `executor`, recording its number and outcome; `clock`
/// tells the times it records (the wiring passes the system clock in).
#[derive(Clone)]
pub struct RunTask {
    pub store: Arc<dyn TaskStore>,
    pub executor: Arc<dyn TaskExecutor>,
    pub clock: fn() -> DateTime<Utc>,
}

#[async_trait]
impl EventHandler<TaskSubmitted> for RunTask {
    async fn handle(
        &self,
        event: TaskSubmitted,
        _: &DomainEvent,
        delivery: Delivery,
    ) -> Result<(), PortError> {
        let outcome = process_task(
            &*self.store,
            &*self.executor,
            &event.task_id,
            delivery,
            self.clock,
        )
        .await?;
        match outcome {
            ProcessOutcome::Completed(task) => {
                info!(task_id = %task.task_id, sequence = task.sequence, attempts = task.attempts, "task completed");
            }
            ProcessOutcome::AlreadyCompleted(task) => {
                info!(task_id = %task.task_id, sequence = task.sequence, "task already completed; repeat delivery ignored");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::memory::{InMemoryTaskStore, ScriptedExecutor};
    use crate::tasks::{NewTask, Priority, TaskGroup, submit_task};

    fn now() -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap()
    }

    const FIRST: Delivery = Delivery {
        receive_count: 1,
        max_receives: 3,
    };

    async fn submit(store: &InMemoryTaskStore, n: u128, title: &str) -> TaskId {
        let id = TaskId::from_ulid(ulid::Ulid::from_parts(1_800_000_000_000, n));
        let new = NewTask {
            title: title.into(),
            description: String::new(),
            priority: Priority::Medium,
            due_date: None,
        };
        submit_task(store, id.clone(), new, &TaskGroup::default(), now())
            .await
            .unwrap();
        id
    }

    async fn state(store: &InMemoryTaskStore, id: &TaskId) -> Task {
        store.get(id).await.unwrap().unwrap()
    }

    #[tokio::test]
    async fn tasks_number_in_processing_order_and_repeats_do_not_rerun() {
        let store = InMemoryTaskStore::default();
        let executor = ScriptedExecutor::default();
        let a = submit(&store, 1, "a").await;
        let b = submit(&store, 2, "b").await;
        assert_eq!(state(&store, &a).await.status, TaskStatus::Queued);
        for id in [&a, &b] {
            let outcome = process_task(&store, &executor, id, FIRST, now)
                .await
                .unwrap();
            assert!(matches!(outcome, ProcessOutcome::Completed(_)));
        }
        let again = process_task(&store, &executor, &a, FIRST, now)
            .await
            .unwrap();
        assert!(matches!(again, ProcessOutcome::AlreadyCompleted(_)));
        assert_eq!(executor.ran(), vec![a.clone(), b.clone()]);
        let (a, b) = (state(&store, &a).await, state(&store, &b).await);
        assert_eq!((a.sequence, b.sequence), (Some(1), Some(2)));
        assert_eq!((a.status, a.attempts), (TaskStatus::Completed, 1));
        assert_eq!(a.finished_at, Some(now()));
        assert_eq!(store.events().len(), 2);
        assert!(store.events().iter().all(|e| e.aggregate_id == "tasks"));
    }

    #[tokio::test]
    async fn a_retried_task_keeps_its_number_and_records_the_error() {
        let store = InMemoryTaskStore::default();
        let executor = ScriptedExecutor::failing("flaky", 1);
        let flaky = submit(&store, 1, "flaky").await;
        let next = submit(&store, 2, "next").await;
        let err = process_task(&store, &executor, &flaky, FIRST, now)
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        let t = state(&store, &flaky).await;
        assert_eq!(
            (t.status, t.sequence, t.attempts),
            (TaskStatus::Processing, Some(1), 1)
        );
        assert!(t.last_error.unwrap().contains("scripted failure"));
        let second = Delivery {
            receive_count: 2,
            ..FIRST
        };
        process_task(&store, &executor, &flaky, second, now)
            .await
            .unwrap();
        process_task(&store, &executor, &next, FIRST, now)
            .await
            .unwrap();
        let t = state(&store, &flaky).await;
        assert_eq!(
            (t.status, t.sequence, t.attempts),
            (TaskStatus::Completed, Some(1), 2)
        );
        assert_eq!(state(&store, &next).await.sequence, Some(2));
    }

    #[tokio::test]
    async fn the_last_failed_delivery_marks_the_task_failed_and_a_redrive_runs_it_again() {
        let store = InMemoryTaskStore::default();
        let executor = ScriptedExecutor::failing("doomed", u32::MAX);
        let doomed = submit(&store, 1, "doomed").await;
        for receive_count in 1..=3 {
            let delivery = Delivery {
                receive_count,
                ..FIRST
            };
            let err = process_task(&store, &executor, &doomed, delivery, now)
                .await
                .unwrap_err();
            assert!(
                err.is_retryable(),
                "the message must go back, then to the DLQ"
            );
        }
        let t = state(&store, &doomed).await;
        assert_eq!(
            (t.status, t.attempts, t.sequence),
            (TaskStatus::Failed, 3, Some(1))
        );
        assert!(t.finished_at.is_some());

        let other = submit(&store, 2, "other").await;
        process_task(&store, &executor, &other, FIRST, now)
            .await
            .unwrap();
        executor.fail("doomed", 0);
        process_task(&store, &executor, &doomed, FIRST, now)
            .await
            .unwrap();
        let t = state(&store, &doomed).await;
        assert_eq!(
            (t.status, t.attempts, t.sequence),
            (TaskStatus::Completed, 4, Some(3))
        );
    }

    #[tokio::test]
    async fn a_lost_race_is_decided_again_on_fresh_data_and_then_given_back() {
        let store = InMemoryTaskStore::default();
        let executor = ScriptedExecutor::default();
        let a = submit(&store, 1, "a").await;
        store.lose_next_races(2);
        process_task(&store, &executor, &a, FIRST, now)
            .await
            .unwrap();
        let t = state(&store, &a).await;
        assert_eq!(
            (t.status, t.sequence, t.attempts),
            (TaskStatus::Completed, Some(1), 1)
        );

        let b = submit(&store, 2, "b").await;
        store.lose_next_races(crate::contention::ATTEMPTS as usize);
        let err = process_task(&store, &executor, &b, FIRST, now)
            .await
            .unwrap_err();
        assert!(err.is_retryable(), "{err}");
        assert_eq!(state(&store, &b).await.status, TaskStatus::Queued);
    }

    #[tokio::test]
    async fn an_attempt_overtaken_by_a_redelivery_leaves_the_settling_to_it() {
        let store = InMemoryTaskStore::default();
        let id = submit(&store, 1, "slow").await;
        let first = begin_attempt(&store, &id, now()).await.unwrap().unwrap();
        let second = begin_attempt(&store, &id, now()).await.unwrap().unwrap();
        assert_eq!((first.attempts, second.attempts), (1, 2));
        let failed = Settlement::Failed {
            error: "stale".into(),
            at: now(),
        };
        record(&store, &first, &failed).await.unwrap();
        assert_eq!(state(&store, &id).await.status, TaskStatus::Processing);
        record(&store, &second, &Settlement::Completed { at: now() })
            .await
            .unwrap();
        let t = state(&store, &id).await;
        assert_eq!((t.status, t.sequence), (TaskStatus::Completed, Some(1)));
        assert_eq!(t.last_error, None);
    }

    struct Refusing;
    #[async_trait]
    impl TaskExecutor for Refusing {
        async fn execute(&self, _: &Task) -> Result<(), PortError> {
            Err(PortError::Permanent("cannot be done".into()))
        }
    }

    #[tokio::test]
    async fn a_permanent_failure_fails_the_task_at_once() {
        let store = InMemoryTaskStore::default();
        let id = submit(&store, 1, "x").await;
        let err = process_task(&store, &Refusing, &id, FIRST, now)
            .await
            .unwrap_err();
        assert!(!err.is_retryable());
        let t = state(&store, &id).await;
        assert_eq!(t.status, TaskStatus::Failed);
        assert_eq!(t.last_error.as_deref(), Some("permanent: cannot be done"));
    }

    #[tokio::test]
    async fn an_unknown_task_is_a_permanent_failure() {
        let store = InMemoryTaskStore::default();
        let id = TaskId::parse("tsk_missing").unwrap();
        let err = process_task(&store, &ScriptedExecutor::default(), &id, FIRST, now)
            .await
            .unwrap_err();
        assert_eq!(err, PortError::Permanent("no task tsk_missing".into()));
    }
}
