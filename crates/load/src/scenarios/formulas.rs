//! Formulas: every submission a new make-up; afterwards every accepted formula is processed.

pub mod demo;
pub mod smoke;

use super::Accepted;
use crate::harness::{Check, Harness, settle_all, submit};
use crate::scenario::Scenario;
use goose::prelude::*;
use serde_json::json;
use std::time::Duration;

#[derive(Default)]
pub struct Formulas {
    accepted: Accepted<String>,
}

#[async_trait::async_trait]
impl Scenario for Formulas {
    fn name(&self) -> &'static str {
        "formulas"
    }

    fn weight(&self) -> usize {
        1
    }

    fn step_name(&self) -> &'static str {
        "POST /formulas"
    }

    async fn step(&self, user: &mut GooseUser, h: &Harness) -> TransactionResult {
        let n = h.next();
        let body = json!({
            "name": format!("Load {} #{n}", h.run),
            "materials": [
                {"name": format!("Accord {}-{n}", h.run), "concentration": 12.5},
                {"name": "Bergamot Oil", "concentration": 3},
            ],
        });
        if let Some(id) = submit(user, h, "/formulas", &body, "formula_id").await? {
            self.accepted.push(id);
        }
        Ok(())
    }

    fn accepted(&self) -> usize {
        self.accepted.len()
    }

    async fn check(&self, h: &Harness, http: &reqwest::Client, settle: Duration) -> Vec<Check> {
        let paths: Vec<String> = self
            .accepted
            .all()
            .iter()
            .map(|id| format!("/formulas/{id}"))
            .collect();
        if paths.is_empty() {
            return Vec::new();
        }
        let checked = paths.len();
        let (_, failures) = settle_all(http, h, paths, &["processed"], settle).await;
        vec![Check {
            name: "every accepted formula processed".into(),
            checked,
            failures,
        }]
    }
}
