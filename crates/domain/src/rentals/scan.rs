//! A return bin's scan: the wire event and its validated form.

use crate::rentals::{LocationId, ReturnId};
use crate::time::{format_time, serde_time};
use crate::validation::{FieldCode, Problems, TextRule, ValidationError};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Upper bound for a QR payload; a real sticker holds far less.
pub const MAX_QR_LEN: usize = 1024;

/// A QR payload as scanned: base64 text, so control characters cannot be part of it.
const QR: TextRule = TextRule::single_line(MAX_QR_LEN).non_empty(FieldCode::EMPTY);

/// The event as a return bin emits it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RawReturnEvent {
    pub timestamp: String,
    pub location_id: String,
    pub user_qr_data: String,
    pub asset_qr_data: String,
    /// The bin that sent it, when it came through the API ([`ReturnScan::bin`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin: Option<String>,
}

/// A well-formed scan. The QR payloads are kept as scanned: decoding them is a business step
/// whose failure is a recorded rejection (`invalid_qr`), not a malformed request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnScan {
    #[serde(rename = "timestamp", with = "serde_time")]
    pub occurred_at: DateTime<Utc>,
    pub location_id: LocationId,
    pub user_qr_data: String,
    pub asset_qr_data: String,
    /// The return bin that sent the scan: the id of the API key it called with, as the gateway
    /// vouches for it (never read from the body). None for a scan invoked directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bin: Option<String>,
}

impl ReturnScan {
    /// Validates any JSON value, reporting every field problem at once. The QR payloads are
    /// checked for presence and size only: decoding them is the processing's job.
    pub fn from_json(value: &Value) -> Result<Self, ValidationError> {
        let mut p = Problems::new("return event");
        let o = p.root(value)?;
        let occurred_at = p.time(&o.field("timestamp"), FieldCode::INVALID_TIMESTAMP);
        let location_id = p.parsed(
            &o.field("location_id"),
            |s| LocationId::parse(s),
            FieldCode::INVALID_ID,
        );
        let user_qr_data = p.text(&o.field("user_qr_data"), &QR);
        let asset_qr_data = p.text(&o.field("asset_qr_data"), &QR);
        p.finish(|| {
            Some(Self {
                occurred_at: occurred_at?,
                location_id: location_id?,
                user_qr_data: user_qr_data?,
                asset_qr_data: asset_qr_data?,
                bin: None,
            })
        })
    }

    /// The scan as the bin `bin` sent it.
    pub fn from_bin(self, bin: Option<String>) -> Self {
        Self { bin, ..self }
    }

    /// A scan this service queued ([`Self::to_raw`]): the body read as any scan, and the bin it
    /// recorded, which only the API writes there.
    pub fn from_queued(value: &Value) -> Result<Self, ValidationError> {
        let bin = value.get("bin").and_then(Value::as_str).map(str::to_owned);
        Ok(Self::from_json(value)?.from_bin(bin))
    }

    /// Same scan, same id: the id hashes the normalised scan, so a bin that re-sends an event
    /// (or writes its time with another offset) cannot cause a second return.
    pub fn return_id(&self) -> ReturnId {
        let mut hasher = Sha256::new();
        for part in [
            "return-scan-v1",
            &format_time(&self.occurred_at),
            self.location_id.as_str(),
            &self.user_qr_data,
            &self.asset_qr_data,
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0u8]);
        }
        let digest = hex::encode(hasher.finalize());
        // 128 bits of the digest: collisions are not a practical concern.
        ReturnId::from_trusted(format!("ret_{}", &digest[..32]))
    }

    /// The FIFO message group: one per user, so a user's returns are processed in order while
    /// different users proceed in parallel. A scan whose user QR does not decode gets a group of
    /// its own; it will be rejected as `invalid_qr` without touching any user's rentals.
    pub fn message_group(&self) -> String {
        match super::qr::decode_qr(&self.user_qr_data) {
            Ok(user) => format!("user-{user}"),
            Err(_) => "unreadable-user-qr".to_owned(),
        }
    }

    pub fn to_raw(&self) -> RawReturnEvent {
        RawReturnEvent {
            timestamp: format_time(&self.occurred_at),
            location_id: self.location_id.to_string(),
            user_qr_data: self.user_qr_data.clone(),
            asset_qr_data: self.asset_qr_data.clone(),
            bin: self.bin.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_bin_comes_from_the_caller_or_the_queue_never_from_a_body() {
        let mut body = example();
        body["bin"] = json!("forged");
        assert_eq!(ReturnScan::from_json(&body).unwrap().bin, None);
        let scan = ReturnScan::from_json(&example())
            .unwrap()
            .from_bin(Some("key-1".into()));
        let queued = serde_json::to_value(scan.to_raw()).unwrap();
        let read = ReturnScan::from_queued(&queued).unwrap();
        assert_eq!(read, scan);
        assert_eq!(
            read.return_id(),
            ReturnScan::from_json(&example()).unwrap().return_id()
        );
        let direct =
            serde_json::to_value(ReturnScan::from_json(&example()).unwrap().to_raw()).unwrap();
        assert!(direct.get("bin").is_none());
    }

    fn example() -> Value {
        json!({"timestamp": "2025-02-10T11:00:00+00:00", "location_id": "topanga-location-01",
               "user_qr_data": "dHBnX3UwMDAx", "asset_qr_data": "dHBnX2EwMDAwMQ=="})
    }

    #[test]
    fn parses_the_example_event() {
        let scan = ReturnScan::from_json(&example()).unwrap();
        assert_eq!(format_time(&scan.occurred_at), "2025-02-10T11:00:00Z");
        assert_eq!(scan.location_id.as_str(), "topanga-location-01");
    }

    #[test]
    fn same_scan_same_id_even_with_another_offset_notation() {
        let a = ReturnScan::from_json(&example()).unwrap();
        let mut other = example();
        other["timestamp"] = json!("2025-02-10T11:00:00");
        let b = ReturnScan::from_json(&other).unwrap();
        assert_eq!(a.return_id(), b.return_id());
        assert!(a.return_id().as_str().starts_with("ret_"));
        assert_eq!(a.return_id().as_str().len(), 36);
    }

    #[test]
    fn different_scans_different_ids() {
        let a = ReturnScan::from_json(&example()).unwrap();
        for (field, value) in [
            ("timestamp", "2025-02-10T11:00:01Z"),
            ("location_id", "topanga-location-02"),
            ("user_qr_data", "dHBnX3UwMDAy"),
            ("asset_qr_data", "dHBnX2EwMDAwMg=="),
        ] {
            let mut other = example();
            other[field] = json!(value);
            let b = ReturnScan::from_json(&other).unwrap();
            assert_ne!(a.return_id(), b.return_id(), "{field}");
        }
    }

    #[test]
    fn reports_every_field_problem() {
        let err = ReturnScan::from_json(&json!({"timestamp": "soon", "location_id": 7,
                                                 "user_qr_data": ""}))
        .unwrap_err();
        let codes: Vec<_> = err
            .details
            .iter()
            .map(|d| (d.field.as_str(), d.code.as_str()))
            .collect();
        assert_eq!(
            codes,
            vec![
                ("timestamp", "invalid_timestamp"),
                ("location_id", "invalid_type"),
                ("user_qr_data", "empty"),
                ("asset_qr_data", "missing_field"),
            ]
        );
    }

    #[test]
    fn rejects_non_objects_and_oversized_qr() {
        assert_eq!(
            ReturnScan::from_json(&json!([1])).unwrap_err().details[0].code,
            FieldCode::INVALID_TYPE
        );
        let mut big = example();
        big["user_qr_data"] = json!("A".repeat(MAX_QR_LEN + 1));
        assert_eq!(
            ReturnScan::from_json(&big).unwrap_err().details[0].code,
            FieldCode::TOO_LONG
        );
        let mut bad_loc = example();
        bad_loc["location_id"] = json!("two words");
        assert_eq!(
            ReturnScan::from_json(&bad_loc).unwrap_err().details[0].code,
            FieldCode::INVALID_ID
        );
    }

    #[test]
    fn groups_by_decoded_user() {
        let scan = ReturnScan::from_json(&example()).unwrap();
        assert_eq!(scan.message_group(), "user-tpg_u0001");
        let bad = ReturnScan {
            user_qr_data: "%%%".into(),
            ..scan
        };
        assert_eq!(bad.message_group(), "unreadable-user-qr");
    }

    #[test]
    fn raw_round_trip() {
        let scan = ReturnScan::from_json(&example()).unwrap();
        let raw = serde_json::to_value(scan.to_raw()).unwrap();
        assert_eq!(ReturnScan::from_json(&raw).unwrap(), scan);
        let serialized = serde_json::to_value(&scan).unwrap();
        assert_eq!(serialized, raw);
    }
}
