//! Validating payloads at the edge: small extractors that read a JSON object field by field
//! (required string, text with limits, one of an enumeration, time, bounded array), each
//! recording its problem with one [`FieldCode`], so a payload's parser reads like its contract
//! and reports every problem at once.

use crate::time::parse_event_time;
use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use std::ops::RangeInclusive;

mod problem;

pub use problem::{FieldCode, FieldError, ValidationError};

/// What a free-text field may hold.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    /// The code for an empty value; `None` when empty is allowed.
    pub empty_code: Option<FieldCode>,
    pub max_chars: usize,
    /// Line breaks and tabs are allowed; every other control character is still refused.
    pub multiline: bool,
}

impl TextRule {
    pub const fn single_line(max_chars: usize) -> Self {
        Self {
            empty_code: None,
            max_chars,
            multiline: false,
        }
    }

    pub const fn multiline(max_chars: usize) -> Self {
        Self {
            empty_code: None,
            max_chars,
            multiline: true,
        }
    }

    pub const fn non_empty(mut self, code: FieldCode) -> Self {
        self.empty_code = Some(code);
        self
    }

    fn refuses(&self, c: char) -> bool {
        c.is_control() && !(self.multiline && matches!(c, '\n' | '\r' | '\t'))
    }
}

/// Where a field sits: a name in an object or an index in an array.
#[derive(Debug, Clone, Copy)]
enum Key {
    Name(&'static str),
    Index(usize),
}

/// A field of a payload: its value, if present, and where it sits. Its path (`a.b[2].c`) is
/// written only for an error report, so reading a valid payload allocates no paths.
#[derive(Debug, Clone, Copy)]
pub struct Field<'v, 'p> {
    pub value: Option<&'v Value>,
    parent: Option<&'p Field<'v, 'p>>,
    key: Key,
}

impl Field<'_, '_> {
    pub fn path(&self) -> String {
        let mut path = self.parent.map(Field::path).unwrap_or_default();
        match self.key {
            Key::Name(name) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(name);
            }
            Key::Index(i) => path.push_str(&format!("[{i}]")),
        }
        path
    }
}

/// A JSON object being read, and the field it is (none for the payload itself).
#[derive(Debug, Clone, Copy)]
pub struct Obj<'v, 'p> {
    map: &'v Map<String, Value>,
    at: Option<&'p Field<'v, 'p>>,
}

impl<'v, 'p> Obj<'v, 'p> {
    /// The object's own map, for a reader that picks its fields by a name it learns at run time.
    pub fn map_ref(&self) -> &'v Map<String, Value> {
        self.map
    }

    pub fn field(&self, name: &'static str) -> Field<'v, 'p> {
        Field {
            value: self.map.get(name),
            parent: self.at,
            key: Key::Name(name),
        }
    }
}

/// The problems found in one payload so far, and the extractors that find them.
#[derive(Debug)]
pub struct Problems {
    subject: &'static str,
    errors: Vec<FieldError>,
}

impl Problems {
    pub fn new(subject: &'static str) -> Self {
        Self {
            subject,
            errors: Vec::new(),
        }
    }

    pub fn add(&mut self, field: &Field<'_, '_>, code: FieldCode, message: impl Into<String>) {
        self.errors
            .push(FieldError::new(field.path(), code, message));
    }

    /// A problem of the payload as a whole (`field` names what it is about).
    pub fn add_at(&mut self, field: &str, code: FieldCode, message: impl Into<String>) {
        self.errors.push(FieldError::new(field, code, message));
    }

    /// The payload itself, which must be an object: anything else is the only problem reported.
    pub fn root<'v>(&self, body: &'v Value) -> Result<Obj<'v, 'v>, ValidationError> {
        match body.as_object() {
            Some(map) => Ok(Obj { map, at: None }),
            None => Err(ValidationError::single(
                self.subject,
                FieldError::new("$", FieldCode::INVALID_TYPE, "expected a JSON object"),
            )),
        }
    }

    /// A nested object (an array element, say); `what` names it in the message.
    pub fn object<'v, 'p>(&mut self, field: &'p Field<'v, 'p>, what: &str) -> Option<Obj<'v, 'p>> {
        match field.value.and_then(Value::as_object) {
            Some(map) => Some(Obj {
                map,
                at: Some(field),
            }),
            None => {
                self.add(
                    field,
                    FieldCode::INVALID_TYPE,
                    format!("{what} is an object"),
                );
                None
            }
        }
    }

    /// A present, non-null value.
    pub fn required<'v>(&mut self, field: &Field<'v, '_>) -> Option<&'v Value> {
        match field.value {
            None | Some(Value::Null) => {
                let message = format!("{} is required", field.path());
                self.add(field, FieldCode::MISSING_FIELD, message);
                None
            }
            Some(v) => Some(v),
        }
    }

    /// A required string, trimmed, as it stands in the payload.
    fn str<'v>(&mut self, field: &Field<'v, '_>) -> Option<&'v str> {
        match self.required(field)? {
            Value::String(s) => Some(s.trim()),
            _ => {
                let message = format!("{} must be a string", field.path());
                self.add(field, FieldCode::INVALID_TYPE, message);
                None
            }
        }
    }

    /// A required string, trimmed.
    pub fn string(&mut self, field: &Field<'_, '_>) -> Option<String> {
        self.str(field).map(str::to_owned)
    }

    /// A required text, trimmed and checked against `rule` (empty, too long, control
    /// characters).
    pub fn text(&mut self, field: &Field<'_, '_>, rule: &TextRule) -> Option<String> {
        let t = self.str(field)?;
        let problem = if let Some(code) = rule.empty_code.filter(|_| t.is_empty()) {
            (code, "must not be empty".to_owned())
        } else if t.chars().count() > rule.max_chars {
            let limit = rule.max_chars;
            (
                FieldCode::TOO_LONG,
                format!("must be at most {limit} characters"),
            )
        } else if t.chars().any(|c| rule.refuses(c)) {
            let allowed = if rule.multiline {
                " other than line breaks and tabs"
            } else {
                ""
            };
            let message = format!("must not contain control characters{allowed}");
            (FieldCode::CONTROL_CHARACTER, message)
        } else {
            return Some(t.to_owned());
        };
        let message = format!("{} {}", field.path(), problem.1);
        self.add(field, problem.0, message);
        None
    }

    /// A required string read by `parse`; `code` describes a value it refuses, with the
    /// parser's own words.
    pub fn parsed<T, E: std::fmt::Display>(
        &mut self,
        field: &Field<'_, '_>,
        parse: impl FnOnce(&str) -> Result<T, E>,
        code: FieldCode,
    ) -> Option<T> {
        let s = self.str(field)?;
        match parse(s) {
            Ok(v) => Some(v),
            Err(e) => {
                let message = format!("{} {e}", field.path());
                self.add(field, code, message);
                None
            }
        }
    }

    /// A required string that names one of an enumeration's values.
    pub fn one_of<T>(
        &mut self,
        field: &Field<'_, '_>,
        parse: impl FnOnce(&str) -> Option<T>,
        code: FieldCode,
        expected: &str,
    ) -> Option<T> {
        self.parsed(
            field,
            |s| parse(s).ok_or_else(|| format!("must be {expected}")),
            code,
        )
    }

    /// A required JSON integer within `range` (a number with a fraction, a string or a value
    /// outside the range is refused with `code`).
    pub fn integer(
        &mut self,
        field: &Field<'_, '_>,
        range: RangeInclusive<u64>,
        code: FieldCode,
    ) -> Option<u64> {
        let value = self.required(field)?;
        match value.as_u64().filter(|n| range.contains(n)) {
            Some(n) => Some(n),
            None => {
                let message = format!(
                    "{} must be an integer from {} to {}",
                    field.path(),
                    range.start(),
                    range.end()
                );
                self.add(field, code, message);
                None
            }
        }
    }

    /// A required RFC 3339 time (an offset-less time is UTC).
    pub fn time(&mut self, field: &Field<'_, '_>, code: FieldCode) -> Option<DateTime<Utc>> {
        self.parsed(field, |s| parse_event_time(s).ok_or(RFC3339), code)
    }

    /// An optional time: `Some(None)` when absent or null, `None` when present and wrong.
    pub fn optional_time(
        &mut self,
        field: &Field<'_, '_>,
        code: FieldCode,
    ) -> Option<Option<DateTime<Utc>>> {
        match field.value {
            None | Some(Value::Null) => Some(None),
            Some(_) => self.time(field, code).map(Some),
        }
    }

    /// A required array with a length in `bounds`; `too_few` and `too_many` are the codes of a
    /// length outside them. Answers the elements as fields (`path[i]`).
    pub fn array<'v, 'p>(
        &mut self,
        field: &'p Field<'v, 'p>,
        bounds: RangeInclusive<usize>,
        too_few: FieldCode,
        too_many: FieldCode,
    ) -> Option<Vec<Field<'v, 'p>>> {
        let items = match self.required(field)? {
            Value::Array(items) => items,
            _ => {
                let message = format!("{} must be an array", field.path());
                self.add(field, FieldCode::INVALID_TYPE, message);
                return None;
            }
        };
        if items.len() < *bounds.start() {
            let message = format!("{} needs at least {} entries", field.path(), bounds.start());
            self.add(field, too_few, message);
            None
        } else if items.len() > *bounds.end() {
            let message = format!("{} has at most {} entries", field.path(), bounds.end());
            self.add(field, too_many, message);
            None
        } else {
            Some(
                items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| Field {
                        value: Some(v),
                        parent: Some(field),
                        key: Key::Index(i),
                    })
                    .collect(),
            )
        }
    }

    /// The value `build` makes of the fields read, or every problem found. `build` answers
    /// `None` only where a field was refused, so no problem goes unreported.
    pub fn finish<T>(self, build: impl FnOnce() -> Option<T>) -> Result<T, ValidationError> {
        let error = |errors| ValidationError {
            subject: self.subject,
            details: errors,
        };
        if !self.errors.is_empty() {
            return Err(error(self.errors));
        }
        build().ok_or_else(|| error(Vec::new()))
    }
}

const RFC3339: &str = "must be an RFC 3339 timestamp, e.g. 2026-12-01T09:00:00Z";

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn codes_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for code in FieldCode::SHARED {
            let s = code.as_str();
            assert!(seen.insert(s), "{s} twice");
            assert!(
                s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            );
            assert_eq!(serde_json::to_value(code).unwrap(), json!(s));
        }
    }

    #[test]
    fn extractors_record_one_problem_each_with_its_path() {
        let body = json!({"s": 1, "items": [{"n": "x"}, 3], "t": "soon", "e": "blue"});
        let mut p = Problems::new("thing");
        let o = p.root(&body).unwrap();
        assert_eq!(p.string(&o.field("s")), None);
        assert_eq!(p.string(&o.field("absent")), None);
        let items_field = o.field("items");
        let items = p
            .array(&items_field, 1..=5, FieldCode::EMPTY, FieldCode::TOO_LONG)
            .unwrap();
        let first = p.object(&items[0], "an item").unwrap();
        assert_eq!(p.string(&first.field("n")), Some("x".into()));
        assert!(p.object(&items[1], "an item").is_none());
        assert_eq!(
            p.optional_time(&o.field("t"), FieldCode::INVALID_TIMESTAMP),
            None
        );
        assert_eq!(
            p.optional_time(&o.field("none"), FieldCode::INVALID_TIMESTAMP),
            Some(None)
        );
        let colour = p.one_of(
            &o.field("e"),
            |s| (s == "red").then_some(()),
            FieldCode::INVALID_PRIORITY,
            "red",
        );
        assert_eq!(colour, None);
        let err = p.finish(|| Some(())).unwrap_err();
        let found: Vec<_> = err
            .details
            .iter()
            .map(|d| (d.field.as_str(), d.code.as_str()))
            .collect();
        assert_eq!(
            found,
            [
                ("s", "invalid_type"),
                ("absent", "missing_field"),
                ("items[1]", "invalid_type"),
                ("t", "invalid_timestamp"),
                ("e", "invalid_priority"),
            ]
        );
        assert_eq!(err.details[4].message, "e must be red");
    }

    #[test]
    fn arrays_are_bounded_and_roots_are_objects() {
        let mut p = Problems::new("thing");
        let body = json!({"a": [], "b": [1, 2, 3]});
        let o = p.root(&body).unwrap();
        assert!(
            p.array(
                &o.field("a"),
                1..=2,
                FieldCode::NO_MATERIALS,
                FieldCode::TOO_MANY_MATERIALS
            )
            .is_none()
        );
        assert!(
            p.array(
                &o.field("b"),
                1..=2,
                FieldCode::NO_MATERIALS,
                FieldCode::TOO_MANY_MATERIALS
            )
            .is_none()
        );
        let codes: Vec<_> = p
            .finish(|| Some(()))
            .unwrap_err()
            .details
            .iter()
            .map(|d| d.code)
            .collect();
        assert_eq!(
            codes,
            [FieldCode::NO_MATERIALS, FieldCode::TOO_MANY_MATERIALS]
        );
        let not_an_object = json!([1]);
        let err = Problems::new("thing").root(&not_an_object).unwrap_err();
        assert_eq!(
            (err.details[0].field.as_str(), err.details[0].code),
            ("$", FieldCode::INVALID_TYPE)
        );
    }
}
