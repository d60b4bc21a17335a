//! Returns: a bin posting scans, each a new return (at a time of this run's own), decided
//! completed or rejected; afterwards every accepted return is decided.

pub mod demo;
pub mod smoke;

use super::{Accepted, USERS};
use crate::harness::{Check, Harness, settle_all, submit};
use crate::scenario::Scenario;
use base64::Engine;
use goose::prelude::*;
use serde_json::json;
use std::time::Duration;

/// The reference assets (`data/topanga/`).
const ASSETS: u32 = 50;

#[derive(Default)]
pub struct Returns {
    accepted: Accepted<String>,
}

fn qr(id: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(id)
}

#[async_trait::async_trait]
impl Scenario for Returns {
    fn name(&self) -> &'static str {
        "returns"
    }

    fn weight(&self) -> usize {
        2
    }

    fn step_name(&self) -> &'static str {
        "POST /rentals/returns"
    }

    async fn step(&self, user: &mut GooseUser, h: &Harness) -> TransactionResult {
        // A scan at a time of this run's own: each is a new return (its id is derived from the
        // scan), decided completed or rejected.
        let n = h.next();
        let base = chrono::NaiveDate::from_ymd_opt(2025, 2, 10)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .unwrap_or_default();
        let offset = i64::from(u32::from_str_radix(&h.run[..4], 16).unwrap_or(0));
        let at = base + chrono::Duration::seconds(offset * 100_000 + n as i64);
        let body = json!({
            "timestamp": at.format("%Y-%m-%dT%H:%M:%S").to_string(),
            "location_id": "load-bin",
            "user_qr_data": qr(USERS[fastrand::usize(..USERS.len())]),
            "asset_qr_data": qr(&format!("tpg_a{:05}", fastrand::u32(1..=ASSETS))),
        });
        if let Some(id) = submit(user, h, "/rentals/returns", &body, "return_id").await? {
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
            .map(|id| format!("/rentals/returns/{id}"))
            .collect();
        if paths.is_empty() {
            return Vec::new();
        }
        let checked = paths.len();
        let (_, failures) = settle_all(http, h, paths, &["completed", "rejected"], settle).await;
        vec![Check {
            name: "every accepted return decided".into(),
            checked,
            failures,
        }]
    }
}
