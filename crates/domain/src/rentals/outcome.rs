use super::scan::ReturnScan;
use crate::ids::UserId;
use crate::rentals::{AssetId, RentalId, ReturnId};
use serde::{Deserialize, Serialize};

/// Why a return did not complete a rental. Every rejection is recorded for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectionReason {
    /// A QR payload is not base64 of a UTF-8 id.
    InvalidQr,
    UserNotFound,
    AssetNotFound,
    /// The user has no rental that is in progress, open at the scan's time and accepts the
    /// returned asset's type.
    NoEligibleRental,
}

impl RejectionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::InvalidQr => "invalid_qr",
            Self::UserNotFound => "user_not_found",
            Self::AssetNotFound => "asset_not_found",
            Self::NoEligibleRental => "no_eligible_rental",
        }
    }
}

/// What processing a return decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReturnOutcome {
    Completed { rental_id: RentalId },
    Rejected { reason: RejectionReason },
}

/// Where a return stands: accepted and queued, or decided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReturnState {
    Pending,
    Completed { rental_id: RentalId },
    Rejected { reason: RejectionReason },
}

impl From<ReturnOutcome> for ReturnState {
    fn from(o: ReturnOutcome) -> Self {
        match o {
            ReturnOutcome::Completed { rental_id } => Self::Completed { rental_id },
            ReturnOutcome::Rejected { reason } => Self::Rejected { reason },
        }
    }
}

impl ReturnState {
    pub fn is_decided(&self) -> bool {
        !matches!(self, Self::Pending)
    }
}

/// The durable record of one scan and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnRecord {
    pub return_id: ReturnId,
    #[serde(flatten)]
    pub scan: ReturnScan,
    /// Known once the QR codes decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<UserId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asset_id: Option<AssetId>,
    #[serde(flatten)]
    pub state: ReturnState,
}

impl ReturnRecord {
    pub fn pending(scan: ReturnScan) -> Self {
        Self {
            return_id: scan.return_id(),
            scan,
            user_id: None,
            asset_id: None,
            state: ReturnState::Pending,
        }
    }
}
