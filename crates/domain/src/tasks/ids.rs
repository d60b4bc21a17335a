//! The tasks flow's own ids.

use crate::ids::{IdError, check_id, string_id};
use serde::{Deserialize, Serialize};
use std::fmt;

string_id!(
    /// A submitted task: `tsk_` and a ULID, so ids sort by submission time.
    TaskId
);

impl TaskId {
    pub fn from_ulid(ulid: ulid::Ulid) -> Self {
        Self(format!("tsk_{ulid}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn task_ids_sort_by_time() {
        let early = TaskId::from_ulid(ulid::Ulid::from_parts(1_700_000_000_000, u128::MAX >> 48));
        let late = TaskId::from_ulid(ulid::Ulid::from_parts(1_700_000_000_001, 0));
        assert!(early < late);
        assert!(early.as_str().starts_with("tsk_"));
        assert_eq!(early.as_str().len(), 4 + 26);
        assert!(TaskId::parse(early.as_str()).is_ok());
    }
}
