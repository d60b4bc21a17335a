use super::events::FormulaSubmitted;
use super::formula::{Formula, FormulaStatus, NewFormula};
use super::ports::{FormulaStore, FormulaSubmission};
use crate::PortError;
use crate::events::{Delivery, DomainEvent, EventHandler};
use crate::formulas::FormulaId;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use std::sync::Arc;
use tracing::info;

/// Stores a validated formula, with the event that gets it processed, unless one with the same
/// make-up exists. The id derives from the fingerprint: concurrent identical submissions all
/// race for the same item, and the store's conditional write lets exactly one win.
pub async fn submit_formula(
    store: &dyn FormulaStore,
    new: NewFormula,
    at: DateTime<Utc>,
) -> Result<(FormulaId, FormulaSubmission), PortError> {
    let fingerprint = new.fingerprint();
    let digest = fingerprint.as_str().trim_start_matches("fp_");
    let formula_id = FormulaId::from_trusted(format!("frm_{}", &digest[..32]));
    let formula = Formula {
        formula_id: formula_id.clone(),
        name: new.name,
        materials: new.materials,
        fingerprint: fingerprint.clone(),
        status: FormulaStatus::Pending,
    };
    let event = FormulaSubmitted {
        formula_id: formula_id.clone(),
        fingerprint,
    }
    .outbound(at)?;
    let outcome = store.submit(&formula, &event).await?;
    Ok((formula_id, outcome))
}

/// Processes a submitted formula: marks it `processed`, once however often it is delivered.
#[derive(Clone)]
pub struct ProcessFormula(pub Arc<dyn FormulaStore>);

#[async_trait]
impl EventHandler<FormulaSubmitted> for ProcessFormula {
    async fn handle(
        &self,
        event: FormulaSubmitted,
        _: &DomainEvent,
        _: Delivery,
    ) -> Result<(), PortError> {
        let first_time = self.0.mark_processed(&event.formula_id).await?;
        info!(formula_id = %event.formula_id, first_time, "formula processed");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::formulas::memory::InMemoryFormulaStore;
    use serde_json::json;

    fn new(name: &str, rose: serde_json::Value) -> NewFormula {
        NewFormula::from_json(
            &json!({"name": name, "materials": [{"name": "Rose", "concentration": rose}]}),
        )
        .unwrap()
    }

    #[tokio::test]
    async fn the_first_make_up_is_stored_and_a_duplicate_refused_with_the_existing_id() {
        let store = InMemoryFormulaStore::default();
        let (id, outcome) = submit_formula(&store, new("A", json!(10)), Utc::now())
            .await
            .unwrap();
        assert_eq!(outcome, FormulaSubmission::Created);
        assert!(id.as_str().starts_with("frm_"));
        let (again, outcome) = submit_formula(&store, new("B", json!("10.00")), Utc::now())
            .await
            .unwrap();
        assert_eq!(
            (again, outcome),
            (id.clone(), FormulaSubmission::Duplicate(id.clone()))
        );
        assert_eq!(store.events().len(), 1);
        assert_eq!(store.get(&id).await.unwrap().unwrap().name, "A");
        let (other, outcome) = submit_formula(&store, new("A", json!(11)), Utc::now())
            .await
            .unwrap();
        assert_eq!(outcome, FormulaSubmission::Created);
        assert_ne!(other, id, "same name, other make-up: another formula");
    }

    #[tokio::test]
    async fn processing_marks_once_and_an_unknown_formula_is_permanent() {
        let store = Arc::new(InMemoryFormulaStore::default());
        let (id, _) = submit_formula(&*store, new("A", json!(10)), Utc::now())
            .await
            .unwrap();
        let envelope = store.events().pop().unwrap();
        assert_eq!(envelope.event_type, "FormulaSubmitted");
        assert_eq!(envelope.aggregate_id, format!("formula-{id}"));
        let event: FormulaSubmitted = envelope.decode().unwrap();
        let handler = ProcessFormula(store.clone());
        let delivery = Delivery {
            receive_count: 1,
            max_receives: 3,
        };
        for _ in 0..2 {
            handler
                .handle(event.clone(), &envelope, delivery)
                .await
                .unwrap();
        }
        assert!(!store.mark_processed(&id).await.unwrap());
        let gone = FormulaSubmitted {
            formula_id: FormulaId::parse("frm_gone").unwrap(),
            ..event
        };
        let err = handler.handle(gone, &envelope, delivery).await.unwrap_err();
        assert!(!err.is_retryable());
        assert_eq!(
            store.get(&id).await.unwrap().unwrap().status,
            FormulaStatus::Processed
        );
    }
}
