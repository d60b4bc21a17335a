//! Taking the app's events in: one event, or a batch whose events are each read and queued on
//! their own, so an invalid or unqueued event never holds back the valid ones before it, and
//! the caller learns what became of each.

use super::event::AppEvent;
use super::ports::AppEventQueue;
use super::types::EventTypes;
use crate::ids::EventId;
use crate::{FieldCode, PortError, Problems, ValidationError};
use serde_json::Value;

/// The most events one batch takes.
pub const MAX_BATCH: usize = 25;

/// Why one event was not taken in.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Refused {
    #[error(transparent)]
    Invalid(#[from] ValidationError),
    #[error(transparent)]
    NotQueued(#[from] PortError),
}

/// Reads `body` as one event (either shape) and queues it: its id once it is on the queue.
pub async fn ingest_event(
    queue: &dyn AppEventQueue,
    types: &EventTypes,
    body: &Value,
) -> Result<AppEvent, Refused> {
    let event = AppEvent::from_json(body, types)?;
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
) -> Vec<Result<EventId, Refused>> {
    let read: Vec<Result<AppEvent, ValidationError>> = items
        .iter()
        .map(|v| AppEvent::from_json(v, types))
        .collect();
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
