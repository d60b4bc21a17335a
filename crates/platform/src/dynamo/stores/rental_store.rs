use crate::dynamo::{Item, attr, field_attr, s, transact};
use crate::ConfigError;
use crate::aws::{data_error, sdk_error};
use crate::config::Vars;
use crate::outbox::OutboxRecord;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use domain::PortError;
use domain::ids::UserId;
use domain::rentals::{AssetId, ReturnId};
use domain::rentals::ports::{CommitResult, RentalStore, ReturnCommit};
use domain::rentals::{Asset, Rental, RentalStatus, ReturnRecord, ReturnState, User};
use domain::time::format_time;
use serde::de::DeserializeOwned;
use tracing::instrument;

/// Name of the rentals table's index on (`user_id`, `created_at`).
pub const RENTALS_BY_USER_INDEX: &str = "by_user";

/// Names of the tables of the rental flow.
#[derive(Debug, Clone)]
pub struct RentalTables {
    pub users: String,
    pub assets: String,
    pub rentals: String,
    pub returns: String,
    pub outbox: String,
}

impl RentalTables {
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
        Ok(Self {
            users: vars.table("users")?,
            assets: vars.table("assets")?,
            rentals: vars.table("rentals")?,
            returns: vars.table("returns")?,
            outbox: vars.table("outbox")?,
        })
    }
}

/// Users, assets, rentals and returns in DynamoDB; a return's decision, the rental it completes
/// and the event it emits are written in one `TransactWriteItems`.
#[derive(Clone)]
pub struct DynamoRentalStore {
    client: Client,
    tables: RentalTables,
}

impl DynamoRentalStore {
    pub fn new(client: Client, tables: RentalTables) -> Self {
        Self { client, tables }
    }

    async fn get<T: DeserializeOwned>(
        &self,
        table: &str,
        key: &str,
        id: &str,
    ) -> Result<Option<T>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(table)
            .key(key, s(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        out.item
            .map(|item| serde_dynamo::from_item(item).map_err(|e| data_error(table, e)))
            .transpose()
    }

    fn return_put(&self, record: &ReturnRecord) -> Result<TransactWriteItem, PortError> {
        let item: Item =
            serde_dynamo::to_item(record).map_err(|e| data_error("return record", e))?;
        let put = Put::builder()
            .table_name(&self.tables.returns)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(return_id) OR #status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":pending", field_attr(&ReturnState::Pending, "status")?)
            .build()
            .map_err(|e| data_error("Put", e))?;
        Ok(TransactWriteItem::builder().put(put).build())
    }

    fn rental_update(&self, rental: &Rental) -> Result<TransactWriteItem, PortError> {
        let (Some(at), Some(location)) = (rental.returned_at, &rental.returned_at_location_id)
        else {
            return Err(PortError::Permanent(
                "completed rental without return time or place".into(),
            ));
        };
        let update = Update::builder()
            .table_name(&self.tables.rentals)
            .key("rental_id", s(rental.rental_id.as_str()))
            .update_expression(
                "SET #status = :completed, returned_at = :at, returned_at_location_id = :loc",
            )
            .condition_expression("#status = :in_progress")
            .expression_attribute_names("#status", "status")
            .expression_attribute_values(":completed", attr(&rental.status)?)
            .expression_attribute_values(":in_progress", attr(&RentalStatus::InProgress)?)
            .expression_attribute_values(":at", s(format_time(&at)))
            .expression_attribute_values(":loc", s(location.as_str()))
            .build()
            .map_err(|e| data_error("Update", e))?;
        Ok(TransactWriteItem::builder().update(update).build())
    }
}

#[async_trait]
impl RentalStore for DynamoRentalStore {
    #[instrument(skip_all, fields(user_id = %id))]
    async fn find_user(&self, id: &UserId) -> Result<Option<User>, PortError> {
        self.get(&self.tables.users, "user_id", id.as_str()).await
    }

    #[instrument(skip_all, fields(asset_id = %id))]
    async fn find_asset(&self, id: &AssetId) -> Result<Option<Asset>, PortError> {
        self.get(&self.tables.assets, "asset_id", id.as_str()).await
    }

    #[instrument(skip_all, fields(user_id = %user))]
    async fn rentals_of(&self, user: &UserId) -> Result<Vec<Rental>, PortError> {
        // The index is eventually consistent; the transaction's condition on the rental's status
        // is what keeps a stale read from completing a rental twice.
        let items = self
            .client
            .query()
            .table_name(&self.tables.rentals)
            .index_name(RENTALS_BY_USER_INDEX)
            .key_condition_expression("user_id = :u")
            .expression_attribute_values(":u", s(user.as_str()))
            .into_paginator()
            .items()
            .send()
            .collect::<Result<Vec<_>, _>>()
            .await
            .map_err(|e| sdk_error("Query", e))?;
        serde_dynamo::from_items(items).map_err(|e| data_error(&self.tables.rentals, e))
    }

    #[instrument(skip_all, fields(return_id = %id))]
    async fn find_return(&self, id: &ReturnId) -> Result<Option<ReturnRecord>, PortError> {
        self.get(&self.tables.returns, "return_id", id.as_str())
            .await
    }

    #[instrument(skip_all, fields(return_id = %commit.record.return_id))]
    async fn commit_return(&self, commit: &ReturnCommit) -> Result<CommitResult, PortError> {
        let mut items = vec![self.return_put(&commit.record)?];
        if let Some(c) = &commit.completion {
            items.push(self.rental_update(&c.rental)?);
            items.push(OutboxRecord::for_event(&c.event)?.transact_put(&self.tables.outbox)?);
        }
        let outcome = transact(&self.client, items).await?;
        Ok(if outcome.failed_at(0) {
            CommitResult::ReturnAlreadyDecided
        } else if outcome.failed_at(1) {
            CommitResult::RentalTaken
        } else {
            CommitResult::Committed
        })
    }

    #[instrument(skip_all, fields(return_id = %record.return_id))]
    async fn record_pending(&self, record: &ReturnRecord) -> Result<bool, PortError> {
        let item: Item =
            serde_dynamo::to_item(record).map_err(|e| data_error("return record", e))?;
        crate::dynamo::put_if(
            self.client
                .put_item()
                .table_name(&self.tables.returns)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(return_id)"),
        )
        .await
    }
}
