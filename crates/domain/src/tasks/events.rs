//! The events of the task flow.

use super::TaskGroup;
use crate::PortError;
use crate::events::{Event, Outbound};
use crate::tasks::TaskId;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A task was accepted and awaits its turn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskSubmitted {
    pub task_id: TaskId,
}

/// The task stream has a queue of its own, read one message at a time (see topology.json).
impl Event for TaskSubmitted {
    const TYPE: &'static str = "TaskSubmitted";
    const CHANNEL: &'static str = "tasks";
}

impl TaskSubmitted {
    /// Tasks of one group form one aggregate, so the outbox keeps them in one partition (one
    /// stream shard, in write order) and they travel in one message group.
    pub fn outbound(&self, group: &TaskGroup, at: DateTime<Utc>) -> Result<Outbound, PortError> {
        Outbound::new(self, self.task_id.as_str(), group.as_str(), at)
    }
}
