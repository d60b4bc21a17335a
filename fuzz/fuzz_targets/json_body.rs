//! Any bytes as a request body: malformed JSON is refused by the JSON parser (the API's
//! `malformed_json`); any value is accepted by each edge parser or refused with field problems.
#![no_main]

use domain::edge::{Parser, check_answer, parsers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    for Parser { name, parse, .. } in parsers() {
        if let Err(broken) = check_answer(&parse(&value)) {
            panic!("{name}: {broken}");
        }
    }
});
