//! Reference data (`data/topanga/`): loaded idempotently by `seed`, restored by `reset`.

use crate::provision::Resources;
use crate::{DevError, Result};
use aws_sdk_dynamodb::Client;
use domain::rentals::{Asset, Rental, User};
use platform::dynamo::Item;
use platform::sdk_error;
use serde::Serialize;

const USERS: &str = include_str!("../../../data/topanga/users.json");
const ASSETS: &str = include_str!("../../../data/topanga/assets.json");
const RENTALS: &str = include_str!("../../../data/topanga/rentals.json");

/// The parsed reference data. Parsing goes through the domain types, so bad fixture data fails
/// here rather than in a function.
pub struct ReferenceData {
    pub users: Vec<User>,
    pub assets: Vec<Asset>,
    pub rentals: Vec<Rental>,
}

impl ReferenceData {
    pub fn load() -> Result<Self> {
        Ok(Self {
            users: serde_json::from_str(USERS)?,
            assets: serde_json::from_str(ASSETS)?,
            rentals: serde_json::from_str(RENTALS)?,
        })
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct SeedReport {
    pub written: usize,
    pub already_present: usize,
}

/// Inserts whatever reference item is missing and leaves every existing item untouched, so a
/// second run changes nothing (a rental completed meanwhile stays completed).
pub async fn seed(client: &Client, r: &Resources) -> Result<SeedReport> {
    write_all(client, r, false).await
}

/// Restores the initial state: clears every table but the reference tables (returns, outbox,
/// stats, markers, rejections, idempotency records, formulas, tasks and the task counter) and
/// overwrites the reference items.
pub async fn reset(client: &Client, r: &Resources) -> Result<SeedReport> {
    for (logical, table) in &r.tables {
        if !REFERENCE_TABLES.contains(&logical.as_str()) {
            clear_table(client, table).await?;
        }
    }
    write_all(client, r, true).await
}

/// The tables the reference data lives in; every other table holds state that processing wrote.
const REFERENCE_TABLES: [&str; 3] = ["users", "assets", "rentals"];

async fn write_all(client: &Client, r: &Resources, overwrite: bool) -> Result<SeedReport> {
    let data = ReferenceData::load()?;
    let mut report = SeedReport::default();
    for (table, key, items) in [
        (r.table("users")?, "user_id", to_items(&data.users)?),
        (r.table("assets")?, "asset_id", to_items(&data.assets)?),
        (r.table("rentals")?, "rental_id", to_items(&data.rentals)?),
    ] {
        for item in items {
            let mut put = client.put_item().table_name(table).set_item(Some(item));
            if !overwrite {
                put = put.condition_expression(format!("attribute_not_exists({key})"));
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

fn to_items<T: Serialize>(values: &[T]) -> Result<Vec<Item>> {
    values
        .iter()
        .map(|v| {
            serde_dynamo::to_item(v).map_err(|e| DevError::Setup(format!("reference data: {e}")))
        })
        .collect()
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

    #[test]
    fn reference_data_parses_into_domain_types() {
        let d = ReferenceData::load().unwrap();
        assert_eq!(
            (d.users.len(), d.assets.len(), d.rentals.len()),
            (5, 50, 10)
        );
    }
}
