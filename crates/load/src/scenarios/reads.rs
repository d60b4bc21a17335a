//! Reads: a user's rentals or stats, for a reference user.

use super::USERS;
use crate::harness::{Check, Harness, call};
use crate::scenario::Scenario;
use goose::prelude::*;
use std::time::Duration;

pub struct Reads;

#[async_trait::async_trait]
impl Scenario for Reads {
    fn name(&self) -> &'static str {
        "reads"
    }

    fn weight(&self) -> usize {
        5
    }

    fn step_name(&self) -> &'static str {
        "read a user's rentals and stats"
    }

    async fn step(&self, user: &mut GooseUser, h: &Harness) -> TransactionResult {
        let who = USERS[fastrand::usize(..USERS.len())];
        let (path, name) = if fastrand::bool() {
            (format!("/users/{who}/rentals"), "GET /users/{id}/rentals")
        } else {
            (format!("/users/{who}/stats"), "GET /users/{id}/stats")
        };
        call(user, h, GooseMethod::Get, &path, name, None, &[200]).await?;
        Ok(())
    }

    fn accepted(&self) -> usize {
        0
    }

    /// Reads change nothing: their answers' statuses are the whole check (the run's summary).
    async fn check(&self, _: &Harness, _: &reqwest::Client, _: Duration) -> Vec<Check> {
        Vec::new()
    }
}
