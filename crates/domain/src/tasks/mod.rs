//! Flow 4: an ordered task queue. Tasks run one after another in the order they were accepted;
//! each records its position in that order (`sequence`) and how it ended.

pub mod events;
mod ids;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod ports;
mod processing;
mod submission;
mod task;
mod validation;

pub use ids::TaskId;

pub use events::TaskSubmitted;
pub use processing::{ProcessOutcome, RunTask, begin_attempt, process_task};
pub use submission::submit_task;
pub use task::{NewTask, Priority, Settlement, Task, TaskGroup, TaskStatus};
pub use validation::{CODES as FIELD_CODES, MAX_DESCRIPTION_LEN, MAX_TITLE_LEN};

/// The bodies this flow reads from outside (see [`crate::edge`]).
pub const EDGE: crate::edge::Edge = crate::edge::Edge {
    json: &[crate::edge::Parser {
        name: "task",
        parse: |v| NewTask::from_json(v).map(drop),
        sample: r#"{"title": "t", "description": "", "priority": "low"}"#,
        fields: &["title", "description", "priority", "due_date"],
    }],
    text: &[],
};
