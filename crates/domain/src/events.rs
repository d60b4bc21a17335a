//! Domain events: facts that state changes emit, written to the outbox in the same transaction
//! as the change and published from there.
//!
//! The envelope is shared; the payload belongs to the flow that emits it. Each payload type says
//! what it is called on the wire and where it is published ([`Event`]), and each consumer
//! registers handlers by that name ([`EventHandler`]), so no module here or in the plumbing
//! knows any flow's events.

use crate::PortError;
use crate::ids::EventId;
use crate::time::serde_time;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A payload type of a domain event.
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The `event_type` on the wire, under which consumers register their handlers and SNS
    /// subscriptions filter.
    const TYPE: &'static str;
    /// Where the outbox relay publishes it: the name of a topic or queue in
    /// `infrastructure/topology.json`.
    const CHANNEL: &'static str;
}

/// Envelope shared by every event. `aggregate_id` orders events: consumers see the events of
/// one aggregate in the order they were emitted (it is the outbox partition and the FIFO
/// message group); `event_id` is the de-duplication id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    pub event_id: EventId,
    pub aggregate_id: String,
    #[serde(with = "serde_time")]
    pub occurred_at: DateTime<Utc>,
    pub event_type: String,
    pub payload: serde_json::Value,
}

impl DomainEvent {
    /// Wraps `payload`; the id derives from `cause` (see [`Self::derive_id`]).
    pub fn new<E: Event>(
        payload: &E,
        cause: &str,
        aggregate_id: impl Into<String>,
        occurred_at: DateTime<Utc>,
    ) -> Result<Self, PortError> {
        Ok(Self {
            event_id: Self::derive_id(E::TYPE, cause),
            aggregate_id: aggregate_id.into(),
            occurred_at,
            event_type: E::TYPE.to_owned(),
            payload: serde_json::to_value(payload)
                .map_err(|e| PortError::Permanent(format!("{} payload: {e}", E::TYPE)))?,
        })
    }

    pub fn event_type(&self) -> &str {
        &self.event_type
    }

    pub fn is<E: Event>(&self) -> bool {
        self.event_type == E::TYPE
    }

    /// The payload as `E`; a payload that does not have `E`'s shape is a permanent error.
    pub fn decode<E: Event>(&self) -> Result<E, PortError> {
        if !self.is::<E>() {
            return Err(PortError::Permanent(format!(
                "event {} is a {}, not a {}",
                self.event_id,
                self.event_type,
                E::TYPE
            )));
        }
        E::deserialize(&self.payload).map_err(|e| {
            PortError::Permanent(format!("malformed {} payload: {e}", self.event_type))
        })
    }

    /// Event ids derive from what caused the event, so re-running the same cause (a redelivered
    /// message) produces the same id and downstream de-duplication holds.
    pub fn derive_id(kind: &str, cause: &str) -> EventId {
        let digest = hex::encode(Sha256::digest(format!("{kind}\0{cause}").as_bytes()));
        EventId::from_trusted(format!("evt_{}", &digest[..32]))
    }
}

/// An event on its way out: the envelope and the channel its type publishes to. What stores
/// write to the outbox with the state change that emits it.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbound {
    pub channel: &'static str,
    pub event: DomainEvent,
}

impl Outbound {
    pub fn new<E: Event>(
        payload: &E,
        cause: &str,
        aggregate_id: impl Into<String>,
        occurred_at: DateTime<Utc>,
    ) -> Result<Self, PortError> {
        Ok(Self {
            channel: E::CHANNEL,
            event: DomainEvent::new(payload, cause, aggregate_id, occurred_at)?,
        })
    }
}

/// Which delivery of its message an attempt is: the queue's receive count against the number
/// of receives after which the message moves to the dead-letter queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivery {
    pub receive_count: u32,
    pub max_receives: u32,
}

impl Delivery {
    /// If this attempt fails, the message is not delivered again.
    pub fn is_last(&self) -> bool {
        self.receive_count >= self.max_receives
    }
}

/// What a consumer does with one event type. Called at least once per event: handlers are
/// idempotent. A retryable error sends the message back (and holds its group); a permanent one
/// records it as rejected.
#[async_trait]
pub trait EventHandler<E: Event>: Send + Sync {
    async fn handle(
        &self,
        event: E,
        envelope: &DomainEvent,
        delivery: Delivery,
    ) -> Result<(), PortError>;
}

/// Writes events that follow from an event handled (rather than from a state change of the
/// handler's own) to the outbox, once per event id: writing one again changes nothing.
#[async_trait]
pub trait EventOutbox: Send + Sync {
    async fn emit(&self, events: &[Outbound]) -> Result<(), PortError>;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_event_time;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Sampled {
        n: u32,
    }

    impl Event for Sampled {
        const TYPE: &'static str = "Sampled";
        const CHANNEL: &'static str = "somewhere";
    }

    fn sample() -> Outbound {
        Outbound::new(
            &Sampled { n: 7 },
            "cause-1",
            "agg-1",
            parse_event_time("2025-02-10T11:00:00Z").unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn wire_shape_is_an_envelope_with_typed_payload() {
        let out = sample();
        assert_eq!(out.channel, "somewhere");
        let json = serde_json::to_value(&out.event).unwrap();
        assert_eq!(json["event_type"], "Sampled");
        assert_eq!(json["aggregate_id"], "agg-1");
        assert_eq!(json["payload"]["n"], 7);
        assert_eq!(json["occurred_at"], "2025-02-10T11:00:00Z");
        let back: DomainEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, out.event);
        assert_eq!(back.decode::<Sampled>().unwrap(), Sampled { n: 7 });
    }

    #[test]
    fn ids_are_stable_per_cause_and_type() {
        assert_eq!(sample().event.event_id, sample().event.event_id);
        assert_ne!(
            DomainEvent::derive_id("Sampled", "a"),
            DomainEvent::derive_id("Sampled", "b")
        );
        assert_ne!(
            DomainEvent::derive_id("A", "x"),
            DomainEvent::derive_id("B", "x")
        );
    }

    #[test]
    fn decoding_another_type_or_a_malformed_payload_is_permanent() {
        let mut e = sample().event;
        e.event_type = "Other".into();
        assert!(!e.decode::<Sampled>().unwrap_err().is_retryable());
        let mut e = sample().event;
        e.payload = serde_json::json!({"n": "seven"});
        let err = e.decode::<Sampled>().unwrap_err();
        assert!(
            err.to_string().contains("malformed Sampled payload"),
            "{err}"
        );
    }

    #[test]
    fn the_last_receive_is_known() {
        let d = |receive_count| Delivery {
            receive_count,
            max_receives: 3,
        };
        assert!(!d(2).is_last());
        assert!(d(3).is_last());
        assert!(d(4).is_last());
    }
}
