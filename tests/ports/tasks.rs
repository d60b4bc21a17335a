//! The task flow's port, `TaskStore`, run against the in-memory adapter and the DynamoDB Local
//! one: a task is stored once with its event (a taken id is a retryable error that writes
//! nothing); a replacement is written only over the status and attempt count it was decided
//! from; a task that takes a number moves the counter from the number before it in the same
//! write, so no number is taken twice or skipped.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::events::{DomainEvent, Outbound};
use domain::tasks::TaskId;
use domain::tasks::memory::InMemoryTaskStore;
use domain::tasks::ports::TaskStore;
use domain::tasks::{NewTask, Priority, Settlement, Task, TaskGroup, TaskStatus, TaskSubmitted};
use domain::time::parse_event_time;
use integration_tests::DynamoTables;
use platform::dynamo::task_store::DynamoTaskStore;

/// The task store of one adapter, and its outbox.
#[async_trait]
trait TaskPorts: Send + Sync {
    fn store(&self) -> &dyn TaskStore;
    /// The events written with submissions, ordered by id.
    async fn outbox(&self) -> Vec<DomainEvent>;
}

#[async_trait]
impl TaskPorts for InMemoryTaskStore {
    fn store(&self) -> &dyn TaskStore {
        self
    }
    async fn outbox(&self) -> Vec<DomainEvent> {
        let mut events = self.events();
        events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        events
    }
}

struct Dynamo {
    tables: DynamoTables,
    store: DynamoTaskStore,
}

#[async_trait]
impl TaskPorts for Dynamo {
    fn store(&self) -> &dyn TaskStore {
        &self.store
    }
    async fn outbox(&self) -> Vec<DomainEvent> {
        self.tables
            .outbox()
            .await
            .into_iter()
            .map(|r| r.1)
            .collect()
    }
}

async fn in_memory() -> InMemoryTaskStore {
    InMemoryTaskStore::default()
}

async fn dynamodb_local() -> Dynamo {
    let tables = DynamoTables::start(&["tasks", "outbox"]).await;
    let store = DynamoTaskStore::new(
        tables.client.clone(),
        tables.table("tasks"),
        tables.table("outbox"),
    );
    Dynamo { tables, store }
}

integration_tests::contract_tests!(in_memory: in_memory, dynamodb_local: dynamodb_local;
    an_unknown_task_reads_as_absent_and_the_counter_starts_at_zero,
    a_submitted_task_reads_back_with_its_event,
    a_taken_task_id_is_refused_retryably_and_writes_nothing,
    a_replacement_is_written_only_over_the_status_and_attempts_it_was_decided_from,
    a_task_never_submitted_is_not_replaced_and_the_counter_stays,
    a_new_number_is_taken_only_from_the_one_before_it,
    a_replacement_that_keeps_its_number_leaves_the_counter,
    of_two_tasks_racing_for_one_number_exactly_one_takes_it,
);

fn at(s: &str) -> DateTime<Utc> {
    parse_event_time(s).unwrap()
}

fn id(n: u128) -> TaskId {
    TaskId::from_ulid(ulid::Ulid::from_parts(1_800_000_000_000, n))
}

/// Task `n`, queued, and the event that queues it.
fn queued(n: u128, title: &str) -> (Task, Outbound) {
    let when = at("2026-12-01T12:00:00.123456789Z");
    let task = Task::queued(
        id(n),
        NewTask {
            title: title.to_owned(),
            description: format!("description of {title}"),
            priority: Priority::High,
            due_date: Some(at("2026-12-24T18:00:00Z")),
        },
        when,
    );
    let event = TaskSubmitted {
        task_id: task.task_id.clone(),
    }
    .outbound(&TaskGroup::default(), when)
    .unwrap();
    (task, event)
}

/// `n` tasks submitted.
async fn submitted(p: &dyn TaskPorts, n: u128) -> Vec<Task> {
    let mut tasks = Vec::new();
    for i in 0..n {
        let (task, event) = queued(i, &format!("task {i}"));
        p.store().submit(&task, &event).await.unwrap();
        tasks.push(task);
    }
    tasks
}

async fn get(p: &dyn TaskPorts, id: &TaskId) -> Option<Task> {
    p.store().get(id).await.unwrap()
}

async fn last(p: &dyn TaskPorts) -> u64 {
    p.store().last_sequence().await.unwrap()
}

fn begun(task: &Task, number: u64) -> Task {
    task.begin(at("2026-12-01T12:01:00Z"), number).unwrap()
}

async fn an_unknown_task_reads_as_absent_and_the_counter_starts_at_zero(p: &dyn TaskPorts) {
    assert_eq!(last(p).await, 0);
    submitted(p, 1).await;
    assert_eq!(get(p, &id(99)).await, None);
    assert_eq!(last(p).await, 0, "submitting takes no number");
}

async fn a_submitted_task_reads_back_with_its_event(p: &dyn TaskPorts) {
    let (a, event_a) = queued(1, "a");
    let (b, event_b) = queued(2, "b");
    p.store().submit(&a, &event_a).await.unwrap();
    p.store().submit(&b, &event_b).await.unwrap();
    assert_eq!(get(p, &a.task_id).await, Some(a));
    assert_eq!(get(p, &b.task_id).await, Some(b));
    let mut events = vec![event_a.event, event_b.event];
    events.sort_by(|x, y| x.event_id.cmp(&y.event_id));
    assert_eq!(p.outbox().await, events);
}

async fn a_taken_task_id_is_refused_retryably_and_writes_nothing(p: &dyn TaskPorts) {
    let (first, event) = queued(1, "first");
    p.store().submit(&first, &event).await.unwrap();
    let (mut again, mut again_event) = queued(1, "again");
    again_event.event.event_id = DomainEvent::derive_id("TaskSubmitted", "again");
    let err = p.store().submit(&again, &again_event).await.unwrap_err();
    assert!(err.is_retryable(), "a new id will do: {err}");
    again.status = TaskStatus::Completed;
    assert!(
        p.store()
            .submit(&again, &again_event)
            .await
            .unwrap_err()
            .is_retryable()
    );
    assert_eq!(get(p, &first.task_id).await, Some(first), "unchanged");
    assert_eq!(p.outbox().await, vec![event.event], "no second event");
}

async fn a_replacement_is_written_only_over_the_status_and_attempts_it_was_decided_from(
    p: &dyn TaskPorts,
) {
    let task = submitted(p, 1).await.remove(0);
    let running = begun(&task, 1);
    assert!(p.store().replace(&task, &running).await.unwrap());
    assert_eq!(get(p, &task.task_id).await, Some(running.clone()));

    // Decided from the queued task again (a stale read): its status moved on.
    let stale = begun(&task, 2);
    assert!(!p.store().replace(&task, &stale).await.unwrap());
    // Decided from the right status but another attempt count.
    let mut other_attempt = running.clone();
    other_attempt.attempts += 1;
    let retried = begun(&other_attempt, 1);
    assert!(!p.store().replace(&other_attempt, &retried).await.unwrap());
    assert_eq!(get(p, &task.task_id).await, Some(running.clone()));
    assert_eq!(last(p).await, 1, "the refused ones moved no counter");

    let done = running
        .settle(&Settlement::Completed {
            at: at("2026-12-01T12:02:00Z"),
        })
        .unwrap();
    assert!(p.store().replace(&running, &done).await.unwrap());
    assert_eq!(get(p, &task.task_id).await, Some(done.clone()));
    assert!(
        !p.store().replace(&running, &done).await.unwrap(),
        "settled already"
    );
}

async fn a_task_never_submitted_is_not_replaced_and_the_counter_stays(p: &dyn TaskPorts) {
    submitted(p, 1).await;
    let (ghost, _) = queued(7, "never submitted");
    assert!(!p.store().replace(&ghost, &begun(&ghost, 1)).await.unwrap());
    let mut processing = begun(&ghost, 1);
    processing.sequence = None;
    let retry = begun(&processing, 1);
    assert!(!p.store().replace(&processing, &retry).await.unwrap());
    assert_eq!(get(p, &ghost.task_id).await, None, "nothing created");
    assert_eq!(last(p).await, 0);
}

async fn a_new_number_is_taken_only_from_the_one_before_it(p: &dyn TaskPorts) {
    let tasks = submitted(p, 3).await;
    for wrong in [0, 2] {
        assert!(
            !p.store()
                .replace(&tasks[0], &begun(&tasks[0], wrong))
                .await
                .unwrap(),
            "number {wrong} does not follow 0"
        );
    }
    assert_eq!(last(p).await, 0);
    assert_eq!(get(p, &tasks[0].task_id).await, Some(tasks[0].clone()));

    assert!(
        p.store()
            .replace(&tasks[0], &begun(&tasks[0], 1))
            .await
            .unwrap()
    );
    assert_eq!(last(p).await, 1);
    for wrong in [1, 3] {
        assert!(
            !p.store()
                .replace(&tasks[1], &begun(&tasks[1], wrong))
                .await
                .unwrap(),
            "number {wrong} does not follow 1"
        );
    }
    assert_eq!(get(p, &tasks[1].task_id).await, Some(tasks[1].clone()));
    assert_eq!(last(p).await, 1);
    let second = begun(&tasks[1], 2);
    assert!(p.store().replace(&tasks[1], &second).await.unwrap());
    assert_eq!(last(p).await, 2);
    assert_eq!(get(p, &tasks[1].task_id).await, Some(second));
}

async fn a_replacement_that_keeps_its_number_leaves_the_counter(p: &dyn TaskPorts) {
    let tasks = submitted(p, 2).await;
    let first = begun(&tasks[0], 1);
    assert!(p.store().replace(&tasks[0], &first).await.unwrap());
    let failing = first
        .settle(&Settlement::Retrying {
            error: "busy".into(),
        })
        .unwrap();
    assert!(p.store().replace(&first, &failing).await.unwrap());
    let retry = begun(&failing, 99);
    assert_eq!(retry.sequence, Some(1), "a retry keeps its number");
    assert!(p.store().replace(&failing, &retry).await.unwrap());
    assert_eq!(get(p, &tasks[0].task_id).await, Some(retry));
    assert_eq!(last(p).await, 1);
    assert!(
        p.store()
            .replace(&tasks[1], &begun(&tasks[1], 2))
            .await
            .unwrap(),
        "the next task takes the next number"
    );
}

async fn of_two_tasks_racing_for_one_number_exactly_one_takes_it(p: &dyn TaskPorts) {
    let tasks = submitted(p, 2).await;
    let (a, b) = (begun(&tasks[0], 1), begun(&tasks[1], 1));
    let (ra, rb) = tokio::join!(
        p.store().replace(&tasks[0], &a),
        p.store().replace(&tasks[1], &b)
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    assert!(ra != rb, "exactly one takes number 1: {ra} {rb}");
    let (winner, loser) = if ra { (0, 1) } else { (1, 0) };
    assert_eq!(
        get(p, &tasks[winner].task_id).await.unwrap().sequence,
        Some(1)
    );
    assert_eq!(
        get(p, &tasks[loser].task_id).await,
        Some(tasks[loser].clone())
    );
    assert_eq!(last(p).await, 1);
}
