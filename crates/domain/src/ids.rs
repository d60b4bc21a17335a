//! Identifier newtypes. Ids are opaque strings; the only rule is that they are non-empty,
//! carry no surrounding whitespace or control characters, and stay within a sane length.

use serde::{Deserialize, Serialize};
use std::fmt;

pub const MAX_ID_LEN: usize = 128;

/// Why a string is not an id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {MAX_ID_LEN} characters")]
    TooLong,
    #[error("must not contain whitespace or control characters")]
    BadCharacter,
}

pub(crate) fn check_id(value: &str) -> Result<(), IdError> {
    if value.is_empty() {
        return Err(IdError::Empty);
    }
    if value.chars().count() > MAX_ID_LEN {
        return Err(IdError::TooLong);
    }
    if value.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(IdError::BadCharacter);
    }
    Ok(())
}

/// An opaque string id newtype: checked by [`check_id`], (de)serialized as a string.
macro_rules! string_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub fn parse(value: impl Into<String>) -> Result<Self, IdError> {
                let value = value.into();
                check_id(&value)?;
                Ok(Self(value))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// For ids this crate derives itself from a fixed, valid alphabet.
            #[allow(dead_code)]
            pub(crate) fn from_trusted(value: String) -> Self {
                debug_assert!(check_id(&value).is_ok());
                Self(value)
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}

/// A flow declares its own ids in its folder with `crate::ids::string_id!(/// doc\n Name);` (as
/// `orders/ids.rs`); the ids every flow shares (a user, an event) are below.
pub(crate) use string_id;

string_id!(
    /// A rental customer.
    UserId
);
string_id!(
    /// One domain event; stable across retries so that consumers can de-duplicate on it.
    EventId
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_opaque_strings() {
        assert_eq!(UserId::parse("tpg_u0001").unwrap().as_str(), "tpg_u0001");
    }

    #[test]
    fn rejects_empty_blank_long_and_control() {
        assert_eq!(UserId::parse(""), Err(IdError::Empty));
        assert_eq!(UserId::parse(" a"), Err(IdError::BadCharacter));
        assert_eq!(UserId::parse("a\u{7}"), Err(IdError::BadCharacter));
        assert_eq!(
            UserId::parse("x".repeat(MAX_ID_LEN + 1)),
            Err(IdError::TooLong)
        );
        assert!(UserId::parse("x".repeat(MAX_ID_LEN)).is_ok());
    }

    #[test]
    fn deserialization_validates() {
        assert!(serde_json::from_str::<UserId>("\"\"").is_err());
        assert_eq!(
            serde_json::from_str::<UserId>("\"a1\"").unwrap().as_str(),
            "a1"
        );
    }
}
