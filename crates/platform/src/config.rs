//! Typed configuration from the environment, read once at start-up. Resource names always come
//! from here; no function hard-codes a table, queue or topic.

use std::str::FromStr;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("environment variable {0} is required")]
    Missing(&'static str),
    #[error("environment variable {name} has an invalid value {value:?}: {reason}")]
    Invalid {
        name: &'static str,
        value: String,
        reason: String,
    },
}

/// A required, non-empty variable.
pub fn required(name: &'static str) -> Result<String, ConfigError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
        _ => Err(ConfigError::Missing(name)),
    }
}

/// An optional variable parsed as `T`, or `default` when unset.
pub fn parsed_or<T>(name: &'static str, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    parse_value(name, std::env::var(name).ok(), default)
}

fn parse_value<T>(name: &'static str, raw: Option<String>, default: T) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    match raw {
        Some(v) if !v.trim().is_empty() => {
            v.trim().parse().map_err(|e: T::Err| ConfigError::Invalid {
                name,
                value: v,
                reason: e.to_string(),
            })
        }
        _ => Ok(default),
    }
}

/// A required variable parsed as `T`.
pub fn required_parsed<T>(name: &'static str) -> Result<T, ConfigError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    let raw = required(name)?;
    raw.parse().map_err(|e: T::Err| ConfigError::Invalid {
        name,
        value: raw,
        reason: e.to_string(),
    })
}

/// A duration given in milliseconds.
pub fn millis_or(name: &'static str, default: Duration) -> Result<Duration, ConfigError> {
    parsed_or(name, default.as_millis() as u64).map(Duration::from_millis)
}

/// Names of the tables of the rental flow, shared by the functions that read or write them.
#[derive(Debug, Clone)]
pub struct RentalTables {
    pub users: String,
    pub assets: String,
    pub rentals: String,
    pub returns: String,
    pub outbox: String,
}

impl RentalTables {
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            users: required("USERS_TABLE")?,
            assets: required("ASSETS_TABLE")?,
            rentals: required("RENTALS_TABLE")?,
            returns: required("RETURNS_TABLE")?,
            outbox: required("OUTBOX_TABLE")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_required_variable_is_named() {
        let err = required("PLATFORM_TEST_SURELY_UNSET").unwrap_err();
        assert_eq!(
            err.to_string(),
            "environment variable PLATFORM_TEST_SURELY_UNSET is required"
        );
    }

    #[test]
    fn optional_values_parse_or_default() {
        assert_eq!(parse_value("N", Some(" 42 ".into()), 1u32).unwrap(), 42);
        assert_eq!(parse_value("N", None, 7u32).unwrap(), 7);
        assert_eq!(parse_value("N", Some("".into()), 7u32).unwrap(), 7);
        let err = parse_value("N", Some("seven".into()), 7u32).unwrap_err();
        assert!(
            matches!(err, ConfigError::Invalid { name: "N", .. }),
            "{err}"
        );
    }
}
