use super::{Item, Transaction, n, s, transact};
use crate::aws::{data_error, sdk_error};
use crate::outbox::OutboxRecord;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem, Update};
use chrono::{DateTime, Utc};
use domain::PortError;
use domain::events::DomainEvent;
use domain::ids::TaskId;
use domain::ports::TaskStore;
use domain::tasks::{Settlement, Task, TaskStatus};
use domain::time::format_time;
use tracing::{debug, instrument};

/// The item that holds the last sequence number handed out. Task ids start with `tsk_`, so this
/// key can never be a task's.
pub const SEQUENCE_KEY: &str = "#sequence";

/// How often `begin` re-reads the counter when another attempt moved it first.
const NUMBERING_ATTEMPTS: usize = 5;

/// Tasks in DynamoDB, plus the sequence counter item. Numbering a task is one transaction that
/// moves the counter from the value it read to the next one and gives the task that number, so
/// two attempts can never take the same number and a number is never skipped.
#[derive(Clone)]
pub struct DynamoTaskStore {
    client: Client,
    table: String,
    outbox_table: String,
}

/// A status as stored: the same text the task item carries (serde's snake_case names).
fn status(value: TaskStatus) -> Result<aws_sdk_dynamodb::types::AttributeValue, PortError> {
    serde_dynamo::to_attribute_value(value).map_err(|e| data_error("task status", e))
}

impl DynamoTaskStore {
    pub fn new(client: Client, table: impl Into<String>, outbox_table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            outbox_table: outbox_table.into(),
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

    fn parse(&self, item: Item) -> Result<Task, PortError> {
        serde_dynamo::from_item(item).map_err(|e| data_error(&self.table, e))
    }

    async fn last_sequence(&self) -> Result<u64, PortError> {
        let Some(item) = self.read(SEQUENCE_KEY).await? else {
            return Ok(0);
        };
        item.get("value")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| data_error(&self.table, "sequence counter without a numeric value"))
    }

    /// Another attempt at the same task (a retry): counted, number kept.
    async fn count_attempt(&self, id: &TaskId) -> Result<Option<Task>, PortError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("task_id", s(id.as_str()))
            .update_expression("SET attempts = if_not_exists(attempts, :zero) + :one")
            .condition_expression("#s = :processing")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":processing", status(TaskStatus::Processing)?)
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => out.attributes.map(|i| self.parse(i)).transpose(),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Err(PortError::Retryable(format!(
                    "task {id} changed state while an attempt started"
                )))
            }
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }

    /// Gives a `queued` or `failed` task the next number and makes it `processing`; `None`
    /// when the counter or the task moved since they were read.
    async fn number(&self, task: &Task, at: DateTime<Utc>) -> Result<Option<Task>, PortError> {
        let last = self.last_sequence().await?;
        let next = last + 1;
        let counter = Update::builder()
            .table_name(&self.table)
            .key("task_id", s(SEQUENCE_KEY))
            .update_expression("SET #v = :next")
            .expression_attribute_names("#v", "value")
            .expression_attribute_values(":next", n(next));
        let counter = if last == 0 {
            counter.condition_expression("attribute_not_exists(#v)")
        } else {
            counter
                .condition_expression("#v = :last")
                .expression_attribute_values(":last", n(last))
        }
        .build()
        .map_err(|e| data_error("Update", e))?;
        let started = Update::builder()
            .table_name(&self.table)
            .key("task_id", s(task.task_id.as_str()))
            .update_expression(
                "SET #s = :processing, #q = :next, started_at = :at, \
                 attempts = if_not_exists(attempts, :zero) + :one REMOVE finished_at",
            )
            .condition_expression("#s = :prior")
            .expression_attribute_names("#s", "status")
            .expression_attribute_names("#q", "sequence")
            .expression_attribute_values(":processing", status(TaskStatus::Processing)?)
            .expression_attribute_values(":prior", status(task.status)?)
            .expression_attribute_values(":next", n(next))
            .expression_attribute_values(":at", s(format_time(&at)))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .build()
            .map_err(|e| data_error("Update", e))?;
        let items = vec![
            TransactWriteItem::builder().update(counter).build(),
            TransactWriteItem::builder().update(started).build(),
        ];
        Ok(match transact(&self.client, items).await? {
            Transaction::Committed => Some(Task {
                status: TaskStatus::Processing,
                sequence: Some(next),
                started_at: Some(at),
                finished_at: None,
                attempts: task.attempts + 1,
                ..task.clone()
            }),
            Transaction::ConditionsFailed(_) => None,
        })
    }
}

impl TaskStore for DynamoTaskStore {
    #[instrument(skip_all, fields(task_id = %task.task_id))]
    async fn submit(&self, task: &Task, event: &DomainEvent) -> Result<(), PortError> {
        let item: Item = serde_dynamo::to_item(task).map_err(|e| data_error("task", e))?;
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(task_id)")
            .build()
            .map_err(|e| data_error("Put", e))?;
        let outbox = OutboxRecord::for_domain_event(event)?.transact_put(&self.outbox_table)?;
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
            .map(|i| self.parse(i))
            .transpose()
    }

    #[instrument(skip(self))]
    async fn begin(&self, id: &TaskId, at: DateTime<Utc>) -> Result<Option<Task>, PortError> {
        for _ in 0..NUMBERING_ATTEMPTS {
            let Some(task) = self.get(id).await? else {
                return Ok(None);
            };
            match task.status {
                TaskStatus::Completed => return Ok(Some(task)),
                TaskStatus::Processing => return self.count_attempt(id).await,
                TaskStatus::Queued | TaskStatus::Failed => {
                    if let Some(started) = self.number(&task, at).await? {
                        return Ok(Some(started));
                    }
                    debug!("counter or task moved; reading both again");
                }
            }
        }
        Err(PortError::Retryable(format!(
            "could not number task {id}: the counter kept moving"
        )))
    }

    #[instrument(skip(self))]
    async fn settle(&self, id: &TaskId, settlement: &Settlement) -> Result<(), PortError> {
        let update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key("task_id", s(id.as_str()))
            .condition_expression("#s = :processing")
            .expression_attribute_names("#s", "status")
            .expression_attribute_values(":processing", status(TaskStatus::Processing)?);
        let update = match settlement {
            Settlement::Completed { at } => update
                .update_expression("SET #s = :done, finished_at = :at")
                .expression_attribute_values(":done", status(TaskStatus::Completed)?)
                .expression_attribute_values(":at", s(format_time(at))),
            Settlement::Retrying { error } => update
                .update_expression("SET last_error = :e")
                .expression_attribute_values(":e", s(error)),
            Settlement::Failed { error, at } => update
                .update_expression("SET #s = :failed, last_error = :e, finished_at = :at")
                .expression_attribute_values(":failed", status(TaskStatus::Failed)?)
                .expression_attribute_values(":e", s(error))
                .expression_attribute_values(":at", s(format_time(at))),
        };
        match update.send().await {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                debug!("task is no longer processing; nothing to record");
                Ok(())
            }
            Err(e) => Err(sdk_error("UpdateItem", e)),
        }
    }
}
