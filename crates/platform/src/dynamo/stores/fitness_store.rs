//! The fitness flow's table: one partition per user, with items by key prefix.
//!
//! | `key` | item |
//! |---|---|
//! | `session#<program>#<started_at>` | a [`Session`] (the program escaped, the time fixed-width, so a prefix query finds a program's sessions in start order) |
//! | `launch#<launch_id>` | a [`Launch`] |
//! | `pending#<launch_id>` | a copy of a launch while its nudge is pending, so one query finds what is left to settle |
//! | `unknown#<event_id>` | an event of an unknown type with its raw body |
//! | `unknown-type#<type>` | the user's count of an unknown type (`count`) |
//!
//! The counts over all users are one item per type under `user_id` [`ALL_USERS`], keyed
//! `unknown-type-all#<type>`: a prefix no user's own counts have, so even a user called
//! `all-users` keeps them apart.

mod view;

use crate::dynamo::{Item, OutboxTable, Transaction, consistent_get, consistent_get_item, n, s, transact};
use crate::aws::{data_error, sdk_error};
use crate::outbox::OutboxRecord;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::PortError;
use domain::events::Outbound;
use domain::fitness::ProgramId;
use domain::fitness::ports::{FitnessStore, FitnessView, UserActivity};
use domain::fitness::{AppEvent, Launch, NudgeState, Session};
use domain::ids::{EventId, UserId};
use std::collections::BTreeMap;
use tracing::instrument;

pub const ALL_USERS: &str = "all-users";
const USER_TYPE_PREFIX: &str = "unknown-type#";
const ALL_TYPE_PREFIX: &str = "unknown-type-all#";
/// The most items of a kind (sessions, launches, pending launches, counts) one read returns:
/// past it, a user's activity shows the first ones by key.
pub const ACTIVITY_ITEMS: usize = 1_000;

#[derive(Clone)]
pub struct DynamoFitnessStore {
    client: Client,
    table: String,
    outbox: OutboxTable,
}

/// `#` and `%` escaped, so a program id cannot reach into another program's prefix.
fn escape(id: &str) -> String {
    id.replace('%', "%25").replace('#', "%23")
}

fn fixed_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

fn program_prefix(program: &ProgramId) -> String {
    format!("session#{}#", escape(program.as_str()))
}

fn session_key(s: &Session) -> String {
    format!(
        "{}{}",
        program_prefix(&s.training_program_id),
        fixed_time(&s.started_at)
    )
}

fn launch_key(id: &EventId) -> String {
    format!("launch#{}", id.as_str())
}

fn pending_key(id: &EventId) -> String {
    format!("pending#{}", id.as_str())
}

impl DynamoFitnessStore {
    pub fn new(client: Client, table: impl Into<String>, outbox: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            outbox: OutboxTable::Writes(outbox.into()),
        }
    }

    /// For the API's reads: writes nothing.
    pub fn reader(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            outbox: OutboxTable::None,
        }
    }

    fn item<T: serde::Serialize>(
        &self,
        value: &T,
        user: &UserId,
        key: String,
    ) -> Result<Item, PortError> {
        let mut item: Item =
            serde_dynamo::to_item(value).map_err(|e| data_error("fitness item", e))?;
        item.insert("user_id".into(), s(user.as_str()));
        item.insert("key".into(), s(key));
        Ok(item)
    }

    fn put(&self, item: Item) -> aws_sdk_dynamodb::types::builders::PutBuilder {
        Put::builder().table_name(&self.table).set_item(Some(item))
    }

    /// Puts `item` unless its key exists: `false` when it does.
    async fn put_new(&self, item: Item) -> Result<bool, PortError> {
        crate::dynamo::put_if(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item))
                .condition_expression("attribute_not_exists(#k)")
                .expression_attribute_names("#k", "key"),
        )
        .await
    }

    async fn get<T: serde::de::DeserializeOwned>(
        &self,
        user: &UserId,
        key: &str,
    ) -> Result<Option<T>, PortError> {
        consistent_get(
            &self.client,
            &self.table,
            &[("user_id", user.as_str()), ("key", key)],
        )
        .await
    }

    /// Every item of `user` whose key starts with `prefix`, in key order (strongly consistent,
    /// all pages up to `limit` items).
    async fn query(
        &self,
        user: &str,
        prefix: &str,
        forward: bool,
        limit: usize,
    ) -> Result<Vec<Item>, PortError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression("user_id = :u AND begins_with(#k, :p)")
                .expression_attribute_names("#k", "key")
                .expression_attribute_values(":u", s(user))
                .expression_attribute_values(":p", s(prefix))
                .scan_index_forward(forward)
                .consistent_read(true)
                .limit(i32::try_from(limit.min(1_000)).unwrap_or(1_000))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| sdk_error("Query", e))?;
            out.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() || out.len() >= limit {
                out.truncate(limit);
                return Ok(out);
            }
        }
    }

    fn decode<T: serde::de::DeserializeOwned>(&self, item: Item) -> Result<T, PortError> {
        serde_dynamo::from_item(item).map_err(|e| data_error(&self.table, e))
    }

    fn outbox_put(&self, event: Option<&Outbound>) -> Result<Option<TransactWriteItem>, PortError> {
        event
            .map(|e| OutboxRecord::for_event(e)?.transact_put(self.outbox.table()?))
            .transpose()
    }

    /// Counts of the items of `user` keyed `prefix<type>`, by type.
    async fn counts(&self, user: &str, prefix: &str) -> Result<BTreeMap<String, u64>, PortError> {
        Ok(self
            .query(user, prefix, true, ACTIVITY_ITEMS)
            .await?
            .into_iter()
            .filter_map(|item| {
                let name = item
                    .get("key")?
                    .as_s()
                    .ok()?
                    .strip_prefix(prefix)?
                    .to_owned();
                let count = item.get("count")?.as_n().ok()?.parse().ok()?;
                Some((name, count))
            })
            .collect())
    }

    fn count_update(&self, user: &str, key: String) -> Result<Update, PortError> {
        Update::builder()
            .table_name(&self.table)
            .key("user_id", s(user))
            .key("key", s(key))
            .update_expression("ADD #c :one")
            .expression_attribute_names("#c", "count")
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| data_error("Update", e))
    }

    /// The global count of an unknown event, and the record's note that it was counted.
    /// Outside the transaction that records the event: a type many users send would make that
    /// one item a point where transactions conflict, and a plain `ADD` never conflicts. A crash
    /// between the two writes counts that event twice over all users (its user's count is
    /// exact).
    async fn count_globally(&self, event: &AppEvent, record_key: &str) -> Result<(), PortError> {
        let u = self.count_update(ALL_USERS, format!("{ALL_TYPE_PREFIX}{}", event.type_name))?;
        self.client
            .update_item()
            .table_name(u.table_name())
            .set_key(Some(u.key().clone()))
            .set_update_expression(Some(u.update_expression().to_owned()))
            .set_expression_attribute_names(u.expression_attribute_names().cloned())
            .set_expression_attribute_values(u.expression_attribute_values().cloned())
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", e))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key("user_id", s(event.user_id.as_str()))
            .key("key", s(record_key))
            .update_expression("SET counted = :yes")
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(|e| sdk_error("UpdateItem", e))?;
        Ok(())
    }
}

#[async_trait]
impl FitnessStore for DynamoFitnessStore {
    #[instrument(skip(self))]
    async fn latest_session(
        &self,
        user: &UserId,
        program: &ProgramId,
    ) -> Result<Option<Session>, PortError> {
        self.query(user.as_str(), &program_prefix(program), false, 1)
            .await?
            .into_iter()
            .next()
            .map(|i| self.decode(i))
            .transpose()
    }

    #[instrument(skip_all, fields(user_id = %session.user_id))]
    async fn start_session(&self, session: &Session) -> Result<(), PortError> {
        let item = self.item(session, &session.user_id, session_key(session))?;
        self.put_new(item).await.map(|_| ())
    }

    #[instrument(skip_all, fields(user_id = %next.user_id, state = ?next.state))]
    async fn end_session(
        &self,
        next: &Session,
        event: Option<&Outbound>,
    ) -> Result<bool, PortError> {
        let put = self
            .put(self.item(next, &next.user_id, session_key(next))?)
            .condition_expression("#s = :started")
            .expression_attribute_names("#s", "state")
            .expression_attribute_values(":started", s("started"))
            .build()
            .map_err(|e| data_error("Put", e))?;
        let mut items = vec![TransactWriteItem::builder().put(put).build()];
        items.extend(self.outbox_put(event)?);
        Ok(transact(&self.client, items).await? == Transaction::Committed)
    }

    #[instrument(skip_all, fields(user_id = %launch.user_id, launch_id = %launch.launch_id))]
    async fn record_launch(&self, launch: &Launch) -> Result<Launch, PortError> {
        let item = self.item(launch, &launch.user_id, launch_key(&launch.launch_id))?;
        let marker = self.item(launch, &launch.user_id, pending_key(&launch.launch_id))?;
        let put = |item| {
            self.put(item)
                .condition_expression("attribute_not_exists(#k)")
                .expression_attribute_names("#k", "key")
                .build()
                .map(|p| TransactWriteItem::builder().put(p).build())
                .map_err(|e| data_error("Put", e))
        };
        match transact(&self.client, vec![put(item)?, put(marker)?]).await? {
            Transaction::Committed => Ok(launch.clone()),
            Transaction::ConditionsFailed(_) => self
                .launch(&launch.user_id, &launch.launch_id)
                .await?
                .ok_or_else(|| {
                    PortError::Retryable(format!("launch {} half written", launch.launch_id))
                }),
        }
    }

    #[instrument(skip(self))]
    async fn launch(&self, user: &UserId, launch: &EventId) -> Result<Option<Launch>, PortError> {
        self.get(user, &launch_key(launch)).await
    }

    #[instrument(skip(self))]
    async fn pending_launches(&self, user: &UserId) -> Result<Vec<Launch>, PortError> {
        let mut out: Vec<Launch> = self
            .query(user.as_str(), "pending#", true, ACTIVITY_ITEMS)
            .await?
            .into_iter()
            .map(|i| self.decode(i))
            .collect::<Result<_, _>>()?;
        out.sort_by_key(|l| l.launched_at);
        Ok(out)
    }

    #[instrument(skip_all, fields(user_id = %next.user_id, launch_id = %next.launch_id, nudge = ?next.nudge))]
    async fn settle(&self, next: &Launch, event: Option<&Outbound>) -> Result<bool, PortError> {
        let put = self
            .put(self.item(next, &next.user_id, launch_key(&next.launch_id))?)
            .condition_expression("nudge = :pending")
            .expression_attribute_values(":pending", crate::dynamo::attr(&NudgeState::Pending)?)
            .build()
            .map_err(|e| data_error("Put", e))?;
        let delete = Delete::builder()
            .table_name(&self.table)
            .key("user_id", s(next.user_id.as_str()))
            .key("key", s(pending_key(&next.launch_id)))
            .build()
            .map_err(|e| data_error("Delete", e))?;
        let mut items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().delete(delete).build(),
        ];
        items.extend(self.outbox_put(event)?);
        Ok(transact(&self.client, items).await? == Transaction::Committed)
    }

    #[instrument(skip_all, fields(user_id = %event.user_id, event_type = %event.type_name))]
    async fn record_unknown(&self, event: &AppEvent) -> Result<bool, PortError> {
        let record_key = format!("unknown#{}", event.event_id);
        let mut item = self.item(event, &event.user_id, record_key.clone())?;
        // The raw body as text: any JSON, whatever DynamoDB makes of empty strings or sets.
        let raw = serde_json::to_string(event.raw.as_ref().unwrap_or(&serde_json::Value::Null))
            .map_err(|e| data_error("raw body", e))?;
        item.insert("raw".into(), AttributeValue::S(raw));
        item.remove("payload");
        let put = self
            .put(item)
            .condition_expression("attribute_not_exists(#k)")
            .expression_attribute_names("#k", "key")
            .build()
            .map_err(|e| data_error("Put", e))?;
        let user_count = self.count_update(
            event.user_id.as_str(),
            format!("{USER_TYPE_PREFIX}{}", event.type_name),
        )?;
        let items = vec![
            TransactWriteItem::builder().put(put).build(),
            TransactWriteItem::builder().update(user_count).build(),
        ];
        let first = transact(&self.client, items).await? == Transaction::Committed;
        if !first {
            let recorded: Option<Item> = consistent_get_item(
                &self.client,
                &self.table,
                &[("user_id", event.user_id.as_str()), ("key", &record_key)],
            )
            .await?;
            let counted = recorded
                .as_ref()
                .and_then(|i| i.get("counted"))
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false);
            if counted {
                return Ok(false);
            }
        }
        self.count_globally(event, &record_key).await?;
        Ok(first)
    }
}
