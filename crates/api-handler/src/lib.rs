//! The HTTP edge: routing, request parsing and validation, error mapping, reads. Writes are a
//! single durable step (a queue send or one transaction); business rules live in `domain`.

// Nested SDK futures exceed the default limit when their layout is computed.
#![recursion_limit = "256"]

pub mod body;
pub mod error;
pub mod idempotency;
pub mod ports;
pub mod routes;

pub use error::ApiError;
pub use ports::{Ports, Services};
pub use routes::router;

use domain::tasks::TaskGroup;
use platform::ConfigError;
use platform::config::{RentalTables, required};

#[derive(Debug, Clone)]
pub struct Config {
    pub tables: RentalTables,
    pub stats_table: String,
    pub markers_table: String,
    pub returns_queue_url: String,
    pub idempotency_table: String,
    pub formulas_table: String,
    pub tasks_table: String,
    /// `TASK_MESSAGE_GROUP`, default `tasks`: the one message group of the task stream.
    pub task_group: TaskGroup,
}

impl Config {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            tables: RentalTables::from_env()?,
            stats_table: required("STATS_TABLE")?,
            markers_table: required("PROCESSED_TABLE")?,
            returns_queue_url: required("RETURNS_QUEUE_URL")?,
            idempotency_table: required("IDEMPOTENCY_TABLE")?,
            formulas_table: required("FORMULAS_TABLE")?,
            tasks_table: required("TASKS_TABLE")?,
            task_group: task_group()?,
        })
    }
}

fn task_group() -> Result<TaskGroup, ConfigError> {
    match std::env::var("TASK_MESSAGE_GROUP") {
        Err(_) => Ok(TaskGroup::default()),
        Ok(raw) => TaskGroup::parse(raw.trim()).ok_or(ConfigError::Invalid {
            name: "TASK_MESSAGE_GROUP",
            value: raw,
            reason: "1-128 printable ASCII characters without spaces".into(),
        }),
    }
}
