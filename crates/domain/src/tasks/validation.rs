//! `POST /tasks` bodies: trimmed, length-limited, control characters refused; every field
//! problem is reported, each with its own code.

use super::task::{NewTask, Priority};
use crate::validation::{FieldCode, Problems, TextRule, ValidationError};
use serde_json::Value;

pub const MAX_TITLE_LEN: usize = 200;
pub const MAX_DESCRIPTION_LEN: usize = 2000;

/// The task flow's own field codes.
impl FieldCode {
    pub const EMPTY_TITLE: Self = Self::new("empty_title");
    pub const INVALID_DUE_DATE: Self = Self::new("invalid_due_date");
    pub const INVALID_PRIORITY: Self = Self::new("invalid_priority");
}

/// Every field code of this flow, for the API's list of codes.
pub const CODES: &[FieldCode] = &[
    FieldCode::EMPTY_TITLE,
    FieldCode::INVALID_DUE_DATE,
    FieldCode::INVALID_PRIORITY,
];

const TITLE: TextRule = TextRule::single_line(MAX_TITLE_LEN).non_empty(FieldCode::EMPTY_TITLE);
/// A description may be empty and span several lines.
const DESCRIPTION: TextRule = TextRule::multiline(MAX_DESCRIPTION_LEN);

impl NewTask {
    pub fn from_json(body: &Value) -> Result<Self, ValidationError> {
        let mut p = Problems::new("task");
        let o = p.root(body)?;
        let title = p.text(&o.field("title"), &TITLE);
        let description = p.text(&o.field("description"), &DESCRIPTION);
        let priority = p.one_of(
            &o.field("priority"),
            Priority::parse,
            FieldCode::INVALID_PRIORITY,
            "one of low, medium, high",
        );
        let due_date = p.optional_time(&o.field("due_date"), FieldCode::INVALID_DUE_DATE);
        p.finish(|| {
            Some(Self {
                title: title?,
                description: description?,
                priority: priority?,
                due_date: due_date?,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_event_time;
    use proptest::prelude::*;
    use serde_json::json;

    fn codes(body: Value) -> Vec<(String, &'static str)> {
        NewTask::from_json(&body)
            .unwrap_err()
            .details
            .into_iter()
            .map(|d| (d.field, d.code.as_str()))
            .collect()
    }

    #[test]
    fn a_full_task_is_trimmed_and_typed() {
        let t = NewTask::from_json(&json!({
            "title": "  Restock shelf 4 ",
            "description": "Line one\nLine two\twith a tab ",
            "priority": "high",
            "due_date": "2026-12-01T09:00:00+01:00",
        }))
        .unwrap();
        assert_eq!(t.title, "Restock shelf 4");
        assert_eq!(t.description, "Line one\nLine two\twith a tab");
        assert_eq!(t.priority, Priority::High);
        assert_eq!(t.due_date, parse_event_time("2026-12-01T08:00:00Z"));
    }

    #[test]
    fn due_date_is_optional_and_may_be_null_and_naive_means_utc() {
        let base = json!({"title": "t", "description": "", "priority": "low"});
        assert_eq!(NewTask::from_json(&base).unwrap().due_date, None);
        let mut with_null = base.clone();
        with_null["due_date"] = Value::Null;
        assert_eq!(NewTask::from_json(&with_null).unwrap().due_date, None);
        let mut naive = base;
        naive["due_date"] = json!("2026-12-01T09:00:00");
        assert_eq!(
            NewTask::from_json(&naive).unwrap().due_date,
            parse_event_time("2026-12-01T09:00:00Z")
        );
    }

    #[test]
    fn every_problem_has_its_own_code() {
        assert_eq!(
            codes(json!({})),
            vec![
                ("title".into(), "missing_field"),
                ("description".into(), "missing_field"),
                ("priority".into(), "missing_field"),
            ]
        );
        assert_eq!(
            codes(
                json!({"title": "   ", "description": 3, "priority": "urgent", "due_date": "tomorrow"})
            ),
            vec![
                ("title".into(), "empty_title"),
                ("description".into(), "invalid_type"),
                ("priority".into(), "invalid_priority"),
                ("due_date".into(), "invalid_due_date"),
            ]
        );
        assert_eq!(
            codes(json!({"title": 1, "description": "", "priority": 2, "due_date": 5})),
            vec![
                ("title".into(), "invalid_type"),
                ("priority".into(), "invalid_type"),
                ("due_date".into(), "invalid_type"),
            ]
        );
        assert_eq!(
            codes(json!(["not", "an", "object"])),
            vec![("$".into(), "invalid_type")]
        );
    }

    #[test]
    fn lengths_count_characters_after_trimming() {
        let ok = json!({"title": format!(" {} ", "é".repeat(MAX_TITLE_LEN)),
                        "description": "d".repeat(MAX_DESCRIPTION_LEN), "priority": "medium"});
        assert!(NewTask::from_json(&ok).is_ok());
        assert_eq!(
            codes(json!({"title": "t".repeat(MAX_TITLE_LEN + 1),
                         "description": "d".repeat(MAX_DESCRIPTION_LEN + 1), "priority": "medium"})),
            vec![
                ("title".into(), "too_long"),
                ("description".into(), "too_long")
            ]
        );
    }

    #[test]
    fn control_characters_are_refused_but_descriptions_keep_line_breaks() {
        assert_eq!(
            codes(json!({"title": "a\nb", "description": "x\u{0}y", "priority": "low"})),
            vec![
                ("title".into(), "control_character"),
                ("description".into(), "control_character"),
            ]
        );
        assert!(
            NewTask::from_json(&json!({"title": "a", "description": "x\r\ny", "priority": "low"}))
                .is_ok()
        );
    }

    proptest! {
        #[test]
        fn accepted_titles_are_trimmed_bounded_and_printable(title in "\\PC{0,210}") {
            let body = json!({"title": title, "description": "", "priority": "low"});
            if let Ok(t) = NewTask::from_json(&body) {
                prop_assert_eq!(t.title.trim(), t.title.as_str());
                prop_assert!(!t.title.is_empty());
                prop_assert!(t.title.chars().count() <= MAX_TITLE_LEN);
                prop_assert!(!t.title.chars().any(char::is_control));
            }
        }

        #[test]
        fn any_value_is_answered_without_panicking(v in any::<i64>(), s in ".{0,40}") {
            let _ = NewTask::from_json(&json!({"title": s, "description": v, "priority": s, "due_date": s}));
        }
    }
}
