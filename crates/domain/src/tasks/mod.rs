//! Flow 4: an ordered task queue. Tasks run one after another in the order they were accepted;
//! each records its position in that order (`sequence`) and how it ended.

pub mod events;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
pub mod ports;
mod processing;
mod submission;
mod task;
mod validation;

pub use events::TaskSubmitted;
pub use processing::{ProcessOutcome, RunTask, begin_attempt, process_task};
pub use submission::submit_task;
pub use task::{NewTask, Priority, Settlement, Task, TaskGroup, TaskStatus};
pub use validation::{MAX_DESCRIPTION_LEN, MAX_TITLE_LEN};
