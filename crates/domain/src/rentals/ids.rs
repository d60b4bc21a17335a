//! The rentals flow's own ids.

use crate::ids::{IdError, check_id, string_id};
use serde::{Deserialize, Serialize};
use std::fmt;

string_id!(
    /// A reusable container.
    AssetId
);

string_id!(
    /// One checkout of an asset by a user.
    RentalId
);

string_id!(
    /// A return bin's site.
    LocationId
);

string_id!(
    /// One scan at a return bin; derived from the scan so that a repeated scan has the same id.
    ReturnId
);
