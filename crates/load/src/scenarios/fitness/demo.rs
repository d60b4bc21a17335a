//! `demo fitness FILE...`: posts app events (either shape) to the running API in order,
//! then sends a live `app_launch` (time: now) and waits for its nudge, which the durable timer
//! sends `FITNESS_NUDGE_AFTER_SECONDS` after the launch (`make demo` starts the stack with a
//! short window); prints every fitness notification received, the users' activity and the
//! unknown-type counts.

/// A nudge window short enough that the live nudge comes while the step waits for it.
pub const STACK_SETTINGS: &[(&str, &str)] = &[("FITNESS_NUDGE_AFTER_SECONDS", "15")];

use crate::demo::Api;
use devstack::stackenv::StackEnv;
use devstack::{DevError, Result};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::time::{Duration, Instant};

/// The user of the live launch.
const LIVE_USER: &str = "demo-live";

pub async fn run(files: &[String]) -> Result<()> {
    let env = StackEnv::read()?;
    let api = Api::local()?;
    let notify = env.get("NOTIFY_URL")?;
    let window: u64 = env
        .get("FITNESS_NUDGE_AFTER_SECONDS")?
        .parse()
        .map_err(|e| DevError::Setup(format!("FITNESS_NUDGE_AFTER_SECONDS: {e}")))?;
    let http = reqwest::Client::new();
    println!("\n== Fitness app events through {} ==", api.base());
    let mut users = BTreeSet::new();
    for file in files {
        let body: Value = serde_json::from_str(&std::fs::read_to_string(file)?)?;
        users.extend(body["user_id"].as_str().map(str::to_owned));
        let answer = post(&api, &body).await?;
        let name = std::path::Path::new(file)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        println!("  {name:<28} → {answer}");
    }
    let now = chrono::Utc::now();
    let launch = json!({"schema_version": 2, "event_id": format!("live-{}", now.timestamp_millis()),
        "user_id": LIVE_USER, "type": "app_launch", "time": now.to_rfc3339()});
    let answer = post(&api, &launch).await?;
    println!("  live app_launch of {LIVE_USER} (now) → {answer}; its nudge is due in {window} s");
    users.insert(LIVE_USER.to_owned());
    let started = Instant::now();
    let notifications =
        await_notifications(&http, &notify, Duration::from_secs(window + 60)).await?;
    println!(
        "  notifications ({}, the live nudge {:.1} s after its launch was posted):",
        notifications.len(),
        started.elapsed().as_secs_f64()
    );
    for n in &notifications {
        let b = &n["body"];
        println!(
            "    {:<10} {:<24} {}  data {}",
            b["user_id"].as_str().unwrap_or("?"),
            b["kind"].as_str().unwrap_or("?"),
            b["message"].as_str().unwrap_or(""),
            b["data"]
        );
    }
    println!("  activity:");
    for user in &users {
        print_activity(&api, user).await?;
    }
    let types: Value = api
        .get_as("/v1/event-types", LIVE_USER)?
        .send()
        .await?
        .json()
        .await?;
    println!("  event types: {types}");
    Ok(())
}

/// The fitness notifications, once the sample stream's two and the live nudge are in.
async fn await_notifications(
    http: &reqwest::Client,
    notify: &str,
    deadline: Duration,
) -> Result<Vec<Value>> {
    let started = Instant::now();
    loop {
        let all: Vec<Value> = http
            .get(format!("{notify}/v1/notify"))
            .send()
            .await?
            .json()
            .await?;
        let fitness: Vec<Value> = all
            .into_iter()
            .filter(|r| {
                r["body"]["kind"]
                    .as_str()
                    .is_some_and(|k| k.starts_with("training_"))
            })
            .collect();
        let live = fitness.iter().any(|r| r["body"]["user_id"] == LIVE_USER);
        if live && fitness.len() >= 3 {
            return Ok(fitness);
        }
        if started.elapsed() > deadline {
            return Err(DevError::Setup(format!(
                "fitness: expected the sample stream's 2 notifications and the live nudge within {} s, got {}: {fitness:?}",
                deadline.as_secs(),
                fitness.len()
            )));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// One line per user: sessions, launches with their nudge, unknown-type counts.
async fn print_activity(api: &Api, user: &str) -> Result<()> {
    let a: Value = api
        .get(&format!("/v1/users/{user}/activity"))?
        .send()
        .await?
        .json()
        .await?;
    let list = |key: &str, line: &dyn Fn(&Value) -> String| -> String {
        let items: Vec<String> = a[key].as_array().into_iter().flatten().map(line).collect();
        items.join(", ")
    };
    let sessions = list("sessions", &|s| {
        format!(
            "{} {}{}",
            s["training_program_id"].as_str().unwrap_or("?"),
            s["state"].as_str().unwrap_or("?"),
            s["minutes"]
                .as_i64()
                .map(|m| format!(" {m} min"))
                .unwrap_or_default()
        )
    });
    let launches = list("launches", &|l| {
        format!(
            "{} {}",
            l["launched_at"].as_str().unwrap_or("?"),
            l["nudge"].as_str().unwrap_or("?")
        )
    });
    println!(
        "    {user:<10} sessions [{sessions}]  launches [{launches}]  unknown types {}",
        a["unknown_event_types"]
    );
    Ok(())
}

/// `body` posted by its user, as the app sends its user's events.
async fn post(api: &Api, body: &Value) -> Result<String> {
    let response = api
        .send_json(reqwest::Method::POST, "/v1/event", &body.to_string())?
        .send()
        .await?;
    let status = response.status();
    let answer: Value = response.json().await.unwrap_or_default();
    Ok(match answer["event_id"].as_str() {
        Some(id) => format!("{status} {id}"),
        None => format!("{status} {}", answer["error"]["code"]),
    })
}

#[cfg(test)]
mod tests {
    use crate::demo::samples_json;

    #[test]
    fn demo_fitness_events_are_app_events_of_either_shape() {
        let types = domain::fitness::event_types();
        let mut shapes = std::collections::BTreeSet::new();
        for (f, v) in samples_json("fitness") {
            let e = domain::fitness::AppEvent::from_json(&v, &types)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
            shapes.insert((v.get("schema_version").is_some(), types.knows(&e.type_name)));
        }
        assert_eq!(
            shapes.len(),
            3,
            "legacy, versioned and an unknown type: {shapes:?}"
        );
    }
}
