//! What is wrong with a payload: a code per field problem, the problems of one field, and the
//! refusal of a payload with all of them.

use serde::Serialize;

/// What is wrong with a field, as the API names it (`details[].code`). The codes every payload
/// can meet are here; a flow declares its own next to its payloads (an `impl FieldCode` block
/// and a `CODES` list), and `docs/openapi.json` lists exactly the codes of every flow (tested).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FieldCode(&'static str);

impl FieldCode {
    /// Absent or null.
    pub const MISSING_FIELD: Self = Self("missing_field");
    /// Present with the wrong JSON type.
    pub const INVALID_TYPE: Self = Self("invalid_type");
    /// An empty value where one is required.
    pub const EMPTY: Self = Self("empty");
    pub const TOO_LONG: Self = Self("too_long");
    pub const CONTROL_CHARACTER: Self = Self("control_character");
    pub const INVALID_ID: Self = Self("invalid_id");
    pub const INVALID_TIMESTAMP: Self = Self("invalid_timestamp");
    /// A list with no entries where one is needed.
    pub const NO_ITEMS: Self = Self("no_items");
    pub const TOO_MANY_ITEMS: Self = Self("too_many_items");

    /// The codes any flow's payload can meet.
    pub const SHARED: &'static [Self] = &[
        Self::MISSING_FIELD,
        Self::INVALID_TYPE,
        Self::EMPTY,
        Self::TOO_LONG,
        Self::CONTROL_CHARACTER,
        Self::INVALID_ID,
        Self::INVALID_TIMESTAMP,
        Self::NO_ITEMS,
        Self::TOO_MANY_ITEMS,
    ];

    /// A flow's own code: lower snake case (tested for every declared code).
    pub const fn new(code: &'static str) -> Self {
        Self(code)
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }
}

impl Serialize for FieldCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for FieldCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem with one field of an incoming payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: FieldCode,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: FieldCode, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// A payload that does not describe a valid domain value. Carries every field problem found,
/// not only the first, so a client can fix its request in one round trip.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {subject}: {}", summary(.details))]
pub struct ValidationError {
    pub subject: &'static str,
    pub details: Vec<FieldError>,
}

fn summary(details: &[FieldError]) -> String {
    details
        .iter()
        .map(|d| format!("{} ({})", d.field, d.code))
        .collect::<Vec<_>>()
        .join(", ")
}

impl ValidationError {
    pub fn single(subject: &'static str, error: FieldError) -> Self {
        Self {
            subject,
            details: vec![error],
        }
    }
}
