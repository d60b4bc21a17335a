//! A readable account of the local stack's state: what became of each return, the rentals,
//! the notifications the sink received, user stats, rejections and dead letters.

use crate::Result;
use crate::provision::Resources;
use crate::sink::Received;
use aws_sdk_sqs::types::QueueAttributeName;
use domain::formulas::Formula;
use domain::rentals::stats::UserStats;
use domain::rentals::{Rental, ReturnRecord, ReturnState};
use domain::tasks::Task;
use domain::time::format_time;
use platform::dynamo::Rejection;
use platform::sdk_error;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::fmt::Write;

pub struct Snapshot {
    pub returns: Vec<ReturnRecord>,
    pub rentals: Vec<Rental>,
    pub stats: Vec<UserStats>,
    pub rejections: Vec<Rejection>,
    pub formulas: Vec<Formula>,
    /// In processing order; tasks not yet started last.
    pub tasks: Vec<Task>,
    pub notifications: Vec<Received>,
    /// Messages waiting in each dead-letter queue.
    pub dead_letters: BTreeMap<String, u64>,
}

/// Every item of `table`, as stored.
pub async fn scan_items(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<platform::dynamo::Item>> {
    Ok(client
        .scan()
        .table_name(table)
        .into_paginator()
        .items()
        .send()
        .collect::<Result<Vec<_>, _>>()
        .await
        .map_err(|e| sdk_error("Scan", e))?)
}

/// Every item of `table`, as `T`.
pub async fn scan_all<T: DeserializeOwned>(
    client: &aws_sdk_dynamodb::Client,
    table: &str,
) -> Result<Vec<T>> {
    serde_dynamo::from_items(scan_items(client, table).await?)
        .map_err(|e| crate::DevError::Setup(format!("{table}: {e}")))
}

pub async fn snapshot(
    sdk: &aws_config::SdkConfig,
    r: &Resources,
    notify_url: &str,
) -> Result<Snapshot> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut rentals: Vec<Rental> = scan_all(&dynamo, r.table("rentals")?).await?;
    rentals.sort_by(|a, b| a.rental_id.cmp(&b.rental_id));
    let mut returns: Vec<ReturnRecord> = scan_all(&dynamo, r.table("returns")?).await?;
    returns.sort_by_key(|x| x.scan.occurred_at);
    let mut stats: Vec<UserStats> = scan_all(&dynamo, r.table("user-stats")?).await?;
    stats.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    let rejections = scan_all(&dynamo, r.table("rejections")?).await?;
    let mut formulas: Vec<Formula> = scan_all(&dynamo, r.table("formulas")?).await?;
    formulas.sort_by(|a, b| {
        a.name
            .cmp(&b.name)
            .then_with(|| a.formula_id.cmp(&b.formula_id))
    });
    let task_items: Vec<platform::dynamo::Item> = scan_items(&dynamo, r.table("tasks")?)
        .await?
        .into_iter()
        .filter(|i| {
            i.get("task_id")
                .and_then(|k| k.as_s().ok())
                .map(String::as_str)
                != Some(platform::dynamo::SEQUENCE_KEY)
        })
        .collect();
    let mut tasks: Vec<Task> = serde_dynamo::from_items(task_items)
        .map_err(|e| crate::DevError::Setup(format!("tasks: {e}")))?;
    tasks.sort_by_key(|t| (t.sequence.unwrap_or(u64::MAX), t.task_id.clone()));
    let notifications = reqwest::get(format!("{notify_url}/v1/notify"))
        .await?
        .json()
        .await?;
    let mut dead_letters = BTreeMap::new();
    for (logical, q) in &r.queues {
        let out = sqs
            .get_queue_attributes()
            .queue_url(&q.dlq_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send()
            .await
            .map_err(|e| sdk_error("GetQueueAttributes", e))?;
        let n = out
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        dead_letters.insert(format!("{logical}-dlq"), n);
    }
    Ok(Snapshot {
        returns,
        rentals,
        stats,
        rejections,
        formulas,
        tasks,
        notifications,
        dead_letters,
    })
}

pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "\n== Returns ({}) ==", s.returns.len());
    for r in &s.returns {
        let outcome = match &r.state {
            ReturnState::Pending => "pending".to_owned(),
            ReturnState::Completed { rental_id } => format!("completed  rental {rental_id}"),
            ReturnState::Rejected { reason } => format!("rejected   {}", reason.as_str()),
        };
        let who = r
            .user_id
            .as_ref()
            .map(|u| u.to_string())
            .unwrap_or_else(|| "?".into());
        let what = r
            .asset_id
            .as_ref()
            .map(|a| a.to_string())
            .unwrap_or_else(|| "?".into());
        let _ = writeln!(
            out,
            "  {}  {:<20} user {:<10} asset {:<11} -> {outcome}",
            format_time(&r.scan.occurred_at),
            r.scan.location_id,
            who,
            what
        );
    }
    let _ = writeln!(out, "\n== Rentals ({}) ==", s.rentals.len());
    for r in &s.rentals {
        let returned = match (&r.returned_at, &r.returned_at_location_id) {
            (Some(at), Some(loc)) => format!("returned {} at {loc}", format_time(at)),
            _ => String::new(),
        };
        let _ = writeln!(
            out,
            "  {}  {:<10} asset {:<11} {:<12} expires {}  {returned}",
            r.rental_id,
            r.user_id,
            r.asset_id,
            r.status.as_str(),
            format_time(&r.expires_at)
        );
    }
    let _ = writeln!(
        out,
        "\n== Notifications received by the sink ({}) ==",
        s.notifications.len()
    );
    for n in &s.notifications {
        let user = n.body["user_id"].as_str().unwrap_or("?");
        let message = n.body["message"].as_str().unwrap_or("");
        let dup = if n.duplicate { "  (duplicate key)" } else { "" };
        let _ = writeln!(out, "  to {user:<10} {message}{dup}");
    }
    let _ = writeln!(out, "\n== User stats ==");
    for u in &s.stats {
        let _ = writeln!(
            out,
            "  {:<10} returns {}  on time {}  reward points {}",
            u.user_id, u.returns_count, u.on_time_returns, u.reward_points
        );
    }
    let _ = writeln!(out, "\n== Formulas ({}) ==", s.formulas.len());
    for f in &s.formulas {
        let materials: Vec<String> = f
            .materials
            .iter()
            .map(|m| format!("{} {}%", m.name.as_str(), m.concentration))
            .collect();
        let _ = writeln!(
            out,
            "  {}  {:<28} {:?}  {}",
            f.formula_id,
            f.name,
            f.status,
            materials.join(", ")
        );
    }
    let _ = writeln!(out, "\n== Tasks ({}) ==", s.tasks.len());
    for t in &s.tasks {
        let sequence = t.sequence.map_or("-".to_owned(), |n| format!("#{n}"));
        let error = t
            .last_error
            .as_deref()
            .map(|e| format!("  last error: {e}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {sequence:<4} {}  {:<10} attempts {}  {}{error}",
            t.task_id,
            format!("{:?}", t.status).to_lowercase(),
            t.attempts,
            t.title
        );
    }
    let _ = writeln!(out, "\n== Rejected messages ({}) ==", s.rejections.len());
    for r in &s.rejections {
        let _ = writeln!(out, "  {} {}: {}", r.source, r.message_id, r.reason);
    }
    let _ = writeln!(out, "\n== Dead-letter queues ==");
    for (q, n) in &s.dead_letters {
        let _ = writeln!(out, "  {q:<20} {n}");
    }
    out
}
