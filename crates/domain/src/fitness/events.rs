//! The fitness flow's domain events: what the notifier tells users, and the timer's message.

use super::ProgramId;
use super::rules::{Launch, Session, SettledBy};
use crate::PortError;
use crate::events::{Event, Outbound};
use crate::ids::{EventId, UserId};
use crate::time::{format_time, serde_time};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A finished session that earns a congratulation. One per session: its id derives from the
/// session, so a finish delivered twice (or two finishes of it) raise the same event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingCongratulated {
    pub user_id: UserId,
    pub training_program_id: ProgramId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_program_title: Option<String>,
    #[serde(with = "serde_time")]
    pub started_at: DateTime<Utc>,
    #[serde(with = "serde_time")]
    pub finished_at: DateTime<Utc>,
    pub minutes: i64,
}

impl Event for TrainingCongratulated {
    const TYPE: &'static str = "TrainingCongratulated";
    const CHANNEL: &'static str = "domain-events";
}

impl TrainingCongratulated {
    pub fn outbound(
        session: &Session,
        finished_at: DateTime<Utc>,
        minutes: i64,
    ) -> Result<Outbound, PortError> {
        let e = Self {
            user_id: session.user_id.clone(),
            training_program_id: session.training_program_id.clone(),
            training_program_title: session.training_program_title.clone(),
            started_at: session.started_at,
            finished_at,
            minutes,
        };
        let cause = format!(
            "{}\0{}\0{}",
            e.user_id,
            e.training_program_id,
            format_time(&e.started_at)
        );
        Outbound::new(&e, &cause, e.user_id.as_str(), finished_at)
    }
}

/// A launch whose window passed without a training start: the user is encouraged to start one.
/// One per launch: its id derives from the launch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingNudged {
    pub user_id: UserId,
    pub launch_id: EventId,
    #[serde(with = "serde_time")]
    pub launched_at: DateTime<Utc>,
    /// When the timer was due (wall clock): how late a nudge is is measured from here.
    #[serde(with = "serde_time")]
    pub due_at: DateTime<Utc>,
    pub settled_by: SettledBy,
}

impl Event for TrainingNudged {
    const TYPE: &'static str = "TrainingNudged";
    const CHANNEL: &'static str = "domain-events";
}

impl TrainingNudged {
    pub fn outbound(launch: &Launch, now: DateTime<Utc>) -> Result<Outbound, PortError> {
        let e = Self {
            user_id: launch.user_id.clone(),
            launch_id: launch.launch_id.clone(),
            launched_at: launch.launched_at,
            due_at: launch.due_at,
            settled_by: launch.settled_by.unwrap_or(SettledBy::Timer),
        };
        let cause = format!("{}\0{}", e.user_id, e.launch_id);
        Outbound::new(&e, &cause, e.user_id.as_str(), now)
    }
}

/// The timer of one launch, on the delay queue: due at `due_at` (wall clock).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NudgeCheck {
    pub user_id: UserId,
    pub launch_id: EventId,
    #[serde(with = "serde_time")]
    pub due_at: DateTime<Utc>,
}

impl Event for NudgeCheck {
    const TYPE: &'static str = "NudgeCheckDue";
    /// The delay queue queue-processor sends to directly.
    const CHANNEL: &'static str = "fitness-nudges";
}

impl NudgeCheck {
    pub fn of(launch: &Launch) -> Self {
        Self {
            user_id: launch.user_id.clone(),
            launch_id: launch.launch_id.clone(),
            due_at: launch.due_at,
        }
    }

    /// The timer message; its id derives from the launch and the due time, so a re-scheduled
    /// timer is the same message.
    pub fn outbound(&self, now: DateTime<Utc>) -> Result<Outbound, PortError> {
        let cause = format!(
            "{}\0{}\0{}",
            self.user_id,
            self.launch_id,
            format_time(&self.due_at)
        );
        Outbound::new(self, &cause, self.user_id.as_str(), now)
    }
}
