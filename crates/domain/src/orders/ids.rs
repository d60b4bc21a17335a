//! The orders flow's own ids.

use crate::ids::{IdError, check_id, string_id};
use serde::{Deserialize, Serialize};
use std::fmt;

string_id!(
    /// A food order: `ord_` and a ULID, so ids sort by placement time.
    OrderId
);

impl OrderId {
    pub fn from_ulid(ulid: ulid::Ulid) -> Self {
        Self(format!("ord_{ulid}"))
    }
}

string_id!(
    /// A stock-keeping unit of the food inventory.
    Sku
);
