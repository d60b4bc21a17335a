//! Any text through every flow's text parsers (`domain::edge::text_parsers`: QR payloads, event
//! times, …): each keeps the promise it states for any text at all.
#![no_main]

use domain::edge::{TextParser, text_parsers};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    for TextParser { name, check, .. } in text_parsers() {
        if let Err(broken) = check(data) {
            panic!("{name}: {broken} for {data:?}");
        }
    }
});
