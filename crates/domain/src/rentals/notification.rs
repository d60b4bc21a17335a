//! What a user is told about their returns.

use super::events::RentalCompleted;
use crate::events::DomainEvent;
use crate::notifications::{Notification, Notify};

impl Notify for RentalCompleted {
    fn notification(&self, envelope: &DomainEvent) -> Notification {
        Notification {
            idempotency_key: format!("{}:rental_completed", envelope.event_id),
            user_id: self.user_id.clone(),
            kind: "rental_completed",
            message: format!(
                "Thanks for returning your {} at {}. Rental {} is complete.",
                self.asset_type, self.location_id, self.rental_id
            ),
            data: serde_json::json!({
                "event_id": envelope.event_id,
                "rental_id": self.rental_id,
                "asset_id": self.asset_id,
                "returned_at": crate::time::format_time(&self.returned_at),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rentals::events::tests::completed;

    #[test]
    fn completed_return_tells_the_user_what_happened() {
        let e = completed("2025-02-10T11:00:00Z", "2025-02-15T12:00:00Z");
        let envelope = e.outbound().unwrap().event;
        let n = e.notification(&envelope);
        assert_eq!(n.user_id.as_str(), "tpg_u0001");
        assert_eq!(n.kind, "rental_completed");
        assert_eq!(
            n.message,
            "Thanks for returning your clamshell at topanga-location-01. Rental tpg_r0001 is complete."
        );
        assert_eq!(
            n.idempotency_key,
            format!("{}:rental_completed", envelope.event_id)
        );
        assert_eq!(n.data["returned_at"], "2025-02-10T11:00:00Z");
    }
}
