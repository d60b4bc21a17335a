//! `demo tasks FILE...`: posts tasks, waits until each has settled and checks they ran
//! in submission order.

use crate::demo::{Api, error_line, poll, post_file};
use devstack::Result;

/// Posts each task file in order, waits until every accepted task has settled, and lists them
/// in processing order with their sequence numbers.
pub async fn run(files: &[String]) -> Result<()> {
    let api = Api::local()?;
    let mut accepted = Vec::new();
    println!(
        "\n== Submitting {} tasks through {} ==",
        files.len(),
        api.base()
    );
    for file in files {
        let (name, status, answer) = post_file(&api, "/tasks", file).await?;
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
            poll(&api, &format!("/tasks/{id}"), |t| {
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

#[cfg(test)]
mod tests {
    use crate::demo::samples_json;

    #[test]
    fn demo_tasks_are_valid_except_the_invalid_one() {
        for (f, v) in samples_json("tasks") {
            let result = domain::tasks::NewTask::from_json(&v);
            let invalid = f.to_string_lossy().contains("invalid");
            assert_eq!(result.is_err(), invalid, "{}", f.display());
            if let Err(e) = result {
                assert_eq!(
                    e.details.len(),
                    4,
                    "every field of the invalid sample is wrong: {e}"
                );
            }
        }
    }
}
