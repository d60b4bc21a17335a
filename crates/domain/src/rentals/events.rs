//! The events of the rental flow.

use super::AssetType;
use crate::PortError;
use crate::events::{Event, Outbound};
use crate::ids::UserId;
use crate::rentals::{AssetId, LocationId, RentalId, ReturnId};
use crate::time::serde_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

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

/// A fact others react to (notifications, stats): fanned out through the topic.
impl Event for RentalCompleted {
    const TYPE: &'static str = "RentalCompleted";
    const CHANNEL: &'static str = "domain-events";
}

impl RentalCompleted {
    pub fn on_time(&self) -> bool {
        self.returned_at <= self.expires_at
    }

    /// One event per return; a user's events travel in order, in the user's group.
    pub fn outbound(&self) -> Result<Outbound, PortError> {
        Outbound::new(
            self,
            self.return_id.as_str(),
            self.user_id.as_str(),
            self.returned_at,
        )
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::time::parse_event_time;

    pub(crate) fn completed(returned: &str, expires: &str) -> RentalCompleted {
        RentalCompleted {
            return_id: ReturnId::parse(format!("ret_{returned}")).unwrap(),
            rental_id: RentalId::parse("tpg_r0001").unwrap(),
            user_id: UserId::parse("tpg_u0001").unwrap(),
            asset_id: AssetId::parse("tpg_a00001").unwrap(),
            asset_type: AssetType::Clamshell,
            returned_at: parse_event_time(returned).unwrap(),
            location_id: LocationId::parse("topanga-location-01").unwrap(),
            expires_at: parse_event_time(expires).unwrap(),
        }
    }

    #[test]
    fn the_envelope_is_grouped_by_user_and_identified_by_the_return() {
        let e = completed("2025-02-10T11:00:00Z", "2025-02-15T12:00:00Z");
        let out = e.outbound().unwrap();
        assert_eq!(out.channel, "domain-events");
        assert_eq!(out.event.aggregate_id, "tpg_u0001");
        assert_eq!(out.event.event_type, "RentalCompleted");
        assert_eq!(out.event.occurred_at, e.returned_at);
        assert_eq!(out.event.payload["rental_id"], "tpg_r0001");
        assert_eq!(out.event.decode::<RentalCompleted>().unwrap(), e);
    }

    #[test]
    fn on_time_compares_with_expiry() {
        assert!(completed("2025-02-10T11:00:00Z", "2025-02-15T12:00:00Z").on_time());
        assert!(!completed("2025-02-16T00:00:00Z", "2025-02-15T12:00:00Z").on_time());
    }
}
