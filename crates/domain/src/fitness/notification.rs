//! What users are told about their training.

use super::events::{TrainingCongratulated, TrainingNudged};
use crate::events::DomainEvent;
use crate::notifications::{Notification, Notify};
use crate::time::format_time;

impl Notify for TrainingCongratulated {
    fn notification(&self, envelope: &DomainEvent) -> Notification {
        let program = self
            .training_program_title
            .as_deref()
            .unwrap_or(self.training_program_id.as_str());
        Notification {
            idempotency_key: format!("{}:training_congratulation", envelope.event_id),
            user_id: self.user_id.clone(),
            kind: "training_congratulation",
            message: format!(
                "Well done! You trained for {} minutes ({program}).",
                self.minutes
            ),
            data: serde_json::json!({
                "event_id": envelope.event_id,
                "minutes": self.minutes,
                "training_program_id": self.training_program_id,
                "started_at": format_time(&self.started_at),
                "finished_at": format_time(&self.finished_at),
            }),
        }
    }
}

impl Notify for TrainingNudged {
    fn notification(&self, envelope: &DomainEvent) -> Notification {
        Notification {
            idempotency_key: format!("{}:training_nudge", envelope.event_id),
            user_id: self.user_id.clone(),
            kind: "training_nudge",
            message: "Ready when you are: start a training program now.".to_owned(),
            data: serde_json::json!({
                "event_id": envelope.event_id,
                "launched_at": format_time(&self.launched_at),
                "launch_id": self.launch_id,
                "due_at": format_time(&self.due_at),
                "settled_by": self.settled_by,
            }),
        }
    }
}
