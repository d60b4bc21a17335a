//! What the formula flow needs from storage.

use super::Formula;
use crate::PortError;
use crate::events::Outbound;
use crate::formulas::FormulaId;
use async_trait::async_trait;

/// What storing a formula found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FormulaSubmission {
    Created,
    /// A formula with the same make-up exists; nothing was stored or published.
    Duplicate(FormulaId),
}

#[async_trait]
pub trait FormulaStore: Send + Sync {
    /// Stores `formula` and the event it emits in one transaction, unless its make-up is taken.
    async fn submit(
        &self,
        formula: &Formula,
        event: &Outbound,
    ) -> Result<FormulaSubmission, PortError>;
    async fn get(&self, id: &FormulaId) -> Result<Option<Formula>, PortError>;
    /// Marks the formula processed; `false` when it already was.
    async fn mark_processed(&self, id: &FormulaId) -> Result<bool, PortError>;
}
