//! A queue consumer that dispatches domain events to handlers registered by event type.
//!
//! Each flow registers its handlers ([`domain::events::EventHandler`]) with a [`Registry`] built
//! once at cold start; the consumer parses every message as a domain event and runs the handlers
//! registered for its type. A type nobody registered is a recorded rejection, never a retry.

use crate::batch::{
    Budget, MissingMessageId, RecordError, RejectionSink, delivery, json_body,
    process_sqs_fifo_batch,
};
use async_trait::async_trait;
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use domain::PortError;
use domain::events::{Delivery, DomainEvent, Event, EventHandler};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;
use tracing::{Instrument, info_span};

#[async_trait]
trait Dispatch: Send + Sync {
    async fn dispatch(&self, event: &DomainEvent, delivery: Delivery) -> Result<(), PortError>;
}

struct Typed<E, H> {
    handler: H,
    _event: PhantomData<fn() -> E>,
}

#[async_trait]
impl<E: Event, H: EventHandler<E>> Dispatch for Typed<E, H> {
    async fn dispatch(&self, event: &DomainEvent, delivery: Delivery) -> Result<(), PortError> {
        let payload = event.decode::<E>()?;
        self.handler.handle(payload, event, delivery).await
    }
}

struct Registered {
    channel: &'static str,
    handlers: Vec<Box<dyn Dispatch>>,
}

/// Handlers by event type.
#[derive(Default)]
pub struct Registry {
    types: BTreeMap<&'static str, Registered>,
}

impl Registry {
    pub fn new() -> Self {
        Self::default()
    }

    /// Runs `handler` for every event of type `E` (after any handler registered before it).
    pub fn on<E: Event>(mut self, handler: impl EventHandler<E> + 'static) -> Self {
        self.types
            .entry(E::TYPE)
            .or_insert_with(|| Registered {
                channel: E::CHANNEL,
                handlers: Vec::new(),
            })
            .handlers
            .push(Box::new(Typed {
                handler,
                _event: PhantomData,
            }));
        self
    }

    /// Runs `handler` for every event of each type of `E`, a tuple of event types (the events a
    /// flow declares for one purpose, such as those it notifies about).
    pub fn on_each<E: Events<H>, H>(self, handler: H) -> Self {
        E::register(self, handler)
    }

    /// Runs `handler` for every event of each group of `G`, a tuple of [`Events`] tuples (each
    /// flow's events for one purpose, the domain's list of them).
    pub fn on_groups<G: EventGroups<H>, H>(self, handler: H) -> Self {
        G::register(self, handler)
    }

    /// The registered event types, each with the channel it is published to.
    pub fn event_types(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.types.iter().map(|(t, r)| (*t, r.channel))
    }

    /// Runs the handlers of `event`'s type, in registration order.
    pub async fn dispatch(
        &self,
        event: &DomainEvent,
        delivery: Delivery,
    ) -> Result<(), RecordError> {
        let Some(registered) = self.types.get(event.event_type.as_str()) else {
            return Err(RecordError::Permanent(format!(
                "no handler for event type {:?}",
                event.event_type
            )));
        };
        for handler in &registered.handlers {
            handler.dispatch(event, delivery).await?;
        }
        Ok(())
    }
}

/// A tuple of event types that `H` handles alike.
pub trait Events<H> {
    fn register(registry: Registry, handler: H) -> Registry;
}

macro_rules! events_tuple {
    ($($e:ident),+) => {
        impl<H: Clone + 'static, $($e: Event),+> Events<H> for ($($e,)+)
        where
            $(H: EventHandler<$e>),+
        {
            fn register(registry: Registry, handler: H) -> Registry {
                $(let registry = registry.on::<$e>(handler.clone());)+
                registry
            }
        }
    };
}

events_tuple!(A);
events_tuple!(A, B);
events_tuple!(A, B, C);
events_tuple!(A, B, C, D);

/// A tuple of [`Events`] tuples that `H` handles alike: every flow's events for one purpose.
pub trait EventGroups<H> {
    fn register(registry: Registry, handler: H) -> Registry;
}

macro_rules! groups_tuple {
    ($($g:ident),+) => {
        impl<H: Clone, $($g: Events<H>),+> EventGroups<H> for ($($g,)+) {
            fn register(registry: Registry, handler: H) -> Registry {
                $(let registry = $g::register(registry, handler.clone());)+
                registry
            }
        }
    };
}

groups_tuple!(A);
groups_tuple!(A, B);
groups_tuple!(A, B, C);
groups_tuple!(A, B, C, D);
groups_tuple!(A, B, C, D, E);
groups_tuple!(A, B, C, D, E, F);
groups_tuple!(A, B, C, D, E, F, G);
groups_tuple!(A, B, C, D, E, F, G, I);

/// An SQS FIFO consumer of domain events: batches in order, partial-batch failures, rejections
/// recorded, the invocation's deadline respected.
pub struct Consumer {
    /// Names the consumer in rejection records and logs.
    pub source: &'static str,
    pub registry: Registry,
    pub rejections: Arc<dyn RejectionSink>,
    /// The source queues' `maxReceiveCount`: handlers act on their last receive.
    pub max_receive_count: u32,
    /// The longest one record may take; fewer records are started when less time is left.
    pub per_record: std::time::Duration,
}

impl Consumer {
    pub async fn handle(
        &self,
        event: SqsEvent,
        budget: Budget,
    ) -> Result<SqsBatchResponse, MissingMessageId> {
        process_sqs_fifo_batch(
            self.source,
            event,
            &*self.rejections,
            budget,
            |message| async move {
                let event: DomainEvent = json_body(&message)?;
                let delivery = delivery(&message, self.max_receive_count)?;
                let span = info_span!("event", event_id = %event.event_id,
                                      event_type = %event.event_type,
                                      receive_count = delivery.receive_count);
                self.registry
                    .dispatch(&event, delivery)
                    .instrument(span)
                    .await
            },
        )
        .await
    }

    /// The budget of an invocation that must answer by `deadline_ms` (the Lambda context's).
    pub fn budget(&self, deadline_ms: u64) -> Budget {
        Budget::until_epoch_ms(deadline_ms, self.per_record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use std::sync::Mutex;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Pinged {
        n: u32,
    }
    impl Event for Pinged {
        const TYPE: &'static str = "Pinged";
        const CHANNEL: &'static str = "somewhere";
    }

    #[derive(Default)]
    struct Log(Mutex<Vec<(u32, u32)>>);

    #[async_trait]
    impl EventHandler<Pinged> for Arc<Log> {
        async fn handle(&self, e: Pinged, _: &DomainEvent, d: Delivery) -> Result<(), PortError> {
            if e.n == 0 {
                return Err(PortError::Retryable("zero".into()));
            }
            self.0.lock().unwrap().push((e.n, d.receive_count));
            Ok(())
        }
    }

    fn event(n: u32) -> DomainEvent {
        DomainEvent::new(&Pinged { n }, &n.to_string(), "agg", chrono::Utc::now()).unwrap()
    }

    const FIRST: Delivery = Delivery {
        receive_count: 1,
        max_receives: 3,
    };

    #[tokio::test]
    async fn dispatches_by_type_to_every_handler_in_order() {
        let log = Arc::new(Log::default());
        let registry = Registry::new()
            .on::<Pinged>(log.clone())
            .on::<Pinged>(log.clone());
        registry.dispatch(&event(7), FIRST).await.unwrap();
        assert_eq!(*log.0.lock().unwrap(), [(7, 1), (7, 1)]);
        assert_eq!(
            registry.event_types().collect::<Vec<_>>(),
            [("Pinged", "somewhere")]
        );
        assert_eq!(
            registry.dispatch(&event(0), FIRST).await,
            Err(RecordError::Retryable("zero".into()))
        );
    }

    #[tokio::test]
    async fn an_unregistered_type_or_a_malformed_payload_is_permanent() {
        let registry = Registry::new().on::<Pinged>(Arc::new(Log::default()));
        let mut other = event(1);
        other.event_type = "Unknown".into();
        assert!(matches!(
            registry.dispatch(&other, FIRST).await,
            Err(RecordError::Permanent(m)) if m.contains("no handler for event type \"Unknown\"")
        ));
        let mut bad = event(1);
        bad.payload = serde_json::json!({"n": "x"});
        assert!(matches!(
            registry.dispatch(&bad, FIRST).await,
            Err(RecordError::Permanent(_))
        ));
    }
}
