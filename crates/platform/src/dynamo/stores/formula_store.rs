use crate::dynamo::{Item, OutboxTable, Transaction, attr, s, transact};
use crate::aws::{data_error, sdk_error};
use crate::outbox::OutboxRecord;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use domain::PortError;
use domain::events::Outbound;
use domain::formulas::ports::{FormulaStore, FormulaSubmission};
use domain::formulas::{Formula, FormulaStatus};
use domain::formulas::FormulaId;
use tracing::instrument;

/// Formulas in DynamoDB. The id derives from the make-up's fingerprint, so the conditional put
/// of the formula item is the fingerprint claim; it commits with the outbox row or not at all.
#[derive(Clone)]
pub struct DynamoFormulaStore {
    client: Client,
    table: String,
    outbox: OutboxTable,
}

impl DynamoFormulaStore {
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
}

#[async_trait]
impl FormulaStore for DynamoFormulaStore {
    #[instrument(skip_all, fields(formula_id = %formula.formula_id))]
    async fn submit(
        &self,
        formula: &Formula,
        event: &Outbound,
    ) -> Result<FormulaSubmission, PortError> {
        let item: Item = serde_dynamo::to_item(formula).map_err(|e| data_error("formula", e))?;
        let claim = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(formula_id)")
            .build()
            .map_err(|e| data_error("Put", e))?;
        let outbox = OutboxRecord::for_event(event)?.transact_put(self.outbox.table()?)?;
        let items = vec![TransactWriteItem::builder().put(claim).build(), outbox];
        Ok(match transact(&self.client, items).await? {
            Transaction::Committed => FormulaSubmission::Created,
            Transaction::ConditionsFailed(_) => {
                FormulaSubmission::Duplicate(formula.formula_id.clone())
            }
        })
    }

    #[instrument(skip(self))]
    async fn get(&self, id: &FormulaId) -> Result<Option<Formula>, PortError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("formula_id", s(id.as_str()))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", e))?;
        out.item
            .map(|i| serde_dynamo::from_item(i).map_err(|e| data_error(&self.table, e)))
            .transpose()
    }

    #[instrument(skip(self))]
    async fn mark_processed(&self, id: &FormulaId) -> Result<bool, PortError> {
        let marked = crate::dynamo::update_if(
            self.client
                .update_item()
                .table_name(&self.table)
                .key("formula_id", s(id.as_str()))
                .update_expression("SET #s = :processed")
                .condition_expression("attribute_exists(formula_id) AND #s = :pending")
                .expression_attribute_names("#s", "status")
                .expression_attribute_values(":processed", attr(&FormulaStatus::Processed)?)
                .expression_attribute_values(":pending", attr(&FormulaStatus::Pending)?),
        )
        .await?;
        // The condition fails for a formula processed before (the answer is `false`) and for one
        // that was never stored, which no redelivery will change: a permanent error.
        if !marked && self.get(id).await?.is_none() {
            return Err(PortError::Permanent(format!("no formula {id}")));
        }
        Ok(marked)
    }
}
