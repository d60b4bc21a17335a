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

use super::types::EventTypes;
use crate::events::Event;
use crate::ids::{EventId, UserId};
use crate::time::{format_time, parse_event_time, parse_naive_utc, serde_time};
use crate::validation::{FieldCode, Problems, TextRule, ValidationError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

pub const SCHEMA_VERSION: u64 = 2;
/// How the legacy shape writes its time: UTC, a space between date and time.
pub const LEGACY_TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

const TYPE_NAME: TextRule = TextRule::single_line(64).non_empty(FieldCode::EMPTY);
/// The legacy body's own fields; the rest of it is the payload.
const LEGACY_ENVELOPE: [&str; 4] = ["user_id", "device_id", "type", "time_stamp"];

/// One event of one user, at the time the app says it happened, in the versioned shape: what
/// the edge queues (grouped by user, de-duplicated by `event_id`) and the consumer reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppEvent {
    pub schema_version: u64,
    pub event_id: EventId,
    pub user_id: UserId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
    #[serde(rename = "type")]
    pub type_name: String,
    #[serde(rename = "time", with = "serde_time")]
    pub at: DateTime<Utc>,
    /// The typed payload of a known type as its payload type writes it; for an unknown type,
    /// whatever the app sent.
    #[serde(default)]
    pub payload: Map<String, Value>,
    /// The body as received, kept for review when the type is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub raw: Option<Value>,
}

impl Event for AppEvent {
    const TYPE: &'static str = "AppEventReceived";
    /// The ingest queue the API sends to directly (the event is its own durable record).
    const CHANNEL: &'static str = "fitness-events";
}

fn legacy_time(value: &str) -> Result<DateTime<Utc>, String> {
    parse_naive_utc(value, LEGACY_TIME_FORMAT)
        .ok_or_else(|| "must be a time like 2021-02-28 16:23:25 (UTC)".to_owned())
}

fn rfc3339(value: &str) -> Result<DateTime<Utc>, String> {
    parse_event_time(value).ok_or_else(|| "must be an RFC 3339 timestamp".to_owned())
}

/// The content id of a legacy body: the same fields give the same id, whatever their order.
fn legacy_event_id(body: &Value) -> EventId {
    let mut text = String::new();
    canonical(body, &mut text);
    let digest = hex::encode(Sha256::digest(text.as_bytes()));
    EventId::from_trusted(format!("lgc_{}", &digest[..32]))
}

/// `value` as JSON with every object's keys sorted, whatever order serde_json keeps them in.
fn canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(k.clone()).to_string());
                out.push(':');
                if let Some(v) = map.get(k) {
                    canonical(v, out);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                canonical(v, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// What SQS takes as a message group or de-duplication id: 1–128 of ASCII letters, digits and
/// punctuation.
fn sqs_safe(id: &str) -> bool {
    !id.is_empty() && id.len() <= 128 && id.bytes().all(|b| b.is_ascii_graphic())
}

impl AppEvent {
    /// Reads either shape: a body with `schema_version` is versioned, one without is legacy.
    /// The payload of a type `types` knows is read by its payload type (and written back in its
    /// versioned form); any other type is kept as sent, with the raw body.
    pub fn from_json(body: &Value, types: &EventTypes) -> Result<Self, ValidationError> {
        let mut p = Problems::new("app event");
        let o = p.root(body)?;
        let versioned = o.field("schema_version").value.is_some();
        let user_id = p.parsed(
            &o.field("user_id"),
            |s| UserId::parse(s),
            FieldCode::INVALID_ID,
        );
        let type_name = p.text(&o.field("type"), &TYPE_NAME);
        let device_id = match o.field("device_id").value {
            None | Some(Value::Null) => None,
            Some(_) => p.parsed(
                &o.field("device_id"),
                |s| crate::ids::check_id(s).map(|()| s.to_owned()),
                FieldCode::INVALID_ID,
            ),
        };
        let (event_id, at, fields) = if versioned {
            let version = p.integer(
                &o.field("schema_version"),
                SCHEMA_VERSION..=SCHEMA_VERSION,
                FieldCode::INVALID_TYPE,
            );
            let event_id = p.parsed(
                &o.field("event_id"),
                |s| EventId::parse(s),
                FieldCode::INVALID_ID,
            );
            let at = p.parsed(&o.field("time"), rfc3339, FieldCode::INVALID_TIMESTAMP);
            let payload = o.field("payload");
            let fields = match payload.value {
                None | Some(Value::Null) => Some(Map::new()),
                Some(_) => p
                    .object(&payload, "the payload")
                    .map(|o| o.map_ref().clone()),
            };
            (version.and(event_id), at, fields)
        } else {
            let at = p.parsed(
                &o.field("time_stamp"),
                legacy_time,
                FieldCode::INVALID_TIMESTAMP,
            );
            let mut fields = o.map_ref().clone();
            fields.retain(|k, _| !LEGACY_ENVELOPE.contains(&k.as_str()));
            (Some(legacy_event_id(body)), at, Some(fields))
        };
        let (payload, known) = match (type_name.as_deref(), fields) {
            (Some(t), Some(fields)) => match types.read(&mut p, t, &fields) {
                Some(typed) => (Some(typed), true),
                None if types.knows(t) => (None, true),
                None => (Some(fields), false),
            },
            _ => (None, true),
        };
        p.finish(|| {
            Some(Self {
                schema_version: SCHEMA_VERSION,
                event_id: event_id?,
                user_id: user_id?,
                device_id,
                type_name: type_name?,
                at: at?,
                payload: payload?,
                raw: (!known).then(|| body.clone()),
            })
        })
    }

    /// The message group of the ingest queue: one user's events are handled in order. The user
    /// id itself where SQS takes it (readable in the console), else a digest of it.
    pub fn message_group(&self) -> String {
        let user = self.user_id.as_str();
        if sqs_safe(user) {
            user.to_owned()
        } else {
            let digest = hex::encode(Sha256::digest(user.as_bytes()));
            format!("u-{}", &digest[..40])
        }
    }

    /// The ingest queue's de-duplication id: the event id is the client's, unique for its user
    /// only, and the queue de-duplicates across all groups, so the id is a digest of both.
    pub fn dedup_id(&self) -> String {
        let digest = Sha256::digest(format!("{}\0{}", self.user_id, self.event_id).as_bytes());
        hex::encode(digest)
    }
}

/// The promise the event's time readers keep for any text (see [`crate::edge::TextParser`]):
/// a time read in either shape is written in the one form this service writes, and reads back
/// as the same instant (a year outside 0000–9999 would not, so it is refused).
pub(crate) fn check_any_time(text: &str) -> Result<bool, String> {
    let read: Vec<_> = [rfc3339(text), legacy_time(text)]
        .into_iter()
        .flatten()
        .collect();
    for t in &read {
        let written = format_time(t);
        if parse_event_time(&written).as_ref() != Some(t) {
            return Err(format!(
                "read as {t}, written as {written:?}, which reads back otherwise"
            ));
        }
    }
    Ok(!read.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fitness::event_types;
    use serde_json::json;

    fn read(v: &Value) -> Result<AppEvent, ValidationError> {
        AppEvent::from_json(v, &event_types())
    }

    #[test]
    fn legacy_times_outside_the_writable_years_are_refused() {
        assert!(legacy_time("2021-02-28 16:23:25").is_ok());
        assert!(legacy_time("-12021-02-28 16:23:25").is_err());
        assert!(legacy_time("12021-02-28 16:23:25").is_err());
        assert_eq!(check_any_time("-12021-02-28 16:23:25"), Ok(false));
        assert_eq!(check_any_time("2025-02-10T11:00:00"), Ok(true));
    }

    fn legacy(t: &str, at: &str) -> Value {
        json!({"user_id": "foo1", "device_id": "bar1", "type": t, "training_program_id": "2352",
               "training_program_title": "7 Minutes of HIIT Training", "time_stamp": at})
    }

    #[test]
    fn the_legacy_shape_becomes_a_versioned_event_with_a_content_id() {
        let e = read(&legacy("training_program_started", "2021-02-28 16:23:25")).unwrap();
        assert_eq!(e.user_id.as_str(), "foo1");
        assert_eq!(e.at, parse_event_time("2021-02-28T16:23:25Z").unwrap());
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(
            v,
            json!({"schema_version": 2, "event_id": e.event_id, "user_id": "foo1",
                   "device_id": "bar1", "type": "training_program_started",
                   "time": "2021-02-28T16:23:25Z",
                   "payload": {"training_program_id": "2352",
                               "training_program_title": "7 Minutes of HIIT Training"}})
        );
        assert_eq!(read(&v).unwrap(), e, "the translation reads back as itself");
        let again = read(&legacy("training_program_started", "2021-02-28 16:23:25")).unwrap();
        assert_eq!(
            e.event_id, again.event_id,
            "the same body is the same event"
        );
        let later = read(&legacy("training_program_started", "2021-02-28 16:23:26")).unwrap();
        assert_ne!(e.event_id, later.event_id);
        assert!(e.event_id.as_str().starts_with("lgc_"));
    }

    #[test]
    fn the_legacy_id_ignores_key_order_and_queue_ids_suit_sqs() {
        let a = read(
            &serde_json::from_str(
                r#"{"user_id":"u","type":"app_launch","time_stamp":"2021-02-28 16:00:00"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        let b = read(
            &serde_json::from_str(
                r#"{"time_stamp":"2021-02-28 16:00:00","type":"app_launch","user_id":"u"}"#,
            )
            .unwrap(),
        )
        .unwrap();
        assert_eq!(a.event_id, b.event_id);
        assert_eq!(a.message_group(), "u");
        let same_id = |user: &str| {
            read(
                &json!({"schema_version": 2, "event_id": "1", "user_id": user,
                         "type": "app_launch", "time": "2021-02-28T16:00:00Z"}),
            )
            .unwrap()
        };
        assert_ne!(
            same_id("anna").dedup_id(),
            same_id("ben").dedup_id(),
            "two users' event 1 are two events"
        );
        let group = same_id("josé").message_group();
        assert!(group.starts_with("u-") && group.bytes().all(|b| b.is_ascii_graphic()));
        assert_eq!(same_id("anna").dedup_id().len(), 64);
    }

    #[test]
    fn the_versioned_shape_carries_its_own_id_and_typed_payload() {
        let e = read(
            &json!({"schema_version": 2, "event_id": "app-7f3a", "user_id": "foo2",
            "type": "training_program_finished", "time": "2021-02-28T17:59:43+01:00",
            "payload": {"training_program_id": 2352}}),
        )
        .unwrap();
        assert_eq!(e.event_id.as_str(), "app-7f3a");
        assert_eq!(e.at, parse_event_time("2021-02-28T16:59:43Z").unwrap());
        assert_eq!(
            e.payload,
            *json!({"training_program_id": "2352"}).as_object().unwrap(),
            "a numeric program id is the same id, written as text"
        );
        assert_eq!(e.raw, None);
        let launch = read(
            &json!({"schema_version": 2, "event_id": "a1", "user_id": "u",
            "type": "app_launch", "time": "2021-02-28T16:00:00Z"}),
        )
        .unwrap();
        assert_eq!(launch.type_name, "app_launch");
        assert!(launch.payload.is_empty());
    }

    #[test]
    fn an_unknown_type_is_an_event_kept_with_its_raw_body() {
        let body = legacy("training_program_paused", "2021-02-28 16:30:00");
        let e = read(&body).unwrap();
        assert_eq!(e.type_name, "training_program_paused");
        assert_eq!(e.raw.as_ref(), Some(&body));
        assert_eq!(
            e.payload.keys().collect::<Vec<_>>(),
            ["training_program_id", "training_program_title"]
        );
        let v2 = json!({"schema_version": 2, "event_id": "x1", "user_id": "u",
            "type": "badge_earned", "time": "2021-02-28T16:00:00Z", "payload": {"badge": [1, 2]}});
        assert_eq!(read(&v2).unwrap().raw, Some(v2));
    }

    #[test]
    fn what_is_not_an_event_gets_every_problem_with_its_code() {
        let codes = |v: Value| -> Vec<(String, &'static str)> {
            read(&v)
                .unwrap_err()
                .details
                .iter()
                .map(|d| (d.field.clone(), d.code.as_str()))
                .collect()
        };
        assert_eq!(
            codes(json!({"device_id": "d", "time_stamp": "yesterday"})),
            vec![
                ("user_id".into(), "missing_field"),
                ("type".into(), "missing_field"),
                ("time_stamp".into(), "invalid_timestamp")
            ]
        );
        assert_eq!(
            codes(json!({"user_id": "u", "type": "training_program_started",
                         "time_stamp": "2021-02-28 16:23:25"})),
            vec![("training_program_id".into(), "missing_field")]
        );
        assert_eq!(
            codes(json!({"user_id": "u", "type": "training_program_started",
                         "training_program_id": "1", "training_program_title": 7,
                         "time_stamp": "2021-02-28 16:23:25"})),
            vec![("training_program_title".into(), "invalid_type")]
        );
        assert_eq!(
            codes(json!({"schema_version": 3, "event_id": "x", "user_id": "u",
                         "type": "app_launch", "time": "2021-02-28T16:00:00Z"})),
            vec![("schema_version".into(), "invalid_type")]
        );
        assert_eq!(
            codes(
                json!({"schema_version": 2, "user_id": "u", "type": "app_launch",
                         "time": "2021-02-28 16:00"})
            ),
            vec![
                ("event_id".into(), "missing_field"),
                ("time".into(), "invalid_timestamp")
            ]
        );
        assert_eq!(
            codes(json!({"schema_version": 2, "event_id": "e", "user_id": "u",
                         "type": "app_launch", "time": "2021-02-28T16:00:00Z", "payload": []})),
            vec![("payload".into(), "invalid_type")]
        );
        assert!(read(&json!([1])).is_err());
    }
}
