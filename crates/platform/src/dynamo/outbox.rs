//! The outbox as a port of its own: events a handler raises that follow from another event
//! rather than from a state change of the handler's (a low-stock alert from the status change
//! that crossed the threshold). Each is one outbox row, written once per event id, which the
//! relay publishes like any other.

use super::transact;
use crate::outbox::OutboxRecord;
use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use domain::PortError;
use domain::events::{EventOutbox, Outbound};
use tracing::instrument;

/// Events a handler raises, written to the outbox once per id.
#[derive(Clone)]
pub struct DynamoOutbox {
    client: Client,
    table: String,
}

impl DynamoOutbox {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }
}

#[async_trait]
impl EventOutbox for DynamoOutbox {
    #[instrument(skip_all, fields(events = events.len()))]
    async fn emit(&self, events: &[Outbound]) -> Result<(), PortError> {
        for e in events {
            let put = OutboxRecord::for_event(e)?.transact_put(&self.table)?;
            // A failed condition: this event id is in the outbox already.
            transact(&self.client, vec![put]).await?;
        }
        Ok(())
    }
}
