//! Event time. Business rules use the instant carried by an event, never the processing time.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Parses an RFC 3339 timestamp; one without an offset (`2025-02-03T12:00:00`) is taken as UTC.
pub fn parse_event_time(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|n| n.and_utc())
}

/// The one textual form this service writes: RFC 3339, UTC, `Z`, whole seconds unless finer.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Serde helpers that write [`format_time`] and read anything [`parse_event_time`] accepts.
pub mod serde_time {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_time(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let raw = String::deserialize(d)?;
        parse_event_time(&raw).ok_or_else(|| D::Error::custom(format!("invalid timestamp {raw:?}")))
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&format_time(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            match Option::<String>::deserialize(d)? {
                None => Ok(None),
                Some(raw) => parse_event_time(&raw)
                    .map(Some)
                    .ok_or_else(|| D::Error::custom(format!("invalid timestamp {raw:?}"))),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn naive_timestamps_are_utc() {
        let expected = Utc.with_ymd_and_hms(2025, 2, 3, 12, 0, 0).unwrap();
        assert_eq!(parse_event_time("2025-02-03T12:00:00"), Some(expected));
        assert_eq!(parse_event_time("2025-02-03T12:00:00Z"), Some(expected));
        assert_eq!(
            parse_event_time("2025-02-03T12:00:00+00:00"),
            Some(expected)
        );
    }

    #[test]
    fn offsets_are_converted_to_utc() {
        let expected = Utc.with_ymd_and_hms(2025, 2, 3, 10, 0, 0).unwrap();
        assert_eq!(
            parse_event_time("2025-02-03T12:00:00+02:00"),
            Some(expected)
        );
    }

    #[test]
    fn fractional_seconds_are_kept() {
        let t = parse_event_time("2025-02-03T12:00:00.250").unwrap();
        assert_eq!(format_time(&t), "2025-02-03T12:00:00.250Z");
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "yesterday",
            "2025-02-30T12:00:00",
            "2025-02-03",
            "2025-02-03 12:00",
        ] {
            assert_eq!(parse_event_time(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_as_utc_z() {
        let t = Utc.with_ymd_and_hms(2025, 2, 3, 12, 0, 0).unwrap();
        assert_eq!(format_time(&t), "2025-02-03T12:00:00Z");
    }
}
