//! Idempotent POSTs (`Idempotency-Key`), in the manner of AWS Powertools' idempotency utility.
//!
//! A record per key holds a hash of the request and, once the first request finished, its
//! response. The first request claims the key with a conditional write (an in-progress marker
//! that expires, so a crashed request does not block retries forever); a repeat with the same
//! request gets the stored response byte for byte; the same key with another request is refused;
//! a repeat while the first is still running is told to retry. Records expire by TTL.

mod dynamo;
#[cfg(any(test, feature = "memory"))]
pub mod memory;

pub use dynamo::DynamoIdempotencyStore;

use domain::PortError;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// How long a claim protects a running request; past it, the request is taken as crashed and a
/// retry may claim the key again. Longer than the API's own timeout (29 s at API Gateway).
pub const DEFAULT_IN_PROGRESS_EXPIRY: Duration = Duration::from_secs(30);
/// How long a completed response is replayed.
pub const DEFAULT_RECORD_TTL: Duration = Duration::from_secs(24 * 3600);
pub const MAX_KEY_LEN: usize = 255;

/// A client-chosen key: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Option<Self> {
        let ok = !raw.is_empty()
            && raw.len() <= MAX_KEY_LEN
            && raw.bytes().all(|b| b.is_ascii_graphic());
        ok.then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A response as it is stored and replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Base64 of the body bytes, so that the replay is byte-for-byte.
    pub body: String,
}

impl StoredResponse {
    /// The status and body bytes to replay; a record that does not hold a valid status and
    /// base64 body is corrupt, and replaying it would answer with something that never happened.
    pub fn decode(&self) -> Result<(u16, Vec<u8>), PortError> {
        use base64::Engine;
        if !(100..=599).contains(&self.status) {
            return Err(PortError::Permanent(format!(
                "idempotency record: status {} is not an HTTP status",
                self.status
            )));
        }
        let body = base64::engine::general_purpose::STANDARD
            .decode(&self.body)
            .map_err(|e| PortError::Permanent(format!("idempotency record: body: {e}")))?;
        Ok((self.status, body))
    }
}

/// What claiming a key found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// The key is ours: run the request, then `complete` or `release`.
    Acquired,
    /// The same request finished before: replay this.
    Completed(StoredResponse),
    /// The same request is running now.
    InProgress,
    /// The key was used with a different request.
    Mismatch,
}

#[async_trait::async_trait]
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for a request with `request_hash` at `now` (milliseconds since the epoch).
    async fn claim(&self, key: &str, request_hash: &str, now_ms: i64) -> Result<Claim, PortError>;
    /// Stores the response of the request that holds the claim (a claim taken over by another
    /// request after it expired is left alone: an error).
    async fn complete(
        &self,
        key: &str,
        request_hash: &str,
        response: &StoredResponse,
        now_ms: i64,
    ) -> Result<(), PortError>;
    /// Gives the claim up (the request failed in a way worth retrying).
    async fn release(&self, key: &str) -> Result<(), PortError>;
}

/// Hash of what makes two requests "the same": method, path and body. A JSON body is hashed in
/// canonical form (keys sorted, no insignificant whitespace), so a re-serialised retry matches.
pub fn request_hash(method: &str, path: &str, body: &[u8]) -> String {
    let canonical = serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v.to_string().into_bytes())
        .unwrap_or_else(|_| body.to_vec());
    let mut h = Sha256::new();
    h.update(method.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(&canonical);
    hex::encode(h.finalize())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_header_value_is_a_key_exactly_when_it_is_1_to_255_visible_ascii(raw in prop_oneof![
            ".{0,300}",
            "[!-~]{0,300}",
            prop::collection::vec(any::<u8>(), 0..300)
                .prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        ]) {
            let valid = (1..=MAX_KEY_LEN).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_graphic());
            match IdempotencyKey::parse(&raw) {
                Some(k) => prop_assert!(valid && k.as_str() == raw),
                None => prop_assert!(!valid),
            }
        }
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255() {
        assert!(IdempotencyKey::parse("a-b_c.9:0").is_some());
        assert!(IdempotencyKey::parse("").is_none());
        assert!(IdempotencyKey::parse("has space").is_none());
        assert!(IdempotencyKey::parse("ünï").is_none());
        assert!(IdempotencyKey::parse(&"k".repeat(255)).is_some());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_none());
    }

    #[test]
    fn a_stored_response_decodes_or_is_corrupt() {
        let ok = StoredResponse {
            status: 202,
            headers: vec![],
            body: "e30=".into(),
        };
        assert_eq!(ok.decode().unwrap(), (202, b"{}".to_vec()));
        for bad in [
            StoredResponse {
                status: 0,
                ..ok.clone()
            },
            StoredResponse {
                body: "%%%".into(),
                ..ok.clone()
            },
        ] {
            assert!(!bad.decode().unwrap_err().is_retryable());
        }
    }

    #[test]
    fn equal_json_hashes_equal_whatever_its_layout() {
        let a = request_hash("POST", "/x", br#"{"a": 1, "b": [1, 2]}"#);
        let b = request_hash("POST", "/x", br#"{"b":[1,2],"a":1}"#);
        assert_eq!(a, b);
        assert_ne!(a, request_hash("POST", "/x", br#"{"a": 2, "b": [1, 2]}"#));
        assert_ne!(a, request_hash("POST", "/y", br#"{"a": 1, "b": [1, 2]}"#));
        assert_eq!(
            request_hash("POST", "/x", b"not json"),
            request_hash("POST", "/x", b"not json")
        );
    }
}
