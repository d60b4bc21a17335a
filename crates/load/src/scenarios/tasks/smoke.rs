//! The tasks flow's smoke step: a task is accepted, numbered and completed.

use crate::smoke::{Stage, seconds};
use futures::future::BoxFuture;
use serde_json::json;

pub fn smoke(stage: &Stage) -> BoxFuture<'_, Result<String, String>> {
    Box::pin(async move {
        let task =
            json!({"title": format!("smoke {}", stage.run), "description": "", "priority": "low"});
        let id = stage.create("/tasks", &task, 202, "task_id").await?;
        let path = format!("/tasks/{id}");
        let (settled, took) = stage
            .until(&path, "settled", |t| {
                t["status"] == "completed" || t["status"] == "failed"
            })
            .await?;
        if settled["status"] != "completed" || !settled["sequence"].is_u64() {
            return Err(format!(
                "GET {path}: not completed with a number: {settled}"
            ));
        }
        Ok(format!(
            "task {id} completed as #{} in {}",
            settled["sequence"],
            seconds(took)
        ))
    })
}
