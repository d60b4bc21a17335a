//! Domain events: facts that state changes emit, written to the outbox in the same transaction
//! as the change and published from there.

use crate::ids::{AssetId, EventId, LocationId, RentalId, ReturnId, UserId};
use crate::rentals::AssetType;
use crate::time::serde_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// Envelope shared by every event. `aggregate_id` orders events: consumers see the events of
/// one aggregate in the order they were emitted.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEvent {
    pub event_id: EventId,
    pub aggregate_id: String,
    #[serde(with = "serde_time")]
    pub occurred_at: DateTime<Utc>,
    #[serde(flatten)]
    pub body: EventBody,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event_type", content = "payload")]
pub enum EventBody {
    RentalCompleted(RentalCompleted),
    FormulaSubmitted(FormulaSubmitted),
    TaskSubmitted(TaskSubmitted),
}

impl EventBody {
    pub fn event_type(&self) -> &'static str {
        match self {
            Self::RentalCompleted(_) => "RentalCompleted",
            Self::FormulaSubmitted(_) => "FormulaSubmitted",
            Self::TaskSubmitted(_) => "TaskSubmitted",
        }
    }
}

/// A formula was stored and awaits processing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormulaSubmitted {
    pub formula_id: crate::ids::FormulaId,
    pub fingerprint: crate::formulas::Fingerprint,
}

/// A task was accepted and awaits its turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSubmitted {
    pub task_id: crate::ids::TaskId,
}

/// A return completed a rental.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RentalCompleted {
    pub return_id: ReturnId,
    pub rental_id: RentalId,
    pub user_id: UserId,
    pub asset_id: AssetId,
    pub asset_type: AssetType,
    #[serde(with = "serde_time")]
    pub returned_at: DateTime<Utc>,
    pub location_id: LocationId,
    #[serde(with = "serde_time")]
    pub expires_at: DateTime<Utc>,
}

impl RentalCompleted {
    pub fn on_time(&self) -> bool {
        self.returned_at <= self.expires_at
    }
}

impl DomainEvent {
    pub fn event_type(&self) -> &'static str {
        self.body.event_type()
    }

    /// Event ids derive from what caused the event, so re-running the same cause (a redelivered
    /// message) produces the same id and downstream de-duplication holds.
    pub fn derive_id(kind: &str, cause: &str) -> EventId {
        let digest = hex::encode(Sha256::digest(format!("{kind}\0{cause}").as_bytes()));
        EventId::from_trusted(format!("evt_{}", &digest[..32]))
    }

    /// Formulas are independent of each other: each is its own aggregate (and message group).
    pub fn formula_submitted(event: FormulaSubmitted, at: DateTime<Utc>) -> Self {
        Self {
            event_id: Self::derive_id("FormulaSubmitted", event.formula_id.as_str()),
            aggregate_id: format!("formula-{}", event.formula_id),
            occurred_at: at,
            body: EventBody::FormulaSubmitted(event),
        }
    }

    /// Tasks of one group form one aggregate, so the outbox keeps them in one partition (one
    /// stream shard, in write order) and they travel in one message group.
    pub fn task_submitted(
        event: TaskSubmitted,
        group: &crate::tasks::TaskGroup,
        at: DateTime<Utc>,
    ) -> Self {
        Self {
            event_id: Self::derive_id("TaskSubmitted", event.task_id.as_str()),
            aggregate_id: group.to_string(),
            occurred_at: at,
            body: EventBody::TaskSubmitted(event),
        }
    }

    pub fn rental_completed(event: RentalCompleted) -> Self {
        Self {
            event_id: Self::derive_id("RentalCompleted", event.return_id.as_str()),
            aggregate_id: event.user_id.to_string(),
            occurred_at: event.returned_at,
            body: EventBody::RentalCompleted(event),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_event_time;

    fn sample() -> DomainEvent {
        DomainEvent::rental_completed(RentalCompleted {
            return_id: ReturnId::parse("ret_1").unwrap(),
            rental_id: RentalId::parse("tpg_r0001").unwrap(),
            user_id: UserId::parse("tpg_u0001").unwrap(),
            asset_id: AssetId::parse("tpg_a00001").unwrap(),
            asset_type: AssetType::Clamshell,
            returned_at: parse_event_time("2025-02-10T11:00:00Z").unwrap(),
            location_id: LocationId::parse("topanga-location-01").unwrap(),
            expires_at: parse_event_time("2025-02-15T12:00:00Z").unwrap(),
        })
    }

    #[test]
    fn wire_shape_is_an_envelope_with_typed_payload() {
        let json = serde_json::to_value(sample()).unwrap();
        assert_eq!(json["event_type"], "RentalCompleted");
        assert_eq!(json["aggregate_id"], "tpg_u0001");
        assert_eq!(json["payload"]["rental_id"], "tpg_r0001");
        assert_eq!(json["occurred_at"], "2025-02-10T11:00:00Z");
        let back: DomainEvent = serde_json::from_value(json).unwrap();
        assert_eq!(back, sample());
    }

    #[test]
    fn ids_are_stable_per_cause() {
        assert_eq!(sample().event_id, sample().event_id);
        assert_ne!(
            DomainEvent::derive_id("RentalCompleted", "a"),
            DomainEvent::derive_id("RentalCompleted", "b")
        );
        assert_ne!(
            DomainEvent::derive_id("A", "x"),
            DomainEvent::derive_id("B", "x")
        );
    }

    #[test]
    fn unknown_event_types_do_not_deserialize() {
        let mut json = serde_json::to_value(sample()).unwrap();
        json["event_type"] = "Nope".into();
        assert!(serde_json::from_value::<DomainEvent>(json).is_err());
    }

    #[test]
    fn on_time_compares_with_expiry() {
        let EventBody::RentalCompleted(mut e) = sample().body else {
            panic!("sample is a RentalCompleted");
        };
        assert!(e.on_time());
        e.returned_at = parse_event_time("2025-02-16T00:00:00Z").unwrap();
        assert!(!e.on_time());
    }
}
