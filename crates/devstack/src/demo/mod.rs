//! `devstack demo <flow> FILE...`: each flow's demo step in a file of its own, posting the
//! flow's sample requests to the running API and showing what became of them. What they share:
//! posting a file, polling a resource, an error in one line, the stack's URLs.

pub mod fitness;
pub mod formulas;
pub mod orders;
pub mod rentals;
pub mod tasks;

use devstack::emulator::workspace_root;
use devstack::stackenv::StackEnv;
use devstack::{DevError, Result};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// Every flow's demo step, in the order `make demo` runs them: one line per flow.
pub const FLOWS: &[&str] = &["rentals", "formulas", "tasks", "orders", "fitness"];

/// Runs `flow`'s step with `files`, or with its samples (`events/demo-<flow>/*.json`, in name
/// order) when none are given.
pub async fn run(flow: &str, files: Vec<String>) -> Result<()> {
    let files = if files.is_empty() {
        samples(flow)?
    } else {
        files
    };
    match flow {
        "rentals" => rentals::run(&files).await,
        "formulas" => formulas::run(&files).await,
        "tasks" => tasks::run(&files).await,
        "orders" => orders::run(&files).await,
        "fitness" => fitness::run(&files).await,
        other => Err(DevError::Setup(format!(
            "no demo for {other:?}; the flows' demos: {}",
            FLOWS.join(", ")
        ))),
    }
}

/// Every flow's step with its samples.
pub async fn all() -> Result<()> {
    for flow in FLOWS {
        run(flow, Vec::new()).await?;
    }
    Ok(())
}

/// `events/demo-<flow>/*.json`, in name order.
fn samples(flow: &str) -> Result<Vec<String>> {
    let dir = workspace_root().join(format!("events/demo-{flow}"));
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|e| DevError::Setup(format!("{}: {e}", dir.display())))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.extension().is_some_and(|x| x == "json"))
        .map(|path| path.display().to_string())
        .collect();
    files.sort();
    Ok(files)
}

/// POSTs a JSON file; answers the file's name, the status and the JSON answer.
pub async fn post_file(
    http: &reqwest::Client,
    url: &str,
    file: &str,
) -> Result<(String, reqwest::StatusCode, Value)> {
    let body = std::fs::read_to_string(file)?;
    let response = http
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = response.status();
    let answer = response.json().await.unwrap_or_default();
    let name = Path::new(file)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok((name, status, answer))
}

/// An error answer in one line: its code and each field problem as `field=code`.
pub fn error_line(answer: &Value) -> String {
    let code = answer["error"]["code"].as_str().unwrap_or("?");
    let fields: Vec<String> = answer["error"]["details"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|e| {
                    format!(
                        "{}={}",
                        e["field"].as_str().unwrap_or(""),
                        e["code"].as_str().unwrap_or("")
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    if fields.is_empty() {
        code.to_owned()
    } else {
        format!("{code} [{}]", fields.join(", "))
    }
}

/// GETs `url` until `done` holds for the answer or a minute has passed; the last answer.
pub async fn poll(
    http: &reqwest::Client,
    url: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer: Value = http.get(url).send().await?.json().await?;
        if done(&answer) || Instant::now() > deadline {
            return Ok(answer);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub fn api_url() -> Result<String> {
    StackEnv::read()?.get("API_URL")
}
