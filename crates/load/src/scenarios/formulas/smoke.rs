//! The formulas flow's smoke step: a make-up of the run's own is accepted and processed.

use crate::smoke::{Stage, seconds};
use futures::future::BoxFuture;
use serde_json::json;

pub fn smoke(stage: &Stage) -> BoxFuture<'_, Result<String, String>> {
    Box::pin(async move {
        let formula = json!({
            "name": format!("Smoke {}", stage.run),
            "materials": [{"name": format!("Smoke note {}", stage.run), "concentration": 1.5}],
        });
        let id = stage
            .create("/formulas", &formula, 202, "formula_id")
            .await?;
        let (_, took) = stage
            .until(&format!("/formulas/{id}"), "processed", |f| {
                f["status"] == "processed"
            })
            .await?;
        Ok(format!("formula {id} processed in {}", seconds(took)))
    })
}
