//! The consumer's batch rules (order within a group, the last receive, rejections), with the
//! tasks flow's handler and a scripted executor.

use crate::{consumer, registry_in_memory};
use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use domain::PortError;
use domain::tasks::TaskId;
use domain::tasks::memory::{InMemoryTaskStore, ScriptedExecutor};
use domain::tasks::ports::TaskStore;
use domain::tasks::{NewTask, Priority, TaskGroup, TaskStatus, TaskSubmitted, submit_task};
use platform::batch::Budget;
use platform::batch::RejectionSink;
use platform::consumer::Consumer;
use std::sync::Arc;
use std::sync::Mutex;

#[derive(Default)]
struct Rejections(Mutex<Vec<(String, String)>>);

#[async_trait]
impl RejectionSink for Rejections {
    async fn reject(&self, _: &str, id: &str, reason: &str, _: &str) -> Result<(), PortError> {
        self.0.lock().unwrap().push((id.into(), reason.into()));
        Ok(())
    }
}

/// The consumer over in-memory ports, with handles on what the tests arrange and inspect.
struct Processor {
    consumer: Consumer,
    tasks: Arc<InMemoryTaskStore>,
    executor: Arc<ScriptedExecutor>,
    rejections: Arc<Rejections>,
}

impl Processor {
    async fn handle(
        &self,
        event: SqsEvent,
    ) -> Result<SqsBatchResponse, platform::batch::MissingMessageId> {
        self.consumer.handle(event, Budget::unlimited()).await
    }
}

fn processor(executor: ScriptedExecutor) -> Processor {
    let ports = platform::wiring::Ports::default().with(executor);
    let rejections = Arc::new(Rejections::default());
    Processor {
        consumer: consumer(registry_in_memory(&ports), rejections.clone(), 3),
        tasks: ports.port::<InMemoryTaskStore>(),
        executor: ports.port::<ScriptedExecutor>(),
        rejections,
    }
}

async fn task(p: &Processor, n: u128, title: &str) -> (TaskId, String) {
    let id = TaskId::from_ulid(ulid::Ulid::from_parts(1_800_000_000_000, n));
    let new = NewTask {
        title: title.into(),
        description: String::new(),
        priority: Priority::Low,
        due_date: None,
    };
    submit_task(
        &*p.tasks,
        id.clone(),
        new,
        &TaskGroup::default(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    let event = p.tasks.events().pop().unwrap();
    assert_eq!(
        event.decode::<TaskSubmitted>().unwrap(),
        TaskSubmitted {
            task_id: id.clone()
        }
    );
    (id, serde_json::to_string(&event).unwrap())
}

fn message(id: &str, body: &str, receive_count: u32) -> SqsMessage {
    let mut m = SqsMessage::default();
    m.message_id = Some(id.into());
    m.body = Some(body.into());
    m.attributes
        .insert("ApproximateReceiveCount".into(), receive_count.to_string());
    m.attributes.insert("MessageGroupId".into(), "tasks".into());
    m
}

fn batch(messages: Vec<SqsMessage>) -> SqsEvent {
    let mut e = SqsEvent::default();
    e.records = messages;
    e
}

fn failed_ids(r: &SqsBatchResponse) -> Vec<&str> {
    r.batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

#[tokio::test]
async fn a_failing_task_holds_back_every_later_task_of_the_batch() {
    let p = processor(ScriptedExecutor::failing("flaky", 1));
    let (first, b1) = task(&p, 1, "first").await;
    let (flaky, b2) = task(&p, 2, "flaky").await;
    let (last, b3) = task(&p, 3, "last").await;
    let response = p
        .handle(batch(vec![
            message("m1", &b1, 1),
            message("m2", &b2, 1),
            message("m3", &b3, 1),
        ]))
        .await
        .unwrap();
    assert_eq!(failed_ids(&response), vec!["m2", "m3"]);
    assert_eq!(p.executor.ran(), vec![first.clone()]);
    let flaky_state = p.tasks.get(&flaky).await.unwrap().unwrap();
    assert_eq!(flaky_state.status, TaskStatus::Processing);
    assert_eq!(
        p.tasks.get(&last).await.unwrap().unwrap().status,
        TaskStatus::Queued
    );

    let response = p
        .handle(batch(vec![message("m2", &b2, 2), message("m3", &b3, 2)]))
        .await
        .unwrap();
    assert!(failed_ids(&response).is_empty());
    assert_eq!(p.executor.ran(), vec![first, flaky.clone(), last.clone()]);
    for (id, sequence) in [(flaky, 2), (last, 3)] {
        let t = p.tasks.get(&id).await.unwrap().unwrap();
        assert_eq!(
            (t.status, t.sequence),
            (TaskStatus::Completed, Some(sequence))
        );
    }
}

#[tokio::test]
async fn the_last_receive_marks_the_task_failed_and_still_reports_it() {
    let p = processor(ScriptedExecutor::failing("doomed", u32::MAX));
    let (doomed, body) = task(&p, 1, "doomed").await;
    let response = p
        .handle(batch(vec![message("m1", &body, 3)]))
        .await
        .unwrap();
    assert_eq!(failed_ids(&response), vec!["m1"]);
    let t = p.tasks.get(&doomed).await.unwrap().unwrap();
    assert_eq!((t.status, t.attempts), (TaskStatus::Failed, 1));
    assert!(t.last_error.unwrap().contains("scripted failure"));
    assert!(p.rejections.0.lock().unwrap().is_empty());
}

#[tokio::test]
async fn unknown_message_types_are_rejected_and_the_batch_goes_on() {
    let p = processor(ScriptedExecutor::default());
    let (id, body) = task(&p, 1, "after").await;
    let unknown = r#"{"event_id":"evt_x","aggregate_id":"tasks","occurred_at":"2026-01-01T00:00:00Z","event_type":"TaskExploded","payload":{}}"#;
    let response = p
        .handle(batch(vec![
            message("m0", unknown, 1),
            message("m1", &body, 1),
        ]))
        .await
        .unwrap();
    assert!(failed_ids(&response).is_empty());
    assert_eq!(p.executor.ran(), vec![id]);
    let rejected = p.rejections.0.lock().unwrap().clone();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].0, "m0");
}

#[tokio::test]
async fn a_message_for_an_unknown_task_is_rejected_not_retried() {
    let p = processor(ScriptedExecutor::default());
    let (_, body) = task(&p, 1, "x").await;
    let body = body.replace("tsk_", "tsk_gone");
    let response = p
        .handle(batch(vec![message("m1", &body, 1)]))
        .await
        .unwrap();
    assert!(failed_ids(&response).is_empty());
    assert!(
        p.rejections.0.lock().unwrap()[0]
            .1
            .contains("no task tsk_gone")
    );
}

#[tokio::test]
async fn a_message_without_its_receive_count_is_rejected_not_guessed() {
    let p = processor(ScriptedExecutor::default());
    let (_, body) = task(&p, 1, "x").await;
    let mut m = message("m1", &body, 1);
    m.attributes.remove("ApproximateReceiveCount");
    let response = p.handle(batch(vec![m])).await.unwrap();
    assert!(failed_ids(&response).is_empty());
    assert!(p.executor.ran().is_empty());
    let rejected = p.rejections.0.lock().unwrap().clone();
    assert!(
        rejected[0].1.contains("ApproximateReceiveCount"),
        "{rejected:?}"
    );
}
