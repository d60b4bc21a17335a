//! Taking the app's events in from the user who sends them: one event, or a batch whose events
//! are each read and queued on their own, so an invalid, foreign or unqueued event never holds
//! back the valid ones before it, and the sender learns what became of each. An event is its
//! sender's own: one naming another user is refused, whatever the body says.

use super::event::AppEvent;
use super::ports::AppEventQueue;
use super::types::EventTypes;
use crate::ids::{EventId, UserId};
use crate::{FieldCode, PortError, Problems, ValidationError};
use serde_json::Value;

/// The most events one batch takes.
pub const MAX_BATCH: usize = 25;

/// Why one event was not taken in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    /// The event names another user than its sender.
    #[error("an event of another user ({0})")]
    NotYours(UserId),
    #[error(transparent)]
    NotQueued(#[from] PortError),
}

/// `event` read, if it is `sender`'s own.
fn read_own(body: &Value, types: &EventTypes, sender: &UserId) -> Result<AppEvent, Refused> {
    let event = AppEvent::from_json(body, types)?;
    if &event.user_id != sender {
        return Err(Refused::NotYours(event.user_id));
    }
    Ok(event)
}

/// Reads `body` as one event (either shape) of `sender` and queues it: its id once it is on the
/// queue.
pub async fn ingest_event(
    queue: &dyn AppEventQueue,
    types: &EventTypes,
    body: &Value,
    sender: &UserId,
) -> Result<AppEvent, Refused> {
    let event = read_own(body, types, sender)?;
    queue
        .enqueue(std::slice::from_ref(&event))
        .await
        .into_iter()
        .next()
        .unwrap_or_else(|| Err(PortError::Retryable("the queue answered nothing".into())))?;
    Ok(event)
}

/// The events of a batch body, `{"events": [...]}` with 1 to [`MAX_BATCH`] items, unread.
pub fn batch_items(body: &Value) -> Result<Vec<Value>, ValidationError> {
    let mut problems = Problems::new("event batch");
    let root = problems.root(body)?;
    let field = root.field("events");
    let items: Vec<Value> = problems
        .array(
            &field,
            1..=MAX_BATCH,
            FieldCode::NO_ITEMS,
            FieldCode::TOO_MANY_ITEMS,
        )
        .map(|items| items.iter().filter_map(|f| f.value.cloned()).collect())
        .unwrap_or_default();
    problems.finish(|| Some(items))
}

/// Reads every item on its own and queues the valid ones in one call, in order: what became of
/// each item, by its index.
pub async fn ingest_batch(
    queue: &dyn AppEventQueue,
    types: &EventTypes,
    items: &[Value],
    sender: &UserId,
) -> Vec<Result<EventId, Refused>> {
    let read: Vec<Result<AppEvent, Refused>> =
        items.iter().map(|v| read_own(v, types, sender)).collect();
    let valid: Vec<AppEvent> = read
        .iter()
        .filter_map(|r| r.as_ref().ok().cloned())
        .collect();
    let mut queued = queue.enqueue(&valid).await.into_iter();
    read.into_iter()
        .map(|r| {
            let event = r?;
            queued
                .next()
                .unwrap_or_else(|| Err(PortError::Retryable("not queued".into())))?;
            Ok(event.event_id)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fitness::event_types;
    use crate::fitness::memory::InMemoryAppEventQueue;
    use serde_json::json;

    fn launch(user: &str, at: &str) -> Value {
        json!({"user_id": user, "type": "app_launch", "time_stamp": at})
    }

    #[tokio::test]
    async fn only_the_sender_s_own_events_are_taken_in() {
        let queue = InMemoryAppEventQueue::default();
        let (types, foo1) = (event_types(), UserId::parse("foo1").unwrap());
        assert!(
            ingest_event(
                &queue,
                &types,
                &launch("foo1", "2021-02-28 16:00:00"),
                &foo1
            )
            .await
            .is_ok()
        );
        assert_eq!(
            ingest_event(
                &queue,
                &types,
                &launch("foo2", "2021-02-28 16:00:00"),
                &foo1
            )
            .await
            .unwrap_err(),
            Refused::NotYours(UserId::parse("foo2").unwrap())
        );
        let batch = [
            launch("foo2", "2021-02-28 16:01:00"),
            launch("foo1", "2021-02-28 16:02:00"),
        ];
        let outcomes = ingest_batch(&queue, &types, &batch, &foo1).await;
        assert!(matches!(outcomes[0], Err(Refused::NotYours(_))));
        assert!(outcomes[1].is_ok());
        let queued = queue.queued();
        assert_eq!(queued.len(), 2, "foo1's two events");
        assert!(queued.iter().all(|e| e.user_id == foo1));
    }
}
