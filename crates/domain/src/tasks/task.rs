use crate::tasks::TaskId;
use crate::time::serde_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Medium,
    High,
}

impl Priority {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "low" => Some(Self::Low),
            "medium" => Some(Self::Medium),
            "high" => Some(Self::High),
            _ => None,
        }
    }
}

/// `queued` → `processing` → `completed` | `failed`. A failed task whose message is redriven
/// from the dead-letter queue runs again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    Queued,
    Processing,
    Completed,
    Failed,
}

/// The message group the task stream travels in: every task of one group is processed strictly
/// after the ones accepted before it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskGroup(String);

impl TaskGroup {
    pub const DEFAULT: &'static str = "tasks";

    /// SQS accepts 1–128 characters of alphanumerics and punctuation as a group id.
    pub fn parse(value: &str) -> Option<Self> {
        let ok = (1..=128).contains(&value.len()) && value.chars().all(|c| c.is_ascii_graphic());
        ok.then(|| Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for TaskGroup {
    fn default() -> Self {
        Self(Self::DEFAULT.to_owned())
    }
}

impl fmt::Display for TaskGroup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A validated submission, not yet stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTask {
    pub title: String,
    pub description: String,
    pub priority: Priority,
    pub due_date: Option<DateTime<Utc>>,
}

/// A stored task and where it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Task {
    pub task_id: TaskId,
    pub title: String,
    pub description: String,
    pub priority: Priority,
    #[serde(
        default,
        with = "serde_time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub due_date: Option<DateTime<Utc>>,
    pub status: TaskStatus,
    /// Position in processing order (1, 2, …), assigned when processing starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequence: Option<u64>,
    /// Processing attempts so far.
    #[serde(default)]
    pub attempts: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    #[serde(with = "serde_time")]
    pub created_at: DateTime<Utc>,
    #[serde(
        default,
        with = "serde_time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        with = "serde_time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_at: Option<DateTime<Utc>>,
}

impl Task {
    pub fn queued(task_id: TaskId, new: NewTask, at: DateTime<Utc>) -> Self {
        Self {
            task_id,
            title: new.title,
            description: new.description,
            priority: new.priority,
            due_date: new.due_date,
            status: TaskStatus::Queued,
            sequence: None,
            attempts: 0,
            last_error: None,
            created_at: at,
            started_at: None,
            finished_at: None,
        }
    }
}

/// The task lifecycle. Stores persist what these decide, conditioned on the state they read.
impl Task {
    /// An attempt on a task that is `queued`, or `failed` and redriven, starts it afresh with the
    /// next number in processing order; an attempt on a `processing` task is a retry.
    pub fn takes_new_number(&self) -> bool {
        matches!(self.status, TaskStatus::Queued | TaskStatus::Failed)
    }

    /// The task as an attempt starts on it: `processing`, numbered (`next_sequence` when it
    /// starts afresh; a retry keeps its number), one attempt more. `None` for a completed task:
    /// a repeated delivery runs nothing.
    pub fn begin(&self, at: DateTime<Utc>, next_sequence: u64) -> Option<Task> {
        match self.status {
            TaskStatus::Completed => None,
            TaskStatus::Processing => Some(Task {
                attempts: self.attempts + 1,
                ..self.clone()
            }),
            TaskStatus::Queued | TaskStatus::Failed => Some(Task {
                status: TaskStatus::Processing,
                sequence: Some(next_sequence),
                attempts: self.attempts + 1,
                started_at: Some(at),
                finished_at: None,
                ..self.clone()
            }),
        }
    }

    /// The task once an attempt's end is recorded; `None` when it is not `processing` (the
    /// attempt was settled already, or the task moved on): nothing to record.
    pub fn settle(&self, settlement: &Settlement) -> Option<Task> {
        if self.status != TaskStatus::Processing {
            return None;
        }
        Some(match settlement {
            Settlement::Completed { at } => Task {
                status: TaskStatus::Completed,
                finished_at: Some(*at),
                ..self.clone()
            },
            Settlement::Retrying { error } => Task {
                last_error: Some(error.clone()),
                ..self.clone()
            },
            Settlement::Failed { error, at } => Task {
                status: TaskStatus::Failed,
                last_error: Some(error.clone()),
                finished_at: Some(*at),
                ..self.clone()
            },
        })
    }
}

/// How a processing attempt ended, as recorded on a task that is `processing`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Settlement {
    Completed {
        at: DateTime<Utc>,
    },
    /// The attempt failed and the task will be tried again; it stays `processing`.
    Retrying {
        error: String,
    },
    Failed {
        error: String,
        at: DateTime<Utc>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_are_sqs_message_group_ids() {
        assert_eq!(TaskGroup::default().as_str(), "tasks");
        assert!(TaskGroup::parse("tasks-eu").is_some());
        assert!(TaskGroup::parse("").is_none());
        assert!(TaskGroup::parse("has space").is_none());
        assert!(TaskGroup::parse(&"g".repeat(129)).is_none());
    }

    #[test]
    fn optional_fields_stay_out_of_the_stored_shape_until_set() {
        let at = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        let task = Task::queued(
            TaskId::parse("tsk_1").unwrap(),
            NewTask {
                title: "t".into(),
                description: String::new(),
                priority: Priority::High,
                due_date: None,
            },
            at,
        );
        let json = serde_json::to_value(&task).unwrap();
        assert_eq!(json["status"], "queued");
        assert_eq!(json["priority"], "high");
        assert!(json.get("sequence").is_none() && json.get("due_date").is_none());
        assert_eq!(serde_json::from_value::<Task>(json).unwrap(), task);
    }
}
