//! `smoke`: one short, authenticated request sequence per flow against a stage, each with the
//! invariant that says the flow works end to end there (the accepted request was processed and
//! reads back as it should). Each flow's step is its scenario's `smoke` (listed in
//! [`crate::scenarios::SMOKES`]); this module runs them and holds what they share.
//!
//! A step writes only data of its own, marked with the run (`smoke-<run>` ids, names and SKUs),
//! and acts as the stage's last listed test user on the app routes (a load run's fitness
//! clients take the test users from the first).

use crate::auth::Auth;
use crate::demo::Api;
use futures::future::BoxFuture;
use serde_json::Value;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A flow's smoke step: its name, and its run against a stage (a line saying what held, or
/// why not).
pub struct Smoke {
    pub flow: &'static str,
    pub run: for<'a> fn(&'a Stage) -> BoxFuture<'a, Result<String, String>>,
}

/// The stage under test: its API with the run's credentials, the run's marker, the app user the
/// steps act as, and how long a step waits for the work it queued.
pub struct Stage {
    pub api: Api,
    pub run: String,
    pub app_user: String,
    pub timeout: Duration,
    requests: AtomicU64,
}

impl Stage {
    /// The stage at `base`, called with `auth`; its app user is the last test user (`smoke-`
    /// and the run on the local stack, whose pool issues a token for any user).
    pub fn new(base: String, auth: Auth, timeout: Duration) -> Result<Self, String> {
        let run = format!("{:08x}", fastrand::u32(..));
        let app_user = auth
            .last_test_user()
            .unwrap_or_else(|| format!("smoke-{run}"));
        Ok(Self {
            api: Api::new(base, auth),
            run,
            app_user,
            timeout,
            requests: AtomicU64::new(0),
        })
    }

    /// `method path` (with `body`), which must answer one of `expected`; its JSON answer.
    /// POSTs carry an `Idempotency-Key` of the run's.
    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        expected: &[u16],
    ) -> Result<Value, String> {
        let text = body.map(Value::to_string).unwrap_or_default();
        let what = format!("{method} {path}");
        let mut request = self
            .api
            .send_json(method.clone(), path, &text)
            .map_err(|e| format!("{what}: {e}"))?;
        if method == reqwest::Method::POST {
            let n = self.requests.fetch_add(1, Ordering::Relaxed);
            request = request.header("idempotency-key", format!("smoke-{}-{n}", self.run));
        }
        let answer = request.send().await.map_err(|e| format!("{what}: {e}"))?;
        let status = answer.status().as_u16();
        let json: Value = answer.json().await.unwrap_or(Value::Null);
        if !expected.contains(&status) {
            return Err(format!(
                "{what}: HTTP {status}, expected {expected:?}: {json}"
            ));
        }
        Ok(json)
    }

    /// `POST path` with `body`, which must answer `status`; the id its answer names in `field`.
    pub async fn create(
        &self,
        path: &str,
        body: &Value,
        status: u16,
        field: &str,
    ) -> Result<String, String> {
        let answer = self
            .send(reqwest::Method::POST, path, Some(body), &[status])
            .await?;
        answer[field]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("POST {path}: no {field} in {answer}"))
    }

    /// `GET path` until `done` holds for its answer (`what` it waits for, in the error when the
    /// timeout passes first); the answer and how long it took.
    pub async fn until(
        &self,
        path: &str,
        what: &str,
        done: impl Fn(&Value) -> bool,
    ) -> Result<(Value, Duration), String> {
        let started = Instant::now();
        loop {
            let answer = self.send(reqwest::Method::GET, path, None, &[200]).await?;
            if done(&answer) {
                return Ok((answer, started.elapsed()));
            }
            if started.elapsed() > self.timeout {
                return Err(format!(
                    "GET {path}: not {what} after {} s: {answer}",
                    self.timeout.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }
}

/// The outcome of one flow's step.
pub struct Outcome {
    pub flow: &'static str,
    pub result: Result<String, String>,
    pub took: Duration,
}

/// Runs the steps of `flows` (every flow's when empty; an unknown name is refused with the
/// list) at once against `stage`.
pub async fn run(stage: &Stage, flows: &[String]) -> Result<Vec<Outcome>, String> {
    let all = crate::scenarios::SMOKES;
    if let Some(unknown) = flows.iter().find(|f| !all.iter().any(|s| s.flow == *f)) {
        let known: Vec<&str> = all.iter().map(|s| s.flow).collect();
        return Err(format!(
            "no smoke step for {unknown:?}; the flows': {}",
            known.join(", ")
        ));
    }
    let chosen = all
        .iter()
        .filter(|s| flows.is_empty() || flows.iter().any(|f| f == s.flow));
    let steps = chosen.map(|s| async move {
        let started = Instant::now();
        let result = (s.run)(stage).await;
        Outcome {
            flow: s.flow,
            result,
            took: started.elapsed(),
        }
    });
    Ok(futures::future::join_all(steps).await)
}

/// A duration as the report shows it.
pub fn seconds(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::{DEMOS, SMOKES};

    #[test]
    fn every_flow_has_a_smoke_step() {
        let demos: Vec<&str> = DEMOS.iter().map(|d| d.flow).collect();
        let smokes: Vec<&str> = SMOKES.iter().map(|s| s.flow).collect();
        assert_eq!(
            smokes, demos,
            "each flow's smoke step belongs in SMOKES (crates/load/src/scenarios/mod.rs)"
        );
    }

    #[tokio::test]
    async fn an_unknown_flow_is_refused_with_the_list_and_a_refused_request_fails_its_step() {
        let stage = Stage::new(
            "http://127.0.0.1:9".into(),
            Auth::new(None, None).unwrap(),
            Duration::from_secs(1),
        )
        .unwrap();
        assert!(stage.app_user.starts_with("smoke-"));
        let refused = run(&stage, &["nosuch".into()]).await.err().unwrap();
        assert!(refused.contains("rentals, formulas"), "{refused}");
        // Nothing listens there: every step fails, saying which request.
        let outcomes = run(&stage, &["tasks".into()]).await.unwrap();
        let failed = outcomes[0].result.as_ref().unwrap_err();
        assert!(failed.starts_with("POST /tasks:"), "{failed}");
    }
}
