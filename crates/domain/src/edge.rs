//! Every parser that reads outside input: each flow lists its own in its `EDGE` ([`Edge`]: the
//! JSON bodies it reads and the text it decodes), and [`crate::EDGE`] lists the flows. The
//! property tests below and the fuzz targets (`fuzz/`: `json_body`, `text`) feed every one, so a
//! parser is fuzzed and property-tested from the day its flow lists it.

use crate::validation::ValidationError;
use serde_json::Value;

/// A flow's readers of outside input.
pub struct Edge {
    pub json: &'static [Parser],
    pub text: &'static [TextParser],
}

/// A JSON body's parser, its result reduced to "accepted" or the field problems it reports.
pub type JsonParser = fn(&Value) -> Result<(), ValidationError>;

/// One JSON body the API accepts.
pub struct Parser {
    /// The operation that reads it.
    pub name: &'static str,
    pub parse: JsonParser,
    /// A body it accepts (JSON text), so tests reach its accepting paths.
    pub sample: &'static str,
    /// The names it reads, so generated objects reach past the first missing field.
    pub fields: &'static [&'static str],
}

/// One kind of outside text a flow decodes (a QR payload, a legacy time), with the promise it
/// keeps for any text at all.
pub struct TextParser {
    pub name: &'static str,
    /// Reads the text and checks what was read: `Ok(true)` accepted, `Ok(false)` refused for a
    /// reason the parser names, `Err` the broken promise (a decoded value that breaks its own
    /// rules, a time that does not read back the same).
    pub check: fn(&str) -> Result<bool, String>,
    /// A text it accepts, so tests reach its accepting path.
    pub sample: &'static str,
}

/// Every JSON body parser of every flow.
pub fn parsers() -> impl Iterator<Item = &'static Parser> {
    crate::EDGE.iter().flat_map(|flow| flow.json.iter())
}

/// Every text parser of every flow.
pub fn text_parsers() -> impl Iterator<Item = &'static TextParser> {
    crate::EDGE.iter().flat_map(|flow| flow.text.iter())
}

/// What a parser may answer for any input at all: accepted, or at least one field problem, each
/// naming its field and saying what is wrong. Returns the broken promise, if any.
pub fn check_answer(answer: &Result<(), ValidationError>) -> Result<(), String> {
    let Err(e) = answer else { return Ok(()) };
    if e.details.is_empty() {
        return Err(format!("{} refused without a field problem", e.subject));
    }
    for d in &e.details {
        if d.field.is_empty() || d.message.is_empty() {
            return Err(format!(
                "{}: a field problem without field or message: {d:?}",
                e.subject
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, json};

    /// Names the edge parsers read, so that generated objects reach past the first missing field.
    fn fields() -> Vec<&'static str> {
        let mut names: Vec<&str> = parsers().flat_map(|p| p.fields.iter().copied()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }

    fn leaf() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            // Near the limits the rules care about: quantities, concentrations, versions.
            (-3i64..300).prop_map(Value::from),
            "\\PC{0,40}".prop_map(Value::from),
            ".{0,300}".prop_map(Value::from),
            // Strings that are nearly valid: times, ids, base64, enumerations.
            prop_oneof![
                Just("2025-02-10T11:00:00Z"),
                Just("2021-02-28 16:23:25"),
                Just("2025-02-10T11:00:00"),
                Just("dHBnX3UwMDAx"),
                Just("tpg_u0001"),
                Just("high"),
                Just("preparing"),
                Just("training_program_started"),
                Just("app_launched"),
                Just("12.5"),
                Just(""),
                Just(" "),
                Just("\u{0}"),
            ]
            .prop_map(Value::from),
        ]
    }

    fn value() -> impl Strategy<Value = Value> {
        leaf().prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                prop::collection::vec(
                    (
                        prop_oneof![
                            prop::sample::select(fields()).prop_map(str::to_owned),
                            ".{0,8}"
                        ],
                        inner
                    ),
                    0..10
                )
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    fn every_parser_keeps_its_promise(v: &Value) -> Result<(), TestCaseError> {
        for Parser { name, parse, .. } in parsers() {
            let first = parse(v);
            if let Err(broken) = check_answer(&first) {
                return Err(TestCaseError::fail(format!("{name}: {broken} for {v}")));
            }
            // Pure: the same input, the same answer.
            prop_assert_eq!(
                format!("{first:?}"),
                format!("{:?}", parse(v)),
                "{} is not pure",
                name
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]

        #[test]
        fn any_json_value_is_accepted_or_refused_with_field_problems(v in value()) {
            every_parser_keeps_its_promise(&v)?;
        }

        #[test]
        fn any_object_of_known_fields_is_accepted_or_refused_with_field_problems(
            kv in prop::collection::vec((prop::sample::select(fields()), value()), 0..14)
        ) {
            let v = Value::Object(kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect());
            every_parser_keeps_its_promise(&v)?;
        }

        #[test]
        fn any_bytes_are_malformed_json_or_a_value_the_parsers_answer(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
            if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
                every_parser_keeps_its_promise(&v)?;
            }
        }

        #[test]
        fn any_text_is_read_by_every_text_parser_as_it_promises(
            s in prop_oneof![".{0,64}", "[A-Za-z0-9+/=]{0,64}", "[0-9:TZ+ .-]{0,32}"]
        ) {
            for TextParser { name, check, .. } in text_parsers() {
                if let Err(broken) = check(&s) {
                    return Err(TestCaseError::fail(format!("{name}: {broken} for {s:?}")));
                }
            }
        }
    }

    #[test]
    fn the_table_holds_a_parser_that_accepts_each_sample() {
        // The table is live: each parser accepts a real body (so the properties above reach
        // the accepting paths too), and refuses a non-object with a `$` problem.
        assert!(parsers().count() >= 7);
        for Parser {
            name,
            parse,
            sample,
            fields,
        } in parsers()
        {
            let sample: Value = serde_json::from_str(sample).expect("a JSON sample");
            assert!(
                parse(&sample).is_ok(),
                "{name} refused {sample}: {:?}",
                parse(&sample)
            );
            let refused = parse(&json!([])).unwrap_err();
            assert_eq!(refused.details[0].field, "$", "{name}");
            assert!(!fields.is_empty(), "{name} names the fields it reads");
        }
        assert!(text_parsers().count() >= 2);
        for TextParser {
            name,
            check,
            sample,
        } in text_parsers()
        {
            assert_eq!(check(sample), Ok(true), "{name} refused {sample:?}");
        }
    }
}
