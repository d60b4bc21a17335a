//! The formula flow's port, `FormulaStore`, run against the in-memory adapter and the DynamoDB
//! Local one: a make-up is stored once with its event (a second submission of it is a
//! `Duplicate` that writes nothing), reads back as stored, and is marked processed once; an
//! unknown formula reads as absent and cannot be marked.

use async_trait::async_trait;
use domain::events::{DomainEvent, Outbound};
use domain::formulas::memory::InMemoryFormulaStore;
use domain::formulas::ports::{FormulaStore, FormulaSubmission};
use domain::formulas::{Formula, FormulaStatus, FormulaSubmitted, NewFormula};
use domain::ids::EventId;
use domain::formulas::FormulaId;
use domain::time::parse_event_time;
use integration_tests::DynamoTables;
use platform::dynamo::formula_store::DynamoFormulaStore;
use serde_json::json;

/// The formula store of one adapter, and its outbox.
#[async_trait]
trait FormulaPorts: Send + Sync {
    fn store(&self) -> &dyn FormulaStore;
    /// The events written with submissions, ordered by id.
    async fn outbox(&self) -> Vec<DomainEvent>;
}

#[async_trait]
impl FormulaPorts for InMemoryFormulaStore {
    fn store(&self) -> &dyn FormulaStore {
        self
    }
    async fn outbox(&self) -> Vec<DomainEvent> {
        let mut events = self.events();
        events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        events
    }
}

struct Dynamo {
    tables: DynamoTables,
    store: DynamoFormulaStore,
}

#[async_trait]
impl FormulaPorts for Dynamo {
    fn store(&self) -> &dyn FormulaStore {
        &self.store
    }
    async fn outbox(&self) -> Vec<DomainEvent> {
        self.tables
            .outbox()
            .await
            .into_iter()
            .map(|r| r.1)
            .collect()
    }
}

async fn in_memory() -> InMemoryFormulaStore {
    InMemoryFormulaStore::default()
}

async fn dynamodb_local() -> Dynamo {
    let tables = DynamoTables::start(&["formulas", "outbox"]).await;
    let store = DynamoFormulaStore::new(
        tables.client.clone(),
        tables.table("formulas"),
        tables.table("outbox"),
    );
    Dynamo { tables, store }
}

integration_tests::contract_tests!(in_memory: in_memory, dynamodb_local: dynamodb_local;
    an_unknown_formula_reads_as_absent,
    a_new_make_up_is_stored_with_its_event,
    a_second_submission_of_a_stored_make_up_is_a_duplicate_and_writes_nothing,
    of_identical_submissions_racing_exactly_one_is_created,
    a_formula_is_marked_processed_once,
    marking_an_unknown_formula_is_a_permanent_error,
);

/// A pending formula of `rose` percent rose under `id` and `name`, and its event.
fn formula(id: &str, name: &str, rose: &str) -> (Formula, Outbound) {
    let new = NewFormula::from_json(&json!({"name": name, "materials": [
        {"name": "Rose", "concentration": rose}, {"name": "Musk", "concentration": "2.5"}]}))
    .unwrap();
    let formula = Formula {
        formula_id: FormulaId::parse(id).unwrap(),
        name: new.name.clone(),
        fingerprint: new.fingerprint(),
        materials: new.materials,
        status: FormulaStatus::Pending,
    };
    let event = FormulaSubmitted {
        formula_id: formula.formula_id.clone(),
        fingerprint: formula.fingerprint.clone(),
    }
    .outbound(parse_event_time("2026-12-01T12:00:00Z").unwrap())
    .unwrap();
    (formula, event)
}

async fn get(p: &dyn FormulaPorts, id: &FormulaId) -> Option<Formula> {
    p.store().get(id).await.unwrap()
}

async fn an_unknown_formula_reads_as_absent(p: &dyn FormulaPorts) {
    let (stored, event) = formula("frm_pc_1", "A", "10");
    p.store().submit(&stored, &event).await.unwrap();
    assert_eq!(
        get(p, &FormulaId::parse("frm_pc_unknown").unwrap()).await,
        None
    );
}

async fn a_new_make_up_is_stored_with_its_event(p: &dyn FormulaPorts) {
    let (a, event_a) = formula("frm_pc_1", "A", "10");
    let (b, event_b) = formula("frm_pc_2", "B", "12.25");
    assert_eq!(
        p.store().submit(&a, &event_a).await.unwrap(),
        FormulaSubmission::Created
    );
    assert_eq!(
        p.store().submit(&b, &event_b).await.unwrap(),
        FormulaSubmission::Created
    );
    assert_eq!(get(p, &a.formula_id).await, Some(a));
    assert_eq!(get(p, &b.formula_id).await, Some(b));
    let mut events = vec![event_a.event, event_b.event];
    events.sort_by(|x, y| x.event_id.cmp(&y.event_id));
    assert_eq!(p.outbox().await, events);
}

async fn a_second_submission_of_a_stored_make_up_is_a_duplicate_and_writes_nothing(
    p: &dyn FormulaPorts,
) {
    let (first, event) = formula("frm_pc_1", "First", "10");
    assert_eq!(
        p.store().submit(&first, &event).await.unwrap(),
        FormulaSubmission::Created
    );
    // The same make-up (so the same id) under another name, with an event of its own.
    let (mut again, mut again_event) = formula("frm_pc_1", "Again", "10.00");
    again_event.event.occurred_at = parse_event_time("2026-12-02T12:00:00Z").unwrap();
    again_event.event.event_id = EventId::parse("evt_pc_again").unwrap();
    assert_eq!(
        p.store().submit(&again, &again_event).await.unwrap(),
        FormulaSubmission::Duplicate(first.formula_id.clone())
    );
    again.status = FormulaStatus::Processed;
    assert_eq!(
        p.store().submit(&again, &again_event).await.unwrap(),
        FormulaSubmission::Duplicate(first.formula_id.clone())
    );
    assert_eq!(get(p, &first.formula_id).await, Some(first), "unchanged");
    assert_eq!(p.outbox().await, vec![event.event], "one event");
}

async fn of_identical_submissions_racing_exactly_one_is_created(p: &dyn FormulaPorts) {
    let (a, event) = formula("frm_pc_1", "A", "10");
    let (b, _) = formula("frm_pc_1", "B", "10");
    let (ra, rb) = tokio::join!(p.store().submit(&a, &event), p.store().submit(&b, &event));
    let mut outcomes = [ra.unwrap(), rb.unwrap()];
    outcomes.sort_by_key(|o| matches!(o, FormulaSubmission::Duplicate(_)));
    assert_eq!(
        outcomes,
        [
            FormulaSubmission::Created,
            FormulaSubmission::Duplicate(a.formula_id.clone())
        ]
    );
    let stored = get(p, &a.formula_id).await.unwrap();
    assert!(stored == a || stored == b, "one of them: {stored:?}");
    assert_eq!(p.outbox().await, vec![event.event]);
}

async fn a_formula_is_marked_processed_once(p: &dyn FormulaPorts) {
    let (a, event_a) = formula("frm_pc_1", "A", "10");
    let (b, event_b) = formula("frm_pc_2", "B", "20");
    p.store().submit(&a, &event_a).await.unwrap();
    p.store().submit(&b, &event_b).await.unwrap();
    assert!(p.store().mark_processed(&a.formula_id).await.unwrap());
    let processed = Formula {
        status: FormulaStatus::Processed,
        ..a.clone()
    };
    assert_eq!(get(p, &a.formula_id).await, Some(processed.clone()));
    assert!(
        !p.store().mark_processed(&a.formula_id).await.unwrap(),
        "it already was"
    );
    assert_eq!(get(p, &a.formula_id).await, Some(processed));
    assert_eq!(get(p, &b.formula_id).await, Some(b), "the other is pending");
}

async fn marking_an_unknown_formula_is_a_permanent_error(p: &dyn FormulaPorts) {
    let unknown = FormulaId::parse("frm_pc_unknown").unwrap();
    let err = p.store().mark_processed(&unknown).await.unwrap_err();
    assert!(!err.is_retryable(), "{err}");
    assert_eq!(get(p, &unknown).await, None, "nothing created");
}
