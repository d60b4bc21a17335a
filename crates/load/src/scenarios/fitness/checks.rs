//! The fitness scenario's invariants, from the local notification sink once the run is over.

use super::{Expected, parse, percentile};
use crate::harness::received;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

/// How long to read the sink for the run's notifications.
pub(super) struct Wait {
    /// The run's app users.
    pub ours: BTreeSet<String>,
    /// A window and a bit: every timer set during the attack is due by then.
    pub hold: Duration,
    pub settle: Duration,
}

impl Wait {
    /// The run's notifications: read until the timers are due, each certain user's are exactly
    /// those predicted and the sink has held still for a few seconds, or the settle time (at
    /// least `hold` and 30 s) has passed. A quiet sink with notifications missing is no reason to stop early: a
    /// timer whose delivery was cut off comes back only after the queue's visibility timeout.
    pub async fn received(
        &self,
        http: &reqwest::Client,
        notify: &str,
        certain: &BTreeMap<&String, &Expected>,
    ) -> Result<Vec<Value>, String> {
        let started = Instant::now();
        let deadline = started + self.settle.max(self.hold + Duration::from_secs(30));
        let mut last_change = Instant::now();
        let mut last_len = usize::MAX;
        loop {
            let ours: Vec<Value> = received(http, notify)
                .await?
                .into_iter()
                .filter(|r| user_of(r).is_some_and(|u| self.ours.contains(u)))
                .collect();
            if ours.len() != last_len {
                last_len = ours.len();
                last_change = Instant::now();
            }
            let timers_due = started.elapsed() > self.hold;
            let still = last_change.elapsed() > Duration::from_secs(5);
            // Every certain user's notifications as the rules predict, not merely as many: a
            // missing timer nudge and a congratulation elsewhere would add up the same.
            let all_in = Tally::of(&ours).mismatches(certain).is_empty();
            if timers_due && all_in && still || Instant::now() > deadline {
                return Ok(ours);
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }
}

fn user_of(r: &Value) -> Option<&str> {
    r["body"]["user_id"].as_str()
}

/// What the sink received, by user: congratulations and nudges, repeats, early timer nudges,
/// and how late each timer nudge came after its window.
#[derive(Default)]
pub(super) struct Tally {
    got: BTreeMap<String, Expected>,
    pub duplicates: Vec<String>,
    pub early: Vec<String>,
    pub lateness_ms: Vec<i64>,
}

impl Tally {
    pub fn of(received: &[Value]) -> Self {
        let mut tally = Self::default();
        let mut seen = BTreeSet::new();
        for r in received {
            // A repeat under the same Idempotency-Key is one the service drops (a notifier that
            // crashed, or lost the answer, sends it again by design): not a second effect.
            if r["duplicate"] == true {
                continue;
            }
            let b = &r["body"];
            let user = b["user_id"].as_str().unwrap_or_default().to_owned();
            let id = b["data"]["event_id"].as_str().unwrap_or_default();
            if !seen.insert(id.to_owned()) {
                tally.duplicates.push(format!("{user}: {} {id}", b["kind"]));
                continue;
            }
            tally.count(user, r);
        }
        tally.lateness_ms.sort_unstable();
        tally
    }

    fn count(&mut self, user: String, r: &Value) {
        let b = &r["body"];
        let e = self.got.entry(user.clone()).or_default();
        match b["kind"].as_str() {
            Some("training_congratulation") => {
                let started = parse(&b["data"]["started_at"]);
                if let (Some(at), Some(m)) = (started, b["data"]["minutes"].as_i64()) {
                    e.congratulations.insert((at, m));
                }
            }
            Some("training_nudge") => {
                if let Some(at) = parse(&b["data"]["launched_at"]) {
                    e.nudges.insert(at);
                }
                if b["data"]["settled_by"] == "timer"
                    && let (Some(due), Some(came)) =
                        (parse(&b["data"]["due_at"]), parse(&r["received_at"]))
                {
                    let late = (came - due).num_milliseconds();
                    if late < 0 {
                        self.early
                            .push(format!("{user}: {late} ms before its window ended"));
                    }
                    self.lateness_ms.push(late);
                }
            }
            _ => {}
        }
    }

    /// Each certain user's notifications against what its stream calls for.
    pub fn mismatches(&self, certain: &BTreeMap<&String, &Expected>) -> Vec<String> {
        let mut mismatches = Vec::new();
        for (user, want) in certain {
            let have = self.got.get(*user).cloned().unwrap_or_default();
            if have.congratulations != want.congratulations {
                mismatches.push(format!(
                    "{user}: congratulations {:?}, expected {:?}",
                    have.congratulations, want.congratulations
                ));
            }
            if have.nudges != want.nudges {
                mismatches.push(format!(
                    "{user}: nudges for launches {:?}, expected {:?}",
                    have.nudges, want.nudges
                ));
            }
        }
        mismatches
    }

    pub fn lateness(&self) -> String {
        let l = &self.lateness_ms;
        format!(
            "timer nudges {}: lateness after the window p50 {} ms, p99 {} ms, max {} ms",
            l.len(),
            percentile(l, 0.5),
            percentile(l, 0.99),
            l.last().copied().unwrap_or(0)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn nudge(user: &str, event: &str, due: &str, came: &str) -> Value {
        json!({"received_at": came, "body": {"user_id": user, "kind": "training_nudge",
               "data": {"event_id": event, "launched_at": "2026-01-01T00:00:00Z",
                        "settled_by": "timer", "due_at": due}}})
    }

    #[test]
    fn the_tally_counts_repeats_early_nudges_and_lateness() {
        let received = vec![
            nudge(
                "u1",
                "e1",
                "2026-01-01T00:10:00Z",
                "2026-01-01T00:10:00.250Z",
            ),
            nudge("u1", "e1", "2026-01-01T00:10:00Z", "2026-01-01T00:10:01Z"),
            nudge("u2", "e2", "2026-01-01T00:10:00Z", "2026-01-01T00:09:59Z"),
        ];
        let tally = Tally::of(&received);
        assert_eq!(tally.duplicates.len(), 1, "{:?}", tally.duplicates);
        assert_eq!(tally.early.len(), 1, "{:?}", tally.early);
        assert_eq!(tally.lateness_ms, vec![-1000, 250]);
        let launched = parse(&json!("2026-01-01T00:00:00Z")).unwrap();
        let want = Expected {
            nudges: BTreeSet::from([launched]),
            ..Expected::default()
        };
        let (u1, u3) = ("u1".to_owned(), "u3".to_owned());
        let certain = BTreeMap::from([(&u1, &want), (&u3, &want)]);
        let mismatches = tally.mismatches(&certain);
        assert_eq!(mismatches.len(), 1, "u3 got nothing: {mismatches:?}");
        assert!(mismatches[0].starts_with("u3"), "{mismatches:?}");
    }

    #[tokio::test]
    async fn an_unreadable_sink_fails_the_check() {
        let wait = Wait {
            ours: BTreeSet::from(["fit_x_1".to_owned()]),
            hold: Duration::ZERO,
            settle: Duration::ZERO,
        };
        let http = reqwest::Client::new();
        let read = wait
            .received(&http, "http://127.0.0.1:9", &BTreeMap::new())
            .await;
        assert!(read.is_err(), "{read:?}");
    }
}
