//! The formulas flow's own ids.

use crate::ids::{IdError, check_id, string_id};
use serde::{Deserialize, Serialize};
use std::fmt;

string_id!(
    /// A stored formula; derived from its make-up's fingerprint, so one make-up has one id.
    FormulaId
);
