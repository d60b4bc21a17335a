//! Flow 1: returns of reusable containers at return bins.

pub mod asset;
pub mod events;
mod ids;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod notification;
pub mod outcome;
pub mod ports;
pub mod qr;
pub mod rental;
pub mod scan;
pub mod selection;
pub mod service;
pub mod stats;
mod submission;

pub use ids::{AssetId, LocationId, RentalId, ReturnId};

pub use asset::{Asset, AssetType, User};
pub use events::RentalCompleted;

/// The events users are told about (each a [`crate::notifications::Notify`]).
pub type Notified = (RentalCompleted,);
pub use outcome::{RejectionReason, ReturnOutcome, ReturnRecord, ReturnState};
pub use rental::{Rental, RentalStatus};
pub use scan::{RawReturnEvent, ReturnScan};
pub use selection::select_rental;
pub use service::{ReturnDecision, process_return};
pub use stats::ProjectStats;
pub use submission::submit_return_scan;

/// What this flow reads from outside (see [`crate::edge`]): the scan's body, and the QR
/// payloads in it, decoded when the return is processed.
pub const EDGE: crate::edge::Edge = crate::edge::Edge {
    json: &[crate::edge::Parser {
        name: "return scan",
        parse: |v| ReturnScan::from_json(v).map(drop),
        sample: r#"{"timestamp": "2025-02-10T11:00:00Z", "location_id": "l1",
        "user_qr_data": "dHBnX3UwMDAx", "asset_qr_data": "dHBnX2EwMDAwMQ=="}"#,
        fields: &["timestamp", "location_id", "user_qr_data", "asset_qr_data"],
    }],
    text: &[crate::edge::TextParser {
        name: "QR payload",
        check: qr::check_any,
        sample: "dHBnX3UwMDAx",
    }],
};
