//! The rentals flow's smoke step: a bin's scan of a rental that cannot exist (a user and asset
//! of the run's own) is accepted, decided by the rental-return consumer, and records the bin.

use crate::smoke::{Stage, seconds};
use base64::Engine;
use futures::future::BoxFuture;
use serde_json::json;

pub fn smoke(stage: &Stage) -> BoxFuture<'_, Result<String, String>> {
    Box::pin(async move {
        let qr = |id: String| base64::engine::general_purpose::STANDARD.encode(id);
        let scan = json!({
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "location_id": format!("smoke-{}", stage.run),
            "user_qr_data": qr(format!("smoke-user-{}", stage.run)),
            "asset_qr_data": qr(format!("smoke-asset-{}", stage.run)),
        });
        let id = stage
            .create("/rentals/returns", &scan, 202, "return_id")
            .await?;
        let path = format!("/rentals/returns/{id}");
        let (decided, took) = stage
            .until(&path, "decided", |r| r["status"] != "pending")
            .await?;
        let bin = decided["bin"]
            .as_str()
            .ok_or_else(|| format!("GET {path}: no bin recorded: {decided}"))?;
        Ok(format!(
            "return {id} decided {} ({}) in {}, from bin {bin}",
            decided["status"].as_str().unwrap_or("?"),
            decided["reason"].as_str().unwrap_or("no reason"),
            seconds(took)
        ))
    })
}
