use crate::body::{JsonBody, PathParams};
use crate::error::ApiError;
use crate::flow::{ApiFlow, FlowRoutes, Routes};
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use domain::formulas::FormulaId;
use domain::formulas::ports::{FormulaStore, FormulaSubmission};
use domain::formulas::{Formula, NewFormula, submit_formula};
use platform::ConfigError;
use platform::dynamo::formula_store::DynamoFormulaStore;
use platform::wiring::Aws;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use tracing::instrument;

/// What the formula routes reach the outside world through.
#[derive(Clone)]
pub struct Formulas {
    pub store: Arc<dyn FormulaStore>,
}

pub const FLOW: ApiFlow = ApiFlow {
    name: "formulas",
    field_codes: domain::formulas::FIELD_CODES,
    from_aws,
    #[cfg(any(test, feature = "memory"))]
    in_memory,
};

fn from_aws(aws: &Aws) -> Result<Routes, ConfigError> {
    let store = DynamoFormulaStore::new(
        aws.dynamo.clone(),
        aws.vars.table("formulas")?,
        aws.vars.table("outbox")?,
    );
    Ok(routes(Formulas {
        store: Arc::new(store),
    }))
}

#[cfg(any(test, feature = "memory"))]
fn in_memory(ports: &platform::wiring::Ports) -> Routes {
    routes(Formulas {
        store: ports.port::<domain::formulas::memory::InMemoryFormulaStore>(),
    })
}

pub fn routes(state: Formulas) -> Routes {
    FlowRoutes::default()
        .post("/formulas", submit)
        .get("/formulas/{formula_id}", get_formula)
        .with_state(Arc::new(state))
}

/// `POST /formulas`: validates, then stores the formula and its work item atomically unless
/// the same make-up exists: `202 {"formula_id"}`, or `409` naming the existing formula.
#[instrument(skip_all)]
pub async fn submit(
    State(p): State<Arc<Formulas>>,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let new = NewFormula::from_json(&body)?;
    let (id, outcome) = submit_formula(&*p.store, new, chrono::Utc::now()).await?;
    Ok(match outcome {
        FormulaSubmission::Created => (
            StatusCode::ACCEPTED,
            [(header::LOCATION, format!("/formulas/{id}"))],
            Json(json!({"formula_id": id})),
        )
            .into_response(),
        FormulaSubmission::Duplicate(existing) => ApiError::Conflict {
            code: "duplicate_formula",
            message: "a formula with the same make-up exists".into(),
            location: Some(format!("/formulas/{existing}")),
            fields: Map::from_iter([("formula_id".to_owned(), json!(existing))]),
        }
        .into_response(),
    })
}

/// `GET /formulas/{formula_id}`: the formula and its processing status.
#[instrument(skip(p))]
pub async fn get_formula(
    State(p): State<Arc<Formulas>>,
    PathParams(id): PathParams<FormulaId>,
) -> Result<Json<Value>, ApiError> {
    let formula = p.store.get(&id).await?.ok_or_else(|| ApiError::NotFound {
        code: "formula_not_found",
        message: format!("no formula {id}"),
    })?;
    Ok(Json(formula_json(&formula)))
}

fn formula_json(f: &Formula) -> Value {
    let materials: Vec<Value> = f
        .materials
        .iter()
        .map(|m| {
            // A JSON number, written from the exact decimal's text.
            let concentration: Value =
                serde_json::from_str(&m.concentration.to_string()).unwrap_or(Value::Null);
            json!({"name": m.name.as_str(), "concentration": concentration})
        })
        .collect();
    json!({
        "formula_id": f.formula_id,
        "name": f.name,
        "materials": materials,
        "fingerprint": f.fingerprint,
        "status": f.status,
    })
}

#[cfg(test)]
mod tests;
