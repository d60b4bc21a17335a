//! In-memory store with the DynamoDB adapter's semantics, for router tests and benchmarks.

use super::{Claim, IdempotencyStore, StoredResponse};
use domain::PortError;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

struct Record {
    hash: String,
    response: Option<StoredResponse>,
    in_progress_until: i64,
}

pub struct InMemoryIdempotencyStore {
    records: Mutex<HashMap<String, Record>>,
    in_progress_expiry: Duration,
}

impl Default for InMemoryIdempotencyStore {
    fn default() -> Self {
        Self {
            records: Mutex::default(),
            in_progress_expiry: super::DEFAULT_IN_PROGRESS_EXPIRY,
        }
    }
}

impl InMemoryIdempotencyStore {
    pub fn with_in_progress_expiry(expiry: Duration) -> Self {
        Self {
            in_progress_expiry: expiry,
            ..Self::default()
        }
    }
}

#[async_trait::async_trait]
impl IdempotencyStore for InMemoryIdempotencyStore {
    async fn claim(&self, key: &str, request_hash: &str, now_ms: i64) -> Result<Claim, PortError> {
        let mut records = self.records.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = records.get(key) {
            let stale = r.response.is_none() && r.in_progress_until < now_ms;
            if !stale {
                return Ok(if r.hash != request_hash {
                    Claim::Mismatch
                } else if let Some(resp) = &r.response {
                    Claim::Completed(resp.clone())
                } else {
                    Claim::InProgress
                });
            }
        }
        let until = now_ms + self.in_progress_expiry.as_millis() as i64;
        records.insert(
            key.to_owned(),
            Record {
                hash: request_hash.to_owned(),
                response: None,
                in_progress_until: until,
            },
        );
        Ok(Claim::Acquired)
    }

    async fn complete(
        &self,
        key: &str,
        request_hash: &str,
        response: &StoredResponse,
        _: i64,
    ) -> Result<(), PortError> {
        match self
            .records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(key)
        {
            Some(r) if r.hash == request_hash && r.response.is_none() => {
                r.response = Some(response.clone());
                Ok(())
            }
            _ => Err(PortError::Permanent(format!(
                "{key} is not claimed by this request"
            ))),
        }
    }

    async fn release(&self, key: &str) -> Result<(), PortError> {
        self.records
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
        Ok(())
    }
}
