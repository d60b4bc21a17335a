//! `devstack formulas` and `devstack tasks`: post example requests to the running API and show
//! what became of them.

use crate::read_env;
use devstack::Result;
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

/// POSTs a JSON file; answers the file's name, the status and the JSON answer.
pub(crate) async fn post_file(
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
fn error_line(answer: &Value) -> String {
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
async fn poll(http: &reqwest::Client, url: &str, done: impl Fn(&Value) -> bool) -> Result<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let answer: Value = http.get(url).send().await?.json().await?;
        if done(&answer) || Instant::now() > deadline {
            return Ok(answer);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn api_url() -> Result<String> {
    crate::env_value(&read_env()?, "API_URL")
}

/// Posts each formula file in order, then waits until every accepted formula is processed.
pub async fn formulas(files: &[String]) -> Result<()> {
    let api = api_url()?;
    let http = reqwest::Client::new();
    let mut accepted = Vec::new();
    println!("== Submitting {} formulas through {api} ==", files.len());
    for file in files {
        let (name, status, answer) = post_file(&http, &format!("{api}/formulas"), file).await?;
        let detail = match (answer["formula_id"].as_str(), answer.get("error")) {
            (Some(id), None) => {
                accepted.push(id.to_owned());
                format!("accepted {id}")
            }
            (Some(id), Some(_)) => format!("{}: existing {id}", error_line(&answer)),
            (None, Some(_)) => error_line(&answer),
            _ => answer.to_string(),
        };
        println!("  {name:<34} HTTP {status}  {detail}");
    }
    for id in &accepted {
        let f = poll(&http, &format!("{api}/formulas/{id}"), |f| {
            f["status"] == "processed"
        })
        .await?;
        println!("  {id} {}", f["status"].as_str().unwrap_or("?"));
    }
    Ok(())
}

/// Posts each task file in order, waits until every accepted task has settled, and lists them
/// in processing order with their sequence numbers.
pub async fn tasks(files: &[String]) -> Result<()> {
    let api = api_url()?;
    let http = reqwest::Client::new();
    let mut accepted = Vec::new();
    println!("\n== Submitting {} tasks through {api} ==", files.len());
    for file in files {
        let (name, status, answer) = post_file(&http, &format!("{api}/tasks"), file).await?;
        let detail = match answer["task_id"].as_str() {
            Some(id) => {
                accepted.push(id.to_owned());
                format!("queued {id}")
            }
            None => error_line(&answer),
        };
        println!("  {name:<34} HTTP {status}  {detail}");
    }
    let mut settled = Vec::new();
    for id in &accepted {
        settled.push(
            poll(&http, &format!("{api}/tasks/{id}"), |t| {
                t["status"] == "completed" || t["status"] == "failed"
            })
            .await?,
        );
    }
    settled.sort_by_key(|t| t["sequence"].as_u64().unwrap_or(u64::MAX));
    println!("  processing order:");
    for t in &settled {
        println!(
            "  #{:<3} {:<10} {:<7} {}  {}",
            t["sequence"].as_u64().map_or("-".into(), |n| n.to_string()),
            t["status"].as_str().unwrap_or("?"),
            t["priority"].as_str().unwrap_or("?"),
            t["task_id"].as_str().unwrap_or("?"),
            t["title"].as_str().unwrap_or("?"),
        );
    }
    let order: Vec<&str> = settled
        .iter()
        .filter_map(|t| t["task_id"].as_str())
        .collect();
    let in_order = order == accepted.iter().map(String::as_str).collect::<Vec<_>>();
    println!(
        "  processed in submission order: {}",
        if in_order { "yes" } else { "NO" }
    );
    if in_order && settled.iter().all(|t| t["status"] == "completed") {
        Ok(())
    } else {
        Err(devstack::DevError::Setup(
            "the tasks did not all complete in submission order".into(),
        ))
    }
}
