//! Any text as an event's time: RFC 3339 (without an offset meaning UTC), and the legacy app
//! events' `2021-02-28 16:23:25`.
#![no_main]

use domain::time::{format_time, parse_event_time};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    for t in [parse_event_time(data), domain::edge::legacy_app_time(data)]
        .into_iter()
        .flatten()
    {
        // What is read is written in the one form this service writes, and reads back the same.
        assert_eq!(
            parse_event_time(&format_time(&t)),
            Some(t),
            "{data:?} read as {t}"
        );
    }
});
