//! The events of the formula flow.

use super::Fingerprint;
use crate::PortError;
use crate::events::{Event, Outbound};
use crate::formulas::FormulaId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A formula was stored and awaits processing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FormulaSubmitted {
    pub formula_id: FormulaId,
    pub fingerprint: Fingerprint,
}

/// A work item with a queue of its own: formulas are independent, so they are read in batches
/// and never wait behind the strictly serial task stream.
impl Event for FormulaSubmitted {
    const TYPE: &'static str = "FormulaSubmitted";
    const CHANNEL: &'static str = "formulas";
}

impl FormulaSubmitted {
    /// Each formula is its own aggregate (and message group).
    pub fn outbound(&self, at: DateTime<Utc>) -> Result<Outbound, PortError> {
        Outbound::new(
            self,
            self.formula_id.as_str(),
            format!("formula-{}", self.formula_id),
            at,
        )
    }
}
