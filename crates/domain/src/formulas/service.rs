use super::formula::{Formula, FormulaStatus, NewFormula};
use crate::PortError;
use crate::events::{DomainEvent, FormulaSubmitted};
use crate::ids::FormulaId;
use crate::ports::{FormulaStore, FormulaSubmission};
use chrono::{DateTime, Utc};

/// Stores a validated formula, with the event that gets it processed, unless one with the same
/// make-up exists. The id derives from the fingerprint: concurrent identical submissions all
/// race for the same item, and the store's conditional write lets exactly one win.
pub async fn submit_formula<S: FormulaStore>(
    store: &S,
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
    let event = DomainEvent::formula_submitted(
        FormulaSubmitted {
            formula_id: formula_id.clone(),
            fingerprint,
        },
        at,
    );
    let outcome = store.submit(&formula, &event).await?;
    Ok((formula_id, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::InMemoryFormulaStore;
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
    async fn processing_marks_once() {
        let store = InMemoryFormulaStore::default();
        let (id, _) = submit_formula(&store, new("A", json!(10)), Utc::now())
            .await
            .unwrap();
        assert!(store.mark_processed(&id).await.unwrap());
        assert!(!store.mark_processed(&id).await.unwrap());
        assert_eq!(
            store.get(&id).await.unwrap().unwrap().status,
            FormulaStatus::Processed
        );
    }
}
