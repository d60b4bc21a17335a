//! The app's event types and their handlers: each type is a payload type ([`AppPayload`]) with
//! a handler ([`Handle`]), registered once in [`super::event_types`]. The edge reads a known
//! type's payload through the same registry that runs its handler in the consumer; a type the
//! registry does not know is kept for review and counted.

use super::event::AppEvent;
use super::ports::{FitnessStore, NudgeTimer};
use crate::PortError;
use crate::validation::Problems;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

/// The payload of one event type.
pub trait AppPayload: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The `type` the app sends.
    const TYPE: &'static str;
    /// Whether the event starts a training, which cancels a nudge whose window it falls in.
    const STARTS_TRAINING: bool = false;
    /// Reads the payload from `fields` (the versioned payload, or the legacy body less its
    /// envelope), every problem reported to `p` with its field code.
    fn read(p: &mut Problems, fields: &Map<String, Value>) -> Option<Self>;
}

/// What an event of type `P` does. Called at least once per event: handlers are idempotent.
#[async_trait]
pub trait Handle<P: AppPayload>: Send + Sync + 'static {
    async fn handle(
        &self,
        fitness: &Fitness,
        event: &AppEvent,
        payload: P,
    ) -> Result<(), PortError>;
}

/// What the handlers work with.
#[derive(Clone)]
pub struct Fitness {
    pub store: Arc<dyn FitnessStore>,
    pub timer: Arc<dyn NudgeTimer>,
    /// `FITNESS_NUDGE_AFTER_SECONDS`.
    pub window: Duration,
    /// The wall clock, for the timer only: the rules decide by event time.
    pub clock: fn() -> DateTime<Utc>,
}

#[async_trait]
trait Registered: Send + Sync {
    fn read(&self, p: &mut Problems, fields: &Map<String, Value>) -> Option<Map<String, Value>>;
    fn starts_training(&self) -> bool;
    async fn handle(&self, fitness: &Fitness, event: &AppEvent) -> Result<(), PortError>;
}

struct Typed<P, H> {
    handler: H,
    _payload: PhantomData<fn() -> P>,
}

#[async_trait]
impl<P: AppPayload, H: Handle<P>> Registered for Typed<P, H> {
    fn read(&self, p: &mut Problems, fields: &Map<String, Value>) -> Option<Map<String, Value>> {
        match serde_json::to_value(P::read(p, fields)?) {
            Ok(Value::Object(map)) => Some(map),
            Ok(Value::Null) => Some(Map::new()),
            _ => {
                p.add_at(
                    "payload",
                    crate::FieldCode::INVALID_TYPE,
                    format!("{} has no object payload", P::TYPE),
                );
                None
            }
        }
    }

    fn starts_training(&self) -> bool {
        P::STARTS_TRAINING
    }

    async fn handle(&self, fitness: &Fitness, event: &AppEvent) -> Result<(), PortError> {
        let payload = P::deserialize(Value::Object(event.payload.clone())).map_err(|e| {
            PortError::Permanent(format!("malformed {} payload: {e}", event.type_name))
        })?;
        self.handler.handle(fitness, event, payload).await
    }
}

/// Handlers by event type.
#[derive(Default)]
pub struct EventTypes {
    types: BTreeMap<&'static str, Box<dyn Registered>>,
}

impl EventTypes {
    pub fn new() -> Self {
        Self::default()
    }

    /// `P`'s events are read as `P` and handled by `handler`. A type registered again replaces
    /// the earlier registration (a test asserts the catalogue has no such repeat).
    pub fn on<P: AppPayload>(mut self, handler: impl Handle<P>) -> Self {
        self.types.insert(
            P::TYPE,
            Box::new(Typed {
                handler,
                _payload: PhantomData,
            }),
        );
        self
    }

    pub fn knows(&self, type_name: &str) -> bool {
        self.types.contains_key(type_name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.types.keys().copied()
    }

    pub fn starts_training(&self, type_name: &str) -> bool {
        self.types
            .get(type_name)
            .is_some_and(|t| t.starts_training())
    }

    /// A known type's payload, read and written back in its versioned form; `None` for a type
    /// this registry does not know, or when `p` got problems.
    pub(crate) fn read(
        &self,
        p: &mut Problems,
        type_name: &str,
        fields: &Map<String, Value>,
    ) -> Option<Map<String, Value>> {
        self.types.get(type_name)?.read(p, fields)
    }

    /// Runs the handler of `event`'s type; an unknown type is kept for review and counted.
    pub async fn handle(&self, fitness: &Fitness, event: &AppEvent) -> Result<(), PortError> {
        match self.types.get(event.type_name.as_str()) {
            Some(t) => t.handle(fitness, event).await,
            None => fitness.store.record_unknown(event).await.map(|_| ()),
        }
    }
}
