//! After the load: what the API accepted must have been done, checked through the API itself —
//! every accepted return decided, every accepted formula processed, every accepted task
//! completed, each with a number of its own and in the order its client had them accepted.

use crate::flows::Ctx;
use crate::record::Accepted;
use futures::StreamExt;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, serde::Serialize)]
pub struct Check {
    pub name: String,
    pub checked: usize,
    pub failures: Vec<String>,
}

impl Check {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// What a read of an accepted id said.
enum Seen {
    Settled(Value),
    Pending,
    Missing,
    Unreadable(String),
}

async fn read(http: &reqwest::Client, ctx: &Ctx, path: &str, done: &[&str]) -> Seen {
    let url = format!("{}{path}", ctx.api);
    let mut request = http.get(&url);
    for (k, v) in ctx.auth.headers("GET", &url, path, b"").unwrap_or_default() {
        request = request.header(k, v);
    }
    let answer = match request.send().await {
        Ok(a) => a,
        Err(e) => return Seen::Unreadable(e.to_string()),
    };
    match answer.status().as_u16() {
        200 => match answer.json::<Value>().await {
            Ok(v) if done.contains(&v["status"].as_str().unwrap_or_default()) => Seen::Settled(v),
            Ok(_) => Seen::Pending,
            Err(e) => Seen::Unreadable(e.to_string()),
        },
        404 => Seen::Missing,
        s => Seen::Unreadable(format!("HTTP {s}")),
    }
}

/// Reads every path until its status is one of `done`, or `settle` has passed; what is still
/// not done then is a failure.
async fn settle_all(
    http: &reqwest::Client,
    ctx: &Ctx,
    paths: Vec<String>,
    done: &[&str],
    settle: Duration,
) -> (BTreeMap<String, Value>, Vec<String>) {
    let deadline = Instant::now() + settle;
    let mut open: BTreeSet<String> = paths.into_iter().collect();
    let mut settled = BTreeMap::new();
    let mut last: BTreeMap<String, String> = BTreeMap::new();
    loop {
        let reads: Vec<(String, Seen)> = futures::stream::iter(open.iter().cloned())
            .map(|path| async move {
                let seen = read(http, ctx, &path, done).await;
                (path, seen)
            })
            .buffer_unordered(32)
            .collect()
            .await;
        for (path, seen) in reads {
            match seen {
                Seen::Settled(v) => {
                    open.remove(&path);
                    settled.insert(path, v);
                }
                Seen::Pending => {
                    last.insert(path, "still pending".into());
                }
                Seen::Missing => {
                    last.insert(path, "not found: accepted and lost".into());
                }
                Seen::Unreadable(e) => {
                    last.insert(path, e);
                }
            }
        }
        if open.is_empty() || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let failures = open
        .into_iter()
        .map(|p| format!("{p}: {}", last.get(&p).map_or("unknown", String::as_str)))
        .collect();
    (settled, failures)
}

pub async fn check(ctx: &Ctx, settle: Duration) -> Vec<Check> {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let accepted = ctx.recorder.accepted();
    let mut checks = Vec::new();

    let paths = |pick: fn(&Accepted) -> Option<String>| -> Vec<String> {
        accepted.iter().filter_map(pick).collect()
    };
    let returns = paths(|a| match a {
        Accepted::Return(id) => Some(format!("/rentals/returns/{id}")),
        _ => None,
    });
    let formulas = paths(|a| match a {
        Accepted::Formula(id) => Some(format!("/formulas/{id}")),
        _ => None,
    });
    for (name, paths, done) in [
        (
            "every accepted return decided",
            returns,
            &["completed", "rejected"][..],
        ),
        (
            "every accepted formula processed",
            formulas,
            &["processed"][..],
        ),
    ] {
        if paths.is_empty() {
            continue;
        }
        let checked = paths.len();
        let (_, failures) = settle_all(&http, ctx, paths, done, settle).await;
        checks.push(Check {
            name: name.into(),
            checked,
            failures,
        });
    }

    let tasks: Vec<(String, usize, u64)> = accepted
        .iter()
        .filter_map(|a| match a {
            Accepted::Task { id, client, nth } => Some((id.clone(), *client, *nth)),
            _ => None,
        })
        .collect();
    if !tasks.is_empty() {
        let paths = tasks
            .iter()
            .map(|(id, _, _)| format!("/tasks/{id}"))
            .collect();
        let (settled, failures) = settle_all(&http, ctx, paths, &["completed"], settle).await;
        checks.push(Check {
            name: format!("every accepted task completed ({})", consumption(&settled)),
            checked: tasks.len(),
            failures,
        });
        checks.push(task_order(&tasks, &settled));
    }
    checks.extend(crate::orders::check(ctx, &http, settle).await);
    checks.extend(crate::fitness::check(ctx, &http, settle).await);
    checks
}

/// How fast the one task stream was consumed: completed tasks over the time from the first start
/// to the last finish (the stream is one message group, so strictly one task at a time).
fn consumption(settled: &BTreeMap<String, Value>) -> String {
    let at = |v: &Value, field: &str| {
        v[field]
            .as_str()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
    };
    let first = settled.values().filter_map(|v| at(v, "started_at")).min();
    let last = settled.values().filter_map(|v| at(v, "finished_at")).max();
    match (first, last) {
        (Some(first), Some(last)) if last > first => {
            let seconds = (last - first).num_milliseconds() as f64 / 1e3;
            format!(
                "consumed at {:.1} tasks/s: {} in {seconds:.1} s",
                settled.len() as f64 / seconds,
                settled.len()
            )
        }
        _ => "consumption rate unknown".into(),
    }
}

/// Each completed task has a number no other task has, and a client's tasks are numbered in the
/// order the client had them accepted.
fn task_order(tasks: &[(String, usize, u64)], settled: &BTreeMap<String, Value>) -> Check {
    let mut failures = Vec::new();
    let mut numbers = BTreeMap::new();
    let mut by_client: BTreeMap<usize, Vec<(u64, u64, &str)>> = BTreeMap::new();
    for (id, client, nth) in tasks {
        let Some(sequence) = settled
            .get(&format!("/tasks/{id}"))
            .and_then(|t| t["sequence"].as_u64())
        else {
            continue;
        };
        if let Some(other) = numbers.insert(sequence, id.as_str()) {
            failures.push(format!("{id} and {other} both have number {sequence}"));
        }
        by_client
            .entry(*client)
            .or_default()
            .push((*nth, sequence, id.as_str()));
    }
    for (client, mut list) in by_client {
        list.sort();
        for pair in list.windows(2) {
            if pair[1].1 <= pair[0].1 {
                failures.push(format!(
                    "client {client}: {} (accepted later) ran as #{} before {} #{}",
                    pair[1].2, pair[1].1, pair[0].2, pair[0].1
                ));
            }
        }
    }
    Check {
        name: "tasks numbered once each, in their clients' order".into(),
        checked: numbers.len(),
        failures,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_consumption_rate_is_completed_tasks_over_first_start_to_last_finish() {
        let task = |start: &str, finish: &str| serde_json::json!({"started_at": start, "finished_at": finish, "status": "completed"});
        let settled = BTreeMap::from([
            (
                "/tasks/a".to_owned(),
                task("2026-01-01T00:00:00Z", "2026-01-01T00:00:01Z"),
            ),
            (
                "/tasks/b".to_owned(),
                task("2026-01-01T00:00:01Z", "2026-01-01T00:00:02Z"),
            ),
            (
                "/tasks/c".to_owned(),
                task("2026-01-01T00:00:03Z", "2026-01-01T00:00:04Z"),
            ),
        ]);
        assert_eq!(consumption(&settled), "consumed at 0.8 tasks/s: 3 in 4.0 s");
        assert_eq!(consumption(&BTreeMap::new()), "consumption rate unknown");
    }

    #[test]
    fn a_task_overtaking_its_clients_earlier_one_or_sharing_a_number_is_a_failure() {
        let tasks = vec![
            ("a".to_owned(), 1, 0),
            ("b".to_owned(), 1, 1),
            ("c".to_owned(), 2, 0),
        ];
        let settled = |a: u64, b: u64, c: u64| {
            BTreeMap::from([
                ("/tasks/a".to_owned(), json!({"sequence": a})),
                ("/tasks/b".to_owned(), json!({"sequence": b})),
                ("/tasks/c".to_owned(), json!({"sequence": c})),
            ])
        };
        assert!(task_order(&tasks, &settled(1, 3, 2)).passed());
        let overtaken = task_order(&tasks, &settled(3, 1, 2));
        assert_eq!(overtaken.failures.len(), 1, "{:?}", overtaken.failures);
        let shared = task_order(&tasks, &settled(1, 2, 2));
        assert_eq!(shared.failures.len(), 1, "{:?}", shared.failures);
    }
}
