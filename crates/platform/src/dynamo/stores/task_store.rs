use crate::dynamo::{Item, OutboxTable, Transaction, attr, n, s, transact};
use crate::aws::{data_error, sdk_error};
use crate::outbox::OutboxRecord;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem, Update};
use domain::PortError;
use domain::events::Outbound;
use domain::tasks::TaskId;
use domain::tasks::Task;
use domain::tasks::ports::TaskStore;
use tracing::instrument;

/// The item that holds the last sequence number handed out. Task ids start with `tsk_`, so this
/// key can never be a task's.
pub const SEQUENCE_KEY: &str = "#sequence";

/// Tasks in DynamoDB, plus the sequence counter item. The lifecycle is the domain's
/// ([`Task::begin`], [`Task::settle`]); this store writes what it decides, conditioned on the
/// state it was decided from, and moves the counter in the same transaction when a task takes a
/// number, so two attempts can never take the same number and a number is never skipped.
#[derive(Clone)]
pub struct DynamoTaskStore {
    client: Client,
    table: String,
    outbox: OutboxTable,
}

impl DynamoTaskStore {
    pub fn new(client: Client, table: impl Into<String>, outbox_table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            outbox: OutboxTable::Writes(outbox_table.into()),
        }
    }

    /// For a consumer: reads and processing updates, no submissions.
    pub fn reader(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            outbox: OutboxTable::None,
        }
    }

    async fn read(&self, key: &str) -> Result<Option<Item>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("task_id", s(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        Ok(out.item)
    }

    /// `next` in place of `prior`, if the stored task still has `prior`'s status and attempts.
    fn guarded_put(&self, prior: &Task, next: &Task) -> Result<Put, PortError> {
        let item: Item = serde_dynamo::to_item(next).map_err(|e| data_error("task", e))?;
        Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("#s = :prior_status AND attempts = :prior_attempts")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":prior_status", attr(&prior.status)?)
            .expression_attribute_values(":prior_attempts", n(prior.attempts))
            .build()
            .map_err(|e| data_error("Put", e))
    }

    /// The counter moved from `number - 1` to `number`.
    fn counter_move(&self, number: u64) -> Result<Update, PortError> {
        let update = Update::builder()
            .table_name(&self.table)
            .key("task_id", s(SEQUENCE_KEY))
            .update_expression("SET #v = :next")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":next", n(number));
        let update = match number.checked_sub(1) {
            None | Some(0) => update.condition_expression("attribute_not_exists(#v)"),
            Some(last) => update
                .condition_expression("#v = :last")
                .expression_attribute_values(":last", n(last)),
        };
        update.build().map_err(|e| data_error("Update", e))
    }
}

#[async_trait]
impl TaskStore for DynamoTaskStore {
    #[instrument(skip_all, fields(task_id = %task.task_id))]
    async fn submit(&self, task: &Task, event: &Outbound) -> Result<(), PortError> {
        let item: Item = serde_dynamo::to_item(task).map_err(|e| data_error("task", e))?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(task_id)")
            .build()
            .map_err(|e| data_error("Put", e))?;
        let outbox = OutboxRecord::for_event(event)?.transact_put(self.outbox.table()?)?;
        let items = vec![TransactWriteItem::builder().put(put).build(), outbox];
        match transact(&self.client, items).await? {
            Transaction::Committed => Ok(()),
            // A ULID collision: a new id on the client's retry will do.
            Transaction::ConditionsFailed(_) => Err(PortError::Retryable(format!(
                "task id {} is taken",
                task.task_id
            ))),
        }
    }

    #[instrument(skip(self))]
    async fn get(&self, id: &TaskId) -> Result<Option<Task>, PortError> {
        if id.as_str() == SEQUENCE_KEY {
            return Ok(None);
        }
        self.read(id.as_str())
            .await?
            .map(|i| serde_dynamo::from_item(i).map_err(|e| data_error(&self.table, e)))
            .transpose()
    }

    #[instrument(skip(self))]
    async fn last_sequence(&self) -> Result<u64, PortError> {
        let Some(item) = self.read(SEQUENCE_KEY).await? else {
            return Ok(0);
        };
        item.get("value")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| data_error(&self.table, "sequence counter without a numeric value"))
    }

    #[instrument(skip_all, fields(task_id = %next.task_id, status = ?next.status))]
    async fn replace(&self, prior: &Task, next: &Task) -> Result<bool, PortError> {
        let put = self.guarded_put(prior, next)?;
        let numbered = next.sequence.filter(|_| next.sequence != prior.sequence);
        let Some(number) = numbered else {
            return crate::dynamo::put_if(
                self.client
                    .put_item()
                    .table_name(put.table_name())
                    .set_item(Some(put.item().clone()))
                    .set_condition_expression(put.condition_expression().map(str::to_owned))
                    .set_expression_attribute_names(put.expression_attribute_names().cloned())
                    .set_expression_attribute_values(put.expression_attribute_values().cloned()),
            )
            .await;
        };
        // Numbers start at 1 (the counter is 0 before the first): 0 follows no number.
        if number == 0 {
            return Ok(false);
        }
        let items = vec![
            TransactWriteItem::builder()
                .update(self.counter_move(number)?)
                .build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        Ok(transact(&self.client, items).await? == Transaction::Committed)
    }
}
