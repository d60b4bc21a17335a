//! What a user is told about their returns.

use crate::events::{DomainEvent, EventBody};
use crate::ids::UserId;
use serde::Serialize;

/// A message for the notification service. `idempotency_key` is stable per event, so the
/// service can drop a repeated delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    #[serde(skip)]
    pub idempotency_key: String,
    pub user_id: UserId,
    pub kind: &'static str,
    pub message: String,
    pub data: serde_json::Value,
}

pub fn notification_for(event: &DomainEvent) -> Option<Notification> {
    match &event.body {
        EventBody::RentalCompleted(e) => Some(Notification {
            idempotency_key: format!("{}:rental_completed", event.event_id),
            user_id: e.user_id.clone(),
            kind: "rental_completed",
            message: format!(
                "Thanks for returning your {} at {}. Rental {} is complete.",
                e.asset_type, e.location_id, e.rental_id
            ),
            data: serde_json::json!({
                "event_id": event.event_id,
                "rental_id": e.rental_id,
                "asset_id": e.asset_id,
                "returned_at": crate::time::format_time(&e.returned_at),
            }),
        }),
        EventBody::FormulaSubmitted(_) | EventBody::TaskSubmitted(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::RentalCompleted;
    use crate::ids::{AssetId, LocationId, RentalId, ReturnId};
    use crate::rentals::AssetType;
    use crate::time::parse_event_time;

    #[test]
    fn completed_return_tells_the_user_what_happened() {
        let e = DomainEvent::rental_completed(RentalCompleted {
            return_id: ReturnId::parse("ret_1").unwrap(),
            rental_id: RentalId::parse("tpg_r0001").unwrap(),
            user_id: UserId::parse("tpg_u0001").unwrap(),
            asset_id: AssetId::parse("tpg_a00001").unwrap(),
            asset_type: AssetType::Clamshell,
            returned_at: parse_event_time("2025-02-10T11:00:00Z").unwrap(),
            location_id: LocationId::parse("topanga-location-01").unwrap(),
            expires_at: parse_event_time("2025-02-15T12:00:00Z").unwrap(),
        });
        let n = notification_for(&e).unwrap();
        assert_eq!(n.user_id.as_str(), "tpg_u0001");
        assert_eq!(
            n.message,
            "Thanks for returning your clamshell at topanga-location-01. Rental tpg_r0001 is complete."
        );
        assert_eq!(
            n.idempotency_key,
            format!("{}:rental_completed", e.event_id)
        );
        assert_eq!(n.data["returned_at"], "2025-02-10T11:00:00Z");
    }
}
