//! The app's events, in the versioned shape this service defines and the legacy shape the app
//! still sends, both read into one [`AppEvent`].
//!
//! Versioned (`schema_version` 2):
//! `{"schema_version": 2, "event_id": "<client id>", "user_id", "device_id"?, "type",
//!   "time": "<RFC 3339>", "payload": {...}}` with, per type, `training_program_*`:
//! `{"training_program_id", "training_program_title"?}` and `app_launch`: `{}`.
//!
//! Legacy: `{"user_id", "device_id", "type", "training_program_id"?, "training_program_title"?,
//! "time_stamp": "2021-02-28 16:23:25"}` (UTC). Its event id derives from its content, so the
//! same body sent twice is one event.

use crate::ids::{EventId, UserId};
use crate::time::parse_event_time;
use crate::validation::{FieldCode, Problems, TextRule, ValidationError};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub const SCHEMA_VERSION: u64 = 2;
/// How the legacy shape writes its time: UTC, a space between date and time.
pub const LEGACY_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

const TITLE: TextRule = TextRule::single_line(200);
const TYPE_NAME: TextRule = TextRule::single_line(64).non_empty(FieldCode::Empty);

/// A training program of the app's catalogue.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProgramId(String);

impl ProgramId {
    pub fn parse(value: &str) -> Result<Self, crate::ids::IdError> {
        crate::ids::check_id(value)?;
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the user did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Activity {
    AppLaunch,
    ProgramStarted {
        program: ProgramId,
        title: Option<String>,
    },
    ProgramCancelled {
        program: ProgramId,
    },
    ProgramFinished {
        program: ProgramId,
    },
    /// A type this service does not know (yet): accepted and kept for review.
    Unknown {
        type_name: String,
    },
}

impl Activity {
    pub fn type_name(&self) -> &str {
        match self {
            Self::AppLaunch => "app_launch",
            Self::ProgramStarted { .. } => "training_program_started",
            Self::ProgramCancelled { .. } => "training_program_cancelled",
            Self::ProgramFinished { .. } => "training_program_finished",
            Self::Unknown { type_name } => type_name,
        }
    }
}

/// One event of one user, at the time the app says it happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppEvent {
    pub event_id: EventId,
    pub user_id: UserId,
    pub device_id: Option<String>,
    pub at: DateTime<Utc>,
    pub activity: Activity,
}

fn legacy_time(value: &str) -> Result<DateTime<Utc>, String> {
    NaiveDateTime::parse_from_str(value.trim(), LEGACY_TIME_FORMAT)
        .map(|t| t.and_utc())
        .map_err(|_| "must be a time like 2021-02-28 16:23:25 (UTC)".to_owned())
}

fn rfc3339(value: &str) -> Result<DateTime<Utc>, String> {
    parse_event_time(value).ok_or_else(|| "must be an RFC 3339 timestamp".to_owned())
}

/// The content id of a legacy body: the same fields give the same id, whatever their order.
fn legacy_event_id(body: &Value) -> EventId {
    // serde_json's maps are sorted, so the text is canonical.
    let digest = hex::encode(Sha256::digest(body.to_string().as_bytes()));
    EventId::from_trusted(format!("lgc_{}", &digest[..32]))
}

impl AppEvent {
    /// Reads either shape: a body with `schema_version` is versioned, one without is legacy.
    pub fn from_json(body: &Value) -> Result<Self, ValidationError> {
        let mut p = Problems::new("app event");
        let o = p.root(body)?;
        let versioned = o.field("schema_version").value.is_some();
        let user_id = p.parsed(
            &o.field("user_id"),
            |s| UserId::parse(s),
            FieldCode::InvalidId,
        );
        let type_name = p.text(&o.field("type"), &TYPE_NAME);
        let device_id = match o.field("device_id").value {
            None | Some(Value::Null) => None,
            Some(_) => p.parsed(
                &o.field("device_id"),
                |s| crate::ids::check_id(s).map(|()| s.to_owned()),
                FieldCode::InvalidId,
            ),
        };
        let (event_id, at, fields) = if versioned {
            let version = p.integer(
                &o.field("schema_version"),
                SCHEMA_VERSION..=SCHEMA_VERSION,
                FieldCode::InvalidType,
            );
            let event_id = p.parsed(
                &o.field("event_id"),
                |s| EventId::parse(s),
                FieldCode::InvalidId,
            );
            let at = p.parsed(&o.field("time"), rfc3339, FieldCode::InvalidTimestamp);
            let payload = o.field("payload");
            let fields = match payload.value {
                None | Some(Value::Null) => None,
                Some(_) => p.object(&payload, "the payload").map(|o| o.map_ref()),
            };
            (version.and(event_id), at, fields.or_else(empty_object))
        } else {
            let at = p.parsed(
                &o.field("time_stamp"),
                legacy_time,
                FieldCode::InvalidTimestamp,
            );
            (Some(legacy_event_id(body)), at, Some(o.map_ref()))
        };
        let activity = match (type_name.as_deref(), fields) {
            (Some(t), Some(fields)) => activity(&mut p, t, fields),
            _ => None,
        };
        p.finish(|| {
            Some(Self {
                event_id: event_id?,
                user_id: user_id?,
                device_id,
                at: at?,
                activity: activity?,
            })
        })
    }
}

fn empty_object<'a>() -> Option<&'a serde_json::Map<String, Value>> {
    static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
    Some(EMPTY.get_or_init(serde_json::Map::new))
}

/// The activity a type names, with the fields it needs from `fields` (the payload, or the legacy
/// body itself).
fn activity(
    p: &mut Problems,
    type_name: &str,
    fields: &serde_json::Map<String, Value>,
) -> Option<Activity> {
    let program = |p: &mut Problems| -> Option<ProgramId> {
        match fields.get("training_program_id") {
            Some(Value::String(s)) => match ProgramId::parse(s.trim()) {
                Ok(id) => Some(id),
                Err(e) => {
                    p.add_at(
                        "training_program_id",
                        FieldCode::InvalidId,
                        format!("training_program_id {e}"),
                    );
                    None
                }
            },
            // The app sends numeric-looking ids as text; a JSON number is the same id.
            Some(Value::Number(n)) => ProgramId::parse(&n.to_string()).ok(),
            None | Some(Value::Null) => {
                p.add_at(
                    "training_program_id",
                    FieldCode::MissingField,
                    "training_program_id is required for this type",
                );
                None
            }
            Some(_) => {
                p.add_at(
                    "training_program_id",
                    FieldCode::InvalidType,
                    "training_program_id must be a string",
                );
                None
            }
        }
    };
    Some(match type_name {
        "app_launch" => Activity::AppLaunch,
        "training_program_started" => {
            let title = match fields.get("training_program_title") {
                Some(Value::String(t)) => {
                    let t = t.trim();
                    if t.chars().count() > TITLE.max_chars || t.chars().any(char::is_control) {
                        p.add_at(
                            "training_program_title",
                            FieldCode::TooLong,
                            "training_program_title must be one line of at most 200 characters",
                        );
                        return None;
                    }
                    Some(t.to_owned()).filter(|t| !t.is_empty())
                }
                _ => None,
            };
            Activity::ProgramStarted {
                program: program(p)?,
                title,
            }
        }
        "training_program_cancelled" => Activity::ProgramCancelled {
            program: program(p)?,
        },
        "training_program_finished" => Activity::ProgramFinished {
            program: program(p)?,
        },
        other => Activity::Unknown {
            type_name: other.to_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn legacy(t: &str, at: &str) -> Value {
        json!({"user_id": "foo1", "device_id": "bar1", "type": t, "training_program_id": "2352",
               "training_program_title": "7 Minutes of HIIT Training", "time_stamp": at})
    }

    #[test]
    fn the_legacy_shape_becomes_an_event_with_a_content_id() {
        let e = AppEvent::from_json(&legacy("training_program_started", "2021-02-28 16:23:25"))
            .unwrap();
        assert_eq!(e.user_id.as_str(), "foo1");
        assert_eq!(e.at, parse_event_time("2021-02-28T16:23:25Z").unwrap());
        assert_eq!(
            e.activity,
            Activity::ProgramStarted {
                program: ProgramId::parse("2352").unwrap(),
                title: Some("7 Minutes of HIIT Training".into())
            }
        );
        let again = AppEvent::from_json(&legacy("training_program_started", "2021-02-28 16:23:25"))
            .unwrap();
        assert_eq!(
            e.event_id, again.event_id,
            "the same body is the same event"
        );
        let later = AppEvent::from_json(&legacy("training_program_started", "2021-02-28 16:23:26"))
            .unwrap();
        assert_ne!(e.event_id, later.event_id);
        assert!(e.event_id.as_str().starts_with("lgc_"));
    }

    #[test]
    fn the_versioned_shape_carries_its_own_id_and_typed_payload() {
        let e = AppEvent::from_json(
            &json!({"schema_version": 2, "event_id": "app-7f3a", "user_id": "foo2",
            "type": "training_program_finished", "time": "2021-02-28T17:59:43+01:00",
            "payload": {"training_program_id": "2352"}}),
        )
        .unwrap();
        assert_eq!(e.event_id.as_str(), "app-7f3a");
        assert_eq!(e.at, parse_event_time("2021-02-28T16:59:43Z").unwrap());
        assert_eq!(
            e.activity,
            Activity::ProgramFinished {
                program: ProgramId::parse("2352").unwrap()
            }
        );
        let launch = AppEvent::from_json(
            &json!({"schema_version": 2, "event_id": "a1", "user_id": "u",
            "type": "app_launch", "time": "2021-02-28T16:00:00Z"}),
        )
        .unwrap();
        assert_eq!(launch.activity, Activity::AppLaunch);
    }

    #[test]
    fn an_unknown_type_is_an_event_not_an_error() {
        let e =
            AppEvent::from_json(&legacy("training_program_paused", "2021-02-28 16:30:00")).unwrap();
        assert_eq!(
            e.activity,
            Activity::Unknown {
                type_name: "training_program_paused".into()
            }
        );
    }

    #[test]
    fn what_is_not_an_event_gets_every_problem_with_its_code() {
        let e =
            AppEvent::from_json(&json!({"device_id": "d", "time_stamp": "yesterday"})).unwrap_err();
        let codes: Vec<(String, &str)> = e
            .details
            .iter()
            .map(|d| (d.field.clone(), d.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("user_id".into(), "missing_field"),
                ("type".into(), "missing_field"),
                ("time_stamp".into(), "invalid_timestamp")
            ]
        );
        let e = AppEvent::from_json(&json!({"user_id": "u", "type": "training_program_started", "time_stamp": "2021-02-28 16:23:25"})).unwrap_err();
        assert_eq!(e.details[0].field, "training_program_id");
        let e = AppEvent::from_json(&json!({"schema_version": 3, "event_id": "x", "user_id": "u", "type": "app_launch", "time": "2021-02-28T16:00:00Z"})).unwrap_err();
        assert_eq!(e.details[0].field, "schema_version");
        assert!(AppEvent::from_json(&json!([1])).is_err());
    }
}
