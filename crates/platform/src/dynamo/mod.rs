//! DynamoDB adapters. Items are the domain types marshalled with `serde_dynamo`; every write
//! that must not happen twice is conditional.

mod formula_store;
mod markers;
mod rejections;
mod rental_store;
mod stats_store;

pub use formula_store::DynamoFormulaStore;
pub use markers::ProcessedMarkers;
pub use rejections::{Rejection, RejectionLog};
pub use rental_store::{DynamoRentalStore, RENTALS_BY_USER_INDEX};
pub use stats_store::DynamoStatsStore;

use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

pub type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

/// Seconds since the epoch, `days` from now: the value DynamoDB's TTL reads.
pub(crate) fn ttl_in_days(days: i64) -> AttributeValue {
    AttributeValue::N(
        (chrono::Utc::now() + chrono::Duration::days(days))
            .timestamp()
            .to_string(),
    )
}
