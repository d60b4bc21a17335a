//! Reference data, declared in `infrastructure/topology.json` (a table's `reference_data` file):
//! loaded idempotently by `seed`, restored by `reset`. Nothing here knows a flow: a new flow's
//! tables and data need a topology entry and a file.

use crate::emulator::workspace_root;
use crate::provision::Resources;
use crate::topology::{ReferenceData, TableSpec, Topology};
use crate::{DevError, Result};
use aws_sdk_dynamodb::Client;
use platform::dynamo::Item;
use platform::sdk_error;
use serde_json::Value;

/// One table's reference items, read from its file.
pub struct ReferenceTable {
    pub table: TableSpec,
    pub items: Vec<Item>,
}

/// Every table's reference data. Items are JSON objects, stored as they are (JSON types map to
/// DynamoDB's); each must carry the table's keys.
pub fn load(topology: &Topology) -> Result<Vec<ReferenceTable>> {
    topology
        .tables
        .iter()
        .filter_map(|t| t.reference_data.as_ref().map(|data| (t, data)))
        .map(|(table, data)| {
            let file = &data.file;
            let path = workspace_root().join(file);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| DevError::Setup(format!("{}: {e}", path.display())))?;
            let values: Vec<Value> =
                serde_json::from_str(&text).map_err(|e| DevError::Setup(format!("{file}: {e}")))?;
            let items = values
                .into_iter()
                .map(|v| to_item(table, data, v))
                .collect::<Result<Vec<_>>>()?;
            Ok(ReferenceTable {
                table: table.clone(),
                items,
            })
        })
        .collect()
}

fn to_item(table: &TableSpec, data: &ReferenceData, value: Value) -> Result<Item> {
    let file = &data.file;
    let mut item: Item = serde_dynamo::to_item(value)
        .map_err(|e| DevError::Setup(format!("{file}: an item is not an object: {e}")))?;
    if let Some(field) = &data.key_field
        && let Some(key) = item.remove(field)
    {
        item.insert(table.partition_key.clone(), key);
    }
    for key in std::iter::once(&table.partition_key).chain(table.sort_key.as_ref()) {
        if !item.contains_key(key) {
            return Err(DevError::Setup(format!(
                "{file}: an item has no {key}, the key of table {}",
                table.logical
            )));
        }
    }
    Ok(item)
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub written: usize,
    pub already_present: usize,
}

/// Inserts whatever reference item is missing and leaves every existing item untouched, so a
/// second run changes nothing (a rental completed meanwhile stays completed).
pub async fn seed(client: &Client, topology: &Topology, r: &Resources) -> Result<SeedReport> {
    write_all(client, topology, r, false).await
}

/// Restores the reference data and clears the processing state: clears every table that holds
/// no reference data and overwrites the reference items (items added to a reference table stay).
pub async fn reset(client: &Client, topology: &Topology, r: &Resources) -> Result<SeedReport> {
    for spec in topology
        .tables
        .iter()
        .filter(|t| t.reference_data.is_none())
    {
        clear_table(client, r.table(&spec.logical)?).await?;
    }
    write_all(client, topology, r, true).await
}

async fn write_all(
    client: &Client,
    topology: &Topology,
    r: &Resources,
    overwrite: bool,
) -> Result<SeedReport> {
    let mut report = SeedReport::default();
    for reference in load(topology)? {
        let table = r.table(&reference.table.logical)?;
        let key = &reference.table.partition_key;
        for item in reference.items {
            let mut put = client.put_item().table_name(table).set_item(Some(item));
            if !overwrite {
                put = put
                    .condition_expression("attribute_not_exists(#k)")
                    .expression_attribute_names("#k", key);
            }
            match put.send().await {
                Ok(_) => report.written += 1,
                Err(e)
                    if e.as_service_error()
                        .is_some_and(|s| s.is_conditional_check_failed_exception()) =>
                {
                    report.already_present += 1
                }
                Err(e) => return Err(sdk_error("PutItem", e).into()),
            }
        }
    }
    Ok(report)
}

/// Empties every queue and dead-letter queue by receiving and deleting, which unlike PurgeQueue
/// works at any pace (SQS allows one purge a minute per queue). A FIFO queue hides the groups
/// that have a message in flight, so it drains until the queue reports nothing visible and
/// nothing in flight (or gives up after a minute, saying so).
pub async fn empty_queues(sqs: &aws_sdk_sqs::Client, r: &Resources) -> Result<usize> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let mut removed = 0;
    for q in r.queues.values() {
        for url in [&q.url, &q.dlq_url] {
            loop {
                removed += drain(sqs, url).await?;
                if waiting(sqs, url).await? == 0 {
                    break;
                }
                if std::time::Instant::now() > deadline {
                    return Err(DevError::Setup(format!(
                        "{url} still holds messages in flight after a minute"
                    )));
                }
                tokio::time::sleep(std::time::Duration::from_millis(250)).await;
            }
        }
    }
    Ok(removed)
}

/// Messages visible or in flight.
async fn waiting(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<u64> {
    use aws_sdk_sqs::types::QueueAttributeName::{
        ApproximateNumberOfMessages, ApproximateNumberOfMessagesNotVisible,
    };
    let out = sqs
        .get_queue_attributes()
        .queue_url(url)
        .attribute_names(ApproximateNumberOfMessages)
        .attribute_names(ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|e| sdk_error("GetQueueAttributes", e))?;
    let count = |name| {
        out.attributes()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(count(ApproximateNumberOfMessages) + count(ApproximateNumberOfMessagesNotVisible))
}

async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Result<usize> {
    let mut removed = 0;
    loop {
        let out = sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .visibility_timeout(30)
            .wait_time_seconds(0)
            .send()
            .await
            .map_err(|e| sdk_error("ReceiveMessage", e))?;
        if out.messages().is_empty() {
            return Ok(removed);
        }
        for handle in out.messages().iter().filter_map(|m| m.receipt_handle()) {
            sqs.delete_message()
                .queue_url(url)
                .receipt_handle(handle)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteMessage", e))?;
            removed += 1;
        }
    }
}

async fn clear_table(client: &Client, table: &str) -> Result<()> {
    let description = client
        .describe_table()
        .table_name(table)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeTable", e))?;
    let keys: Vec<String> = description
        .table()
        .map(|t| {
            t.key_schema()
                .iter()
                .map(|k| k.attribute_name().to_owned())
                .collect()
        })
        .unwrap_or_default();
    for item in crate::report::scan_items(client, table).await? {
        let key: Item = item.into_iter().filter(|(k, _)| keys.contains(k)).collect();
        client
            .delete_item()
            .table_name(table)
            .set_key(Some(key))
            .send()
            .await
            .map_err(|e| sdk_error("DeleteItem", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain::rentals::{Asset, Rental, User};

    #[test]
    fn reference_data_loads_with_its_keys_and_parses_into_domain_types() {
        let topology = Topology::system().unwrap();
        let data = load(&topology).unwrap();
        let count = |name: &str| {
            data.iter()
                .find(|t| t.table.logical == name)
                .map(|t| t.items.clone())
                .unwrap()
        };
        let users: Vec<User> = serde_dynamo::from_items(count("users")).unwrap();
        let assets: Vec<Asset> = serde_dynamo::from_items(count("assets")).unwrap();
        let rentals: Vec<Rental> = serde_dynamo::from_items(count("rentals")).unwrap();
        assert_eq!((users.len(), assets.len(), rentals.len()), (5, 50, 10));
    }

    #[test]
    fn an_item_without_its_key_is_refused() {
        let topology = Topology::system().unwrap();
        let users = topology.table("users").unwrap();
        let data = users.reference_data.clone().unwrap();
        let err = to_item(users, &data, serde_json::json!({"name": "x"})).unwrap_err();
        assert!(err.to_string().contains("no user_id"), "{err}");
    }
}
