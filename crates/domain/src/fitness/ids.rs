//! The fitness flow's own ids.

use crate::ids::{IdError, check_id, string_id};
use serde::{Deserialize, Serialize};
use std::fmt;

string_id!(
    /// A training program of the fitness app's catalogue.
    ProgramId
);
