//! The app's event types, each a payload and its handler, and the one place they are
//! registered ([`event_types`]).

use super::event::AppEvent;
use super::events::{NudgeCheck, TrainingCongratulated};
use super::rules::{Launch, NudgeState, Session, SessionEnd};
use super::types::{AppPayload, EventTypes, Fitness, Handle};
use crate::PortError;
use crate::fitness::ProgramId;
use crate::validation::{FieldCode, Problems, TextRule};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Every event type the service knows, with its handler: the one registration point of a type.
pub fn event_types() -> EventTypes {
    EventTypes::new()
        .on::<AppLaunched>(ScheduleNudge)
        .on::<ProgramStarted>(StartSession)
        .on::<ProgramCancelled>(EndSession)
        .on::<ProgramFinished>(EndSession)
}

const TITLE: TextRule = TextRule::single_line(200);

/// `training_program_id`, required: the app sends it as text, and a JSON number is the same id.
fn program(p: &mut Problems, fields: &Map<String, Value>) -> Option<ProgramId> {
    let (code, message) = match fields.get("training_program_id") {
        Some(Value::String(s)) => match ProgramId::parse(s.trim()) {
            Ok(id) => return Some(id),
            Err(e) => (FieldCode::INVALID_ID, format!("training_program_id {e}")),
        },
        Some(Value::Number(n)) => match ProgramId::parse(n.to_string()) {
            Ok(id) => return Some(id),
            Err(e) => (FieldCode::INVALID_ID, format!("training_program_id {e}")),
        },
        None | Some(Value::Null) => (
            FieldCode::MISSING_FIELD,
            "training_program_id is required for this type".to_owned(),
        ),
        Some(_) => (
            FieldCode::INVALID_TYPE,
            "training_program_id must be a string".to_owned(),
        ),
    };
    p.add_at("training_program_id", code, message);
    None
}

/// `training_program_title`, optional: one line of at most 200 characters.
fn title(p: &mut Problems, fields: &Map<String, Value>) -> Option<Option<String>> {
    match fields.get("training_program_title") {
        None | Some(Value::Null) => Some(None),
        Some(Value::String(t)) => {
            let t = t.trim();
            if t.chars().count() > TITLE.max_chars || t.chars().any(char::is_control) {
                p.add_at(
                    "training_program_title",
                    FieldCode::TOO_LONG,
                    "training_program_title must be one line of at most 200 characters",
                );
                return None;
            }
            Some(Some(t.to_owned()).filter(|t| !t.is_empty()))
        }
        Some(_) => {
            p.add_at(
                "training_program_title",
                FieldCode::INVALID_TYPE,
                "training_program_title must be a string",
            );
            None
        }
    }
}

/// `app_launch`: the user opened the app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppLaunched {}

impl AppPayload for AppLaunched {
    const TYPE: &'static str = "app_launch";
    fn read(_: &mut Problems, _: &Map<String, Value>) -> Option<Self> {
        Some(Self {})
    }
}

/// `training_program_started`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramStarted {
    pub training_program_id: ProgramId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_program_title: Option<String>,
}

impl AppPayload for ProgramStarted {
    const TYPE: &'static str = "training_program_started";
    const STARTS_TRAINING: bool = true;
    fn read(p: &mut Problems, fields: &Map<String, Value>) -> Option<Self> {
        let training_program_id = program(p, fields);
        let training_program_title = title(p, fields);
        Some(Self {
            training_program_id: training_program_id?,
            training_program_title: training_program_title?,
        })
    }
}

/// `training_program_cancelled`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramCancelled {
    pub training_program_id: ProgramId,
}

impl AppPayload for ProgramCancelled {
    const TYPE: &'static str = "training_program_cancelled";
    fn read(p: &mut Problems, fields: &Map<String, Value>) -> Option<Self> {
        Some(Self {
            training_program_id: program(p, fields)?,
        })
    }
}

/// `training_program_finished`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgramFinished {
    pub training_program_id: ProgramId,
}

impl AppPayload for ProgramFinished {
    const TYPE: &'static str = "training_program_finished";
    fn read(p: &mut Problems, fields: &Map<String, Value>) -> Option<Self> {
        Some(Self {
            training_program_id: program(p, fields)?,
        })
    }
}

/// A launch opens a window: it is recorded pending and its timer is set. A launch delivered
/// again finds its record and sets the timer again while it is pending (the crash that lost
/// the first timer is the reason it is delivered again; two timers settle once).
pub struct ScheduleNudge;

#[async_trait]
impl Handle<AppLaunched> for ScheduleNudge {
    async fn handle(&self, f: &Fitness, e: &AppEvent, _: AppLaunched) -> Result<(), PortError> {
        let now = (f.clock)();
        let launch = Launch::new(e.user_id.clone(), e.event_id.clone(), e.at, f.window, now);
        let stored = f.store.record_launch(&launch).await?;
        if stored.nudge == NudgeState::Pending {
            let delay = (stored.due_at - now).to_std().unwrap_or_default();
            // Without its timer the launch could wait for an event that never comes: whatever
            // the send's failure, the launch is tried again.
            f.timer
                .schedule(&NudgeCheck::of(&stored), delay)
                .await
                .map_err(|e| PortError::Retryable(format!("nudge timer not set: {e}")))?;
        }
        Ok(())
    }
}

/// A start opens a session (a start delivered again finds it recorded).
pub struct StartSession;

#[async_trait]
impl Handle<ProgramStarted> for StartSession {
    async fn handle(&self, f: &Fitness, e: &AppEvent, p: ProgramStarted) -> Result<(), PortError> {
        let session = Session::start(
            e.user_id.clone(),
            p.training_program_id,
            p.training_program_title,
            e.at,
            e.event_id.clone(),
        );
        f.store.start_session(&session).await
    }
}

/// A cancel or finish ends the program's latest session if it is running; a finish more than
/// 30:00 after its start raises the congratulation with the session's end, in one write.
pub struct EndSession;

impl EndSession {
    async fn end(
        f: &Fitness,
        e: &AppEvent,
        program: &ProgramId,
        end: SessionEnd,
    ) -> Result<(), PortError> {
        let Some(session) = f.store.latest_session(&e.user_id, program).await? else {
            tracing::info!(program = %program, "no session to end");
            return Ok(());
        };
        let Some((next, minutes)) = session.end(end, e.at) else {
            tracing::info!(program = %program, state = ?session.state, "session not running");
            return Ok(());
        };
        let event = minutes
            .map(|m| TrainingCongratulated::outbound(&session, e.at, m))
            .transpose()?;
        f.store.end_session(&next, event.as_ref()).await.map(|_| ())
    }
}

#[async_trait]
impl Handle<ProgramCancelled> for EndSession {
    async fn handle(
        &self,
        f: &Fitness,
        e: &AppEvent,
        p: ProgramCancelled,
    ) -> Result<(), PortError> {
        Self::end(f, e, &p.training_program_id, SessionEnd::Cancelled).await
    }
}

#[async_trait]
impl Handle<ProgramFinished> for EndSession {
    async fn handle(&self, f: &Fitness, e: &AppEvent, p: ProgramFinished) -> Result<(), PortError> {
        Self::end(f, e, &p.training_program_id, SessionEnd::Finished).await
    }
}
