use super::asset::AssetType;
use crate::ids::UserId;
use crate::rentals::{AssetId, LocationId, RentalId};
use crate::time::serde_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RentalStatus {
    InProgress,
    Completed,
    Forgiven,
    Flagged,
}

impl RentalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InProgress => "IN_PROGRESS",
            Self::Completed => "COMPLETED",
            Self::Forgiven => "FORGIVEN",
            Self::Flagged => "FLAGGED",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rental {
    #[serde(alias = "id")]
    pub rental_id: RentalId,
    pub user_id: UserId,
    pub asset_id: AssetId,
    pub status: RentalStatus,
    #[serde(with = "serde_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "serde_time")]
    pub expires_at: DateTime<Utc>,
    pub eligible_asset_types: Vec<AssetType>,
    #[serde(default)]
    pub created_at_location_id: Option<LocationId>,
    #[serde(default, with = "serde_time::option")]
    pub returned_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub returned_at_location_id: Option<LocationId>,
}

impl Rental {
    /// A rental may be returned up to and including the instant it expires, and not before it
    /// was created.
    pub fn is_open_at(&self, at: DateTime<Utc>) -> bool {
        self.status == RentalStatus::InProgress && self.created_at <= at && at <= self.expires_at
    }

    pub fn accepts(&self, asset_type: AssetType) -> bool {
        self.eligible_asset_types.contains(&asset_type)
    }

    /// Oldest first by `created_at`, ties broken by id, so an order never depends on storage
    /// order: which rental a return completes and how a user's rentals are listed.
    pub fn oldest_first(a: &Rental, b: &Rental) -> std::cmp::Ordering {
        a.created_at
            .cmp(&b.created_at)
            .then_with(|| a.rental_id.cmp(&b.rental_id))
    }

    /// The rental as it is once completed by a return at `at` in `location`.
    pub fn completed(&self, at: DateTime<Utc>, location: &LocationId) -> Rental {
        Rental {
            status: RentalStatus::Completed,
            returned_at: Some(at),
            returned_at_location_id: Some(location.clone()),
            ..self.clone()
        }
    }
}
