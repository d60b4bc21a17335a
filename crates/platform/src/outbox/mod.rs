//! Transactional outbox: a state change and the events it emits are written in one
//! `TransactWriteItems` (the outbox row is one of the items); the relay publishes rows from the
//! outbox table's stream.

mod publisher;
mod record;
mod relay;

pub use publisher::{AwsPublisher, Channel, Publisher};
pub use record::{OUTBOX_TTL_DAYS, OutboxRecord};
pub use relay::relay_stream_batch;
