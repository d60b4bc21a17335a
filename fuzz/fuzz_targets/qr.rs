//! Any text as a scanned QR payload: an id, or one of the reasons it is not one.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &str| {
    if let Ok(id) = domain::edge::qr(data) {
        // The rules of every id: 1 to 128 characters, none of them space or control.
        assert!(
            !id.is_empty() && id.chars().count() <= 128,
            "decoded to {id:?}"
        );
        assert!(
            !id.chars().any(|c| c.is_whitespace() || c.is_control()),
            "decoded to {id:?}"
        );
    }
});
