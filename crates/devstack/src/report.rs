//! A readable account of the local stack's state: a section per table that
//! `infrastructure/topology.json` gives a `report` (its title, columns and order), the
//! notifications the sink received and what waits in each dead-letter queue. Nothing here knows
//! a flow: a new flow's tables show up by declaring how.

use crate::Result;
use crate::provision::Resources;
use crate::sink::Received;
use crate::topology::{ReportSpec, Topology};
use aws_sdk_dynamodb::types::AttributeValue;
use aws_sdk_sqs::types::QueueAttributeName;
use platform::dynamo::Item;
use platform::sdk_error;
use serde::de::DeserializeOwned;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt::Write;

/// One table's section: its rows as the columns' text, in the declared order.
pub struct Section {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

pub struct Snapshot {
    pub sections: Vec<Section>,
    pub notifications: Vec<Received>,
    /// Messages waiting in each dead-letter queue.
    pub dead_letters: BTreeMap<String, u64>,
}

/// Every item of `table`, as stored.
pub async fn scan_items(client: &aws_sdk_dynamodb::Client, table: &str) -> Result<Vec<Item>> {
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

/// The attribute at `path` (dots reach into maps).
fn lookup<'a>(item: &'a Item, path: &str) -> Option<&'a AttributeValue> {
    let mut parts = path.split('.');
    let mut value = item.get(parts.next()?)?;
    for part in parts {
        value = value.as_m().ok()?.get(part)?;
    }
    Some(value)
}

fn text(value: Option<&AttributeValue>) -> String {
    match value {
        None | Some(AttributeValue::Null(_)) => "-".into(),
        Some(AttributeValue::S(s)) => s.clone(),
        Some(AttributeValue::N(n)) => n.clone(),
        Some(AttributeValue::Bool(b)) => b.to_string(),
        Some(other) => serde_dynamo::from_attribute_value::<_, serde_json::Value>(other.clone())
            .map(|v| v.to_string())
            .unwrap_or_else(|_| format!("{other:?}")),
    }
}

/// Numbers numerically, text as text, missing values last.
fn compare(a: Option<&AttributeValue>, b: Option<&AttributeValue>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(AttributeValue::N(x)), Some(AttributeValue::N(y))) => {
            match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(x), Ok(y)) => x.total_cmp(&y),
                _ => x.cmp(y),
            }
        }
        (Some(x), Some(y)) => text(Some(x)).cmp(&text(Some(y))),
    }
}

/// The section `spec` makes of `items`.
pub fn section(spec: &ReportSpec, mut items: Vec<Item>) -> Section {
    if let Some(required) = &spec.rows_with {
        items.retain(|i| lookup(i, required).is_some());
    }
    items.sort_by(|a, b| {
        spec.sort
            .iter()
            .map(|k| compare(lookup(a, k), lookup(b, k)))
            .find(|o| o.is_ne())
            .unwrap_or(Ordering::Equal)
    });
    Section {
        title: spec.title.clone(),
        columns: spec.columns.clone(),
        rows: items
            .iter()
            .map(|i| spec.columns.iter().map(|c| text(lookup(i, c))).collect())
            .collect(),
    }
}

pub async fn snapshot(
    sdk: &aws_config::SdkConfig,
    topology: &Topology,
    r: &Resources,
    notify_url: &str,
) -> Result<Snapshot> {
    let dynamo = aws_sdk_dynamodb::Client::new(sdk);
    let sqs = aws_sdk_sqs::Client::new(sdk);
    let mut sections = Vec::new();
    for table in &topology.tables {
        if let Some(spec) = &table.report {
            let items = scan_items(&dynamo, r.table(&table.logical)?).await?;
            sections.push(section(spec, items));
        }
    }
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
        sections,
        notifications,
        dead_letters,
    })
}

/// Columns padded to their widest value, two spaces apart.
fn table(out: &mut String, columns: &[String], rows: &[Vec<String>]) {
    let widths: Vec<usize> = (0..columns.len())
        .map(|c| {
            rows.iter()
                .map(|r| r[c].chars().count())
                .chain([columns[c].chars().count()])
                .max()
                .unwrap_or(0)
        })
        .collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        format!("  {}", padded.join("  ").trim_end())
    };
    let _ = writeln!(out, "{}", line(columns));
    for row in rows {
        let _ = writeln!(out, "{}", line(row));
    }
}

/// Rows a section prints by default: a screenful, whatever an earlier load run left behind.
pub const SCREENFUL: usize = 20;

/// The report with at most [`SCREENFUL`] rows per section.
pub fn render(s: &Snapshot) -> String {
    render_at_most(s, SCREENFUL)
}

/// The report with at most `rows` rows per section (and notifications), each section headed by
/// its total and ending with how many rows it left out.
pub fn render_at_most(s: &Snapshot, rows: usize) -> String {
    let mut out = String::new();
    for section in &s.sections {
        let _ = writeln!(out, "\n== {} ({}) ==", section.title, section.rows.len());
        if !section.rows.is_empty() {
            let shown = &section.rows[..section.rows.len().min(rows)];
            table(&mut out, &section.columns, shown);
            more(&mut out, section.rows.len(), shown.len());
        }
    }
    let _ = writeln!(
        out,
        "\n== Notifications received by the sink ({}) ==",
        s.notifications.len()
    );
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for n in &s.notifications {
        *kinds
            .entry(n.body["kind"].as_str().unwrap_or("?"))
            .or_default() += 1;
    }
    if kinds.len() > 1 {
        let totals: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        let _ = writeln!(out, "  by kind: {}", totals.join(", "));
    }
    // The latest ones: a long list is usually a load run's, and the newest are the interesting.
    let skipped = s.notifications.len().saturating_sub(rows);
    if skipped > 0 {
        let _ = writeln!(out, "  … {skipped} earlier ones not shown");
    }
    for n in &s.notifications[skipped..] {
        let user = n.body["user_id"].as_str().unwrap_or("?");
        let kind = n.body["kind"].as_str().unwrap_or("?");
        let message = n.body["message"].as_str().unwrap_or("");
        let dup = if n.duplicate { "  (duplicate key)" } else { "" };
        let _ = writeln!(out, "  to {user:<10} {kind:<24} {message}{dup}");
    }
    let _ = writeln!(out, "\n== Dead-letter queues ==");
    for (q, n) in &s.dead_letters {
        let _ = writeln!(out, "  {q:<20} {n}");
    }
    out
}

fn more(out: &mut String, total: usize, shown: usize) {
    if total > shown {
        let _ = writeln!(
            out,
            "  … {} more ({total} in all; `devstack report --all` prints every row)",
            total - shown
        );
    }
}

/// Whether some line of `report` holds `cells` in this order, each a whole column value.
pub fn has_row(report: &str, cells: &[&str]) -> bool {
    report.lines().any(|line| {
        let mut words = line.split_whitespace();
        cells.iter().all(|cell| words.any(|w| w == *cell))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttributeValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn sections_sort_numerically_put_missing_last_and_skip_rows_without_the_required_column() {
        let spec = ReportSpec {
            title: "Tasks".into(),
            columns: vec!["sequence".into(), "id".into(), "meta.kind".into()],
            sort: vec!["sequence".into(), "id".into()],
            rows_with: Some("id".into()),
        };
        let n = |v: &str| AttributeValue::N(v.into());
        let s = |v: &str| AttributeValue::S(v.into());
        let meta = AttributeValue::M(item(&[("kind", s("x"))]).into_iter().collect());
        let items = vec![
            item(&[("id", s("b"))]),
            item(&[("sequence", n("10")), ("id", s("c")), ("meta", meta)]),
            item(&[("sequence", n("9")), ("id", s("a"))]),
            item(&[("sequence", n("1"))]),
        ];
        let section = section(&spec, items);
        assert_eq!(
            section.rows,
            [["9", "a", "-"], ["10", "c", "x"], ["-", "b", "-"]]
        );
        let mut out = String::new();
        table(&mut out, &section.columns, &section.rows);
        assert!(has_row(&out, &["10", "c", "x"]), "{out}");
        assert!(!has_row(&out, &["c", "10"]), "{out}");
    }

    #[test]
    fn a_long_section_prints_a_screenful_and_says_how_many_it_left_out() {
        let rows: Vec<Vec<String>> = (0..SCREENFUL + 7).map(|i| vec![i.to_string()]).collect();
        let notifications = (0..SCREENFUL + 3)
            .map(|i| Received {
                received_at: String::new(),
                idempotency_key: None,
                duplicate: false,
                body: serde_json::json!({"user_id": format!("u{i}"), "kind": if i % 2 == 0 { "a" } else { "b" }}),
            })
            .collect();
        let snapshot = Snapshot {
            sections: vec![Section {
                title: "Orders".into(),
                columns: vec!["n".into()],
                rows,
            }],
            notifications,
            dead_letters: BTreeMap::new(),
        };
        let out = render(&snapshot);
        assert!(out.contains("== Orders (27) =="), "{out}");
        assert!(has_row(&out, &["19"]) && !has_row(&out, &["20"]), "{out}");
        assert!(out.contains("… 7 more (27 in all;"), "{out}");
        assert!(out.contains("by kind: a 12, b 11"), "{out}");
        assert!(out.contains("… 3 earlier ones not shown"), "{out}");
        assert!(!out.contains("to u2 ") && out.contains("to u22 "), "{out}");
        let all = render_at_most(&snapshot, usize::MAX);
        assert!(has_row(&all, &["26"]) && !all.contains("more ("), "{all}");
    }
}
