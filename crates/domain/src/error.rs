use serde::Serialize;

/// One problem with one field of an incoming payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }
}

/// A required string field of a JSON object, trimmed; records `missing_field` (absent or null)
/// or `invalid_type` (not a string) in `errors` otherwise.
pub fn required_string(
    value: Option<&serde_json::Value>,
    field: &str,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    match value {
        None | Some(serde_json::Value::Null) => {
            errors.push(FieldError::new(
                field,
                "missing_field",
                format!("{field} is required"),
            ));
            None
        }
        Some(serde_json::Value::String(s)) => Some(s.trim().to_owned()),
        Some(_) => {
            errors.push(FieldError::new(
                field,
                "invalid_type",
                format!("{field} must be a string"),
            ));
            None
        }
    }
}

/// What a free-text field may hold.
#[derive(Debug, Clone, Copy)]
pub struct TextRule {
    /// The code for an empty value; `None` when empty is allowed.
    pub empty_code: Option<&'static str>,
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

    pub const fn non_empty(mut self, code: &'static str) -> Self {
        self.empty_code = Some(code);
        self
    }

    fn refuses(&self, c: char) -> bool {
        c.is_control() && !(self.multiline && matches!(c, '\n' | '\r' | '\t'))
    }
}

/// A required text field, trimmed and checked against `rule`; each problem is recorded in
/// `errors` with its code (`missing_field`, `invalid_type`, the rule's empty code, `too_long`,
/// `control_character`).
pub fn text_field(
    value: Option<&serde_json::Value>,
    field: &str,
    rule: &TextRule,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let t = required_string(value, field, errors)?;
    if let Some(code) = rule.empty_code.filter(|_| t.is_empty()) {
        errors.push(FieldError::new(
            field,
            code,
            format!("{field} must not be empty"),
        ));
        None
    } else if t.chars().count() > rule.max_chars {
        errors.push(FieldError::new(
            field,
            "too_long",
            format!("{field} must be at most {} characters", rule.max_chars),
        ));
        None
    } else if t.chars().any(|c| rule.refuses(c)) {
        let allowed = if rule.multiline {
            " other than line breaks and tabs"
        } else {
            ""
        };
        errors.push(FieldError::new(
            field,
            "control_character",
            format!("{field} must not contain control characters{allowed}"),
        ));
        None
    } else {
        Some(t)
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

/// Failure of a port (storage, messaging). The adapter decides whether trying again can help.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PortError {
    /// Throttling, timeouts, transient service errors, lost races worth re-running.
    #[error("retryable: {0}")]
    Retryable(String),
    /// Corrupt stored data, misconfiguration: repeating the call gives the same answer.
    #[error("permanent: {0}")]
    Permanent(String),
}

impl PortError {
    pub fn is_retryable(&self) -> bool {
        matches!(self, Self::Retryable(_))
    }
}
