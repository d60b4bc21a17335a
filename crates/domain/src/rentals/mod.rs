//! Flow 1: returns of reusable containers at return bins.

pub mod asset;
pub mod events;
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

pub use asset::{Asset, AssetType, User};
pub use events::RentalCompleted;
pub use outcome::{RejectionReason, ReturnOutcome, ReturnRecord, ReturnState};
pub use rental::{Rental, RentalStatus};
pub use scan::{RawReturnEvent, ReturnScan};
pub use selection::select_rental;
pub use service::{ReturnDecision, process_return};
pub use stats::ProjectStats;
