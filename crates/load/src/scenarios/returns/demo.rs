//! `demo rentals FILE...`: replays return scans through the API, each waited for until
//! it is decided, then waits for the notifications of the completed ones.

use crate::demo::{Api, post_file};
use devstack::DevError;
use devstack::Result;
use devstack::emulator::workspace_root;
use devstack::stackenv::StackEnv;
use std::time::{Duration, Instant};

/// Posts each return event file to the API in order and waits for each to be decided, then for
/// the asynchronous side effects to settle.
pub async fn run(files: &[String]) -> Result<()> {
    // The return function's own sample scans first (`events/rental-return/event_0*.json`),
    // which complete the rentals the later samples then find returned.
    let files: Vec<String> = function_samples()?
        .into_iter()
        .chain(files.iter().cloned())
        .collect();
    let env = StackEnv::read()?;
    let api = Api::local()?;
    let http = reqwest::Client::new();
    let mut completed = std::collections::BTreeSet::new();
    println!(
        "== Replaying {} return events through {} ==",
        files.len(),
        api.base()
    );
    for file in &files {
        let (name, status, answer) = post_file(&api, "/rentals/returns", file).await?;
        let Some(id) = answer["return_id"].as_str() else {
            println!("  {name:<28} HTTP {status} {answer}");
            continue;
        };
        let outcome = wait_decided(&api, id).await?;
        if outcome["status"] == "completed" {
            completed.insert(id.to_owned());
        }
        let detail = outcome["rental_id"]
            .as_str()
            .or(outcome["reason"].as_str())
            .unwrap_or("");
        println!(
            "  {name:<28} HTTP {status} {id}  {} {detail}",
            outcome["status"].as_str().unwrap_or("?")
        );
    }
    wait_side_effects(&http, &env, completed.len()).await
}

async fn wait_decided(api: &Api, id: &str) -> Result<serde_json::Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let v: serde_json::Value = api
            .get(&format!("/rentals/returns/{id}"))?
            .send()
            .await?
            .json()
            .await?;
        if v["status"] != "pending" || Instant::now() > deadline {
            return Ok(v);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Notifications and stats follow completions asynchronously (outbox → relay → topic → queues).
async fn wait_side_effects(http: &reqwest::Client, env: &StackEnv, completed: usize) -> Result<()> {
    let notify = env.get("NOTIFY_URL")?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let received: Vec<serde_json::Value> = http
            .get(format!("{notify}/v1/notify"))
            .send()
            .await?
            .json()
            .await?;
        if received.len() >= completed {
            return Ok(());
        }
        if Instant::now() > deadline {
            println!(
                "  (still waiting for notifications: {} of {completed})",
                received.len()
            );
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

fn function_samples() -> Result<Vec<String>> {
    let dir = workspace_root().join("events/rental-return");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| DevError::Setup(format!("{}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("event_0") && n.ends_with(".json"))
        })
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use crate::demo::samples_json;

    #[test]
    fn demo_scans_are_well_formed_scans() {
        for (f, v) in samples_json("rentals") {
            domain::rentals::ReturnScan::from_json(&v)
                .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        }
    }
}
