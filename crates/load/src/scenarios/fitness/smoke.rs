//! The fitness flow's smoke step: the app user's launch is accepted and shows in its activity.
//!
//! A user's activity lists its first launches by event id (`ACTIVITY_ITEMS` of them); the
//! smoke launches' ids count down with time, so the newest sorts first however many earlier
//! runs the user has.

use crate::smoke::{Stage, seconds};
use chrono::{DateTime, Utc};
use futures::future::BoxFuture;
use reqwest::Method;
use serde_json::json;

pub fn smoke(stage: &Stage) -> BoxFuture<'_, Result<String, String>> {
    Box::pin(async move {
        let user = &stage.app_user;
        let at = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap_or_else(Utc::now);
        let countdown = u64::MAX - u64::try_from(at.timestamp_millis()).unwrap_or(0);
        let event_id = format!("smoke-{countdown:016x}-{}", stage.run);
        let launch = json!({"schema_version": 2, "event_id": event_id,
                            "user_id": user, "type": "app_launch", "time": at.to_rfc3339(),
                            "payload": {}});
        stage
            .send(Method::POST, "/v1/event", Some(&launch), &[202])
            .await?;
        let path = format!("/v1/users/{user}/activity");
        let (_, took) = stage
            .until(&path, "showing the launch", |a| {
                a["launches"].as_array().into_iter().flatten().any(|l| {
                    l["launched_at"]
                        .as_str()
                        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                        .is_some_and(|t| t == at)
                })
            })
            .await?;
        Ok(format!(
            "{user}'s launch at {} in its activity after {}",
            at.to_rfc3339(),
            seconds(took)
        ))
    })
}
