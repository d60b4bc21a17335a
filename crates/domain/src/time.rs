//! Event time. Business rules use the instant carried by an event, never the processing time.

use chrono::{DateTime, Datelike, NaiveDateTime, SecondsFormat, Utc};

/// Parses an RFC 3339 timestamp; one without an offset (`2025-02-03T12:00:00`) is taken as UTC.
/// The instant must fall in the years 0000–9999 in UTC, the range RFC 3339 can write: a year
/// such as -12025 (which a naive `%Y` reads) or 9999-12-31T23:30:00-01:00 would be accepted here
/// and then stored in a form that no longer reads back.
pub fn parse_event_time(value: &str) -> Option<DateTime<Utc>> {
    let value = value.trim();
    match DateTime::parse_from_rfc3339(value) {
        Ok(t) => writable(t.with_timezone(&Utc)),
        Err(_) => parse_naive_utc(value, "%Y-%m-%dT%H:%M:%S%.f"),
    }
}

/// A time without offset in `format`, taken as UTC, within the same years as [`parse_event_time`].
pub fn parse_naive_utc(value: &str, format: &str) -> Option<DateTime<Utc>> {
    let t = NaiveDateTime::parse_from_str(value.trim(), format).ok()?;
    writable(t.and_utc())
}

fn writable(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (0..=9999).contains(&t.year()).then_some(t)
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
    fn only_instants_that_read_back_are_accepted() {
        // Found by the event_time fuzz target: a signed five-digit year parsed as naive.
        for bad in [
            "-12025-04-10T11:00:00.30278",
            "+10000-01-01T00:00:00",
            "9999-12-31T23:30:00-01:00",
            "0000-01-01T00:30:00+01:00",
        ] {
            assert_eq!(parse_event_time(bad), None, "{bad}");
        }
        for good in [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999Z",
            "0001-01-01T00:00:00",
        ] {
            let t = parse_event_time(good).unwrap();
            assert_eq!(parse_event_time(&format_time(&t)), Some(t), "{good}");
        }
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
