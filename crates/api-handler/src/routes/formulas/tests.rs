//! The formula routes' HTTP contract, with in-memory ports.

use crate::routes::tests::{call, services};
use axum::http::StatusCode;
use domain::formulas::memory::InMemoryFormulaStore;
use serde_json::json;

#[tokio::test]
async fn a_formula_is_accepted_once_and_readable_with_its_status() {
    let s = services();
    let body = r#"{"name": "Summer Breeze", "materials": [{"name": "Bergamot Oil", "concentration": 15.5}, {"name": "Rose", "concentration": 4}]}"#;
    let (status, created) = call(&s, "POST", "/formulas", Some(body)).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let id = created["formula_id"].as_str().unwrap().to_owned();
    let rewritten = r#"{"name": "Other", "materials": [{"name": " rose ", "concentration": "4.00"}, {"name": "BERGAMOT OIL", "concentration": 15.50}]}"#;
    let (status, dup) = call(&s, "POST", "/formulas", Some(rewritten)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(dup["formula_id"], id.as_str());
    assert_eq!(dup["error"]["code"], "duplicate_formula");
    assert_eq!(
        s.port::<InMemoryFormulaStore>().events().len(),
        1,
        "nothing published for the duplicate"
    );
    let (status, got) = call(&s, "GET", &format!("/formulas/{id}"), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["status"], "pending");
    assert_eq!(got["name"], "Summer Breeze");
    assert_eq!(
        got["materials"][0],
        json!({"name": "Bergamot Oil", "concentration": 15.5})
    );
}

#[tokio::test]
async fn invalid_formulas_are_400_with_a_code_per_problem() {
    let s = services();
    let (status, body) = call(
        &s,
        "POST",
        "/formulas",
        Some(r#"{"name": "", "materials": [{"name": "a", "concentration": 101}]}"#),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let codes: Vec<&str> = body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["empty_name", "concentration_out_of_range"]);
    let (status, body) = call(&s, "GET", "/formulas/frm_unknown", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (StatusCode::NOT_FOUND, Some("formula_not_found"))
    );
}
