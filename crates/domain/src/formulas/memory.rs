//! Formulas in memory, with the DynamoDB adapter's conditional semantics.

use super::Formula;
use super::ports::{FormulaStore, FormulaSubmission};
use crate::PortError;
use crate::events::{DomainEvent, Outbound};
use crate::formulas::FormulaId;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

#[derive(Default)]
pub struct InMemoryFormulaStore {
    state: Mutex<(BTreeMap<FormulaId, Formula>, Vec<DomainEvent>)>,
}

impl InMemoryFormulaStore {
    fn lock(&self) -> MutexGuard<'_, (BTreeMap<FormulaId, Formula>, Vec<DomainEvent>)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn events(&self) -> Vec<DomainEvent> {
        self.lock().1.clone()
    }
}

#[async_trait]
impl FormulaStore for InMemoryFormulaStore {
    async fn submit(
        &self,
        formula: &Formula,
        event: &Outbound,
    ) -> Result<FormulaSubmission, PortError> {
        let mut s = self.lock();
        if s.0.contains_key(&formula.formula_id) {
            return Ok(FormulaSubmission::Duplicate(formula.formula_id.clone()));
        }
        s.0.insert(formula.formula_id.clone(), formula.clone());
        s.1.push(event.event.clone());
        Ok(FormulaSubmission::Created)
    }

    async fn get(&self, id: &FormulaId) -> Result<Option<Formula>, PortError> {
        Ok(self.lock().0.get(id).cloned())
    }

    async fn mark_processed(&self, id: &FormulaId) -> Result<bool, PortError> {
        match self.lock().0.get_mut(id) {
            Some(f) => Ok(f.mark_processed()),
            None => Err(PortError::Permanent(format!("no formula {id}"))),
        }
    }
}
