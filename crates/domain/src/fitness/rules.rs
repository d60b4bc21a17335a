//! The fitness rules, by event time, and the records they act on.
//!
//! **Congratulation**: a program finished more than 30:00 after it started is congratulated
//! with the whole minutes trained (30:59 → 30, 36:18 → 36); a finish without a start, or after
//! a cancellation, congratulates nobody.
//!
//! **Nudge**: a launch opens a window of `window` (600 s by default). A program started within
//! it (at or before its end, event time) cancels the nudge. Otherwise the nudge is sent: as soon
//! as a later event of the user shows the window passed without a start (events of one user
//! arrive in order), or else when the launch's timer fires. The timer runs `window` of wall
//! clock from when the launch is processed, not until the launch's event time plus the window:
//! a replayed historical stream then still sees its own later events first, and a start a few
//! milliseconds behind its launch in the replay cancels the nudge as it did live.

use super::ProgramId;
use crate::ids::{EventId, UserId};
use crate::time::serde_time;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// More than this, and a program earns a congratulation.
pub const CONGRATULATE_AFTER: Duration = Duration::minutes(30);
/// `FITNESS_NUDGE_AFTER_SECONDS` when unset.
pub const DEFAULT_NUDGE_AFTER_SECONDS: u64 = 600;

/// The whole minutes of a program from `started` to `finished`, when it earns a congratulation.
pub fn congratulation_minutes(started: DateTime<Utc>, finished: DateTime<Utc>) -> Option<i64> {
    let trained = finished - started;
    (trained > CONGRATULATE_AFTER).then(|| trained.num_minutes())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Started,
    Cancelled,
    Finished,
}

/// How a program session ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionEnd {
    Cancelled,
    Finished,
}

/// One run of a program by a user, from its start event; keyed by user, program and start time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub user_id: UserId,
    pub training_program_id: ProgramId,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_program_title: Option<String>,
    #[serde(with = "serde_time")]
    pub started_at: DateTime<Utc>,
    pub state: SessionState,
    #[serde(
        default,
        with = "serde_time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(
        default,
        with = "serde_time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Whole minutes from start to finish, once finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes: Option<i64>,
    pub started_by: EventId,
}

impl Session {
    pub fn start(
        user_id: UserId,
        program: ProgramId,
        title: Option<String>,
        at: DateTime<Utc>,
        event: EventId,
    ) -> Self {
        Self {
            user_id,
            training_program_id: program,
            training_program_title: title,
            started_at: at,
            state: SessionState::Started,
            finished_at: None,
            cancelled_at: None,
            minutes: None,
            started_by: event,
        }
    }

    /// The session after `end` at `at`, and the minutes a congratulation states if it earns one;
    /// `None` when the session is not running (already finished or cancelled), or when the end
    /// is from before the start.
    pub fn end(&self, end: SessionEnd, at: DateTime<Utc>) -> Option<(Self, Option<i64>)> {
        if self.state != SessionState::Started || at < self.started_at {
            return None;
        }
        let mut next = self.clone();
        Some(match end {
            SessionEnd::Cancelled => {
                next.state = SessionState::Cancelled;
                next.cancelled_at = Some(at);
                (next, None)
            }
            SessionEnd::Finished => {
                next.state = SessionState::Finished;
                next.finished_at = Some(at);
                next.minutes = Some((at - self.started_at).num_minutes());
                (next, congratulation_minutes(self.started_at, at))
            }
        })
    }
}

/// Where a launch's nudge stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NudgeState {
    Pending,
    Cancelled,
    Sent,
}

/// What settled a nudge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettledBy {
    /// A later event of the user, by its event time.
    Event,
    /// The launch's timer, by the wall clock.
    Timer,
}

/// A launch of the app and its window; keyed by user and launch event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Launch {
    pub user_id: UserId,
    pub launch_id: EventId,
    #[serde(with = "serde_time")]
    pub launched_at: DateTime<Utc>,
    /// The end of the window, event time: a start at or before it cancels the nudge.
    #[serde(with = "serde_time")]
    pub window_ends: DateTime<Utc>,
    /// When the timer decides, wall clock: `window` after the launch was first processed.
    #[serde(with = "serde_time")]
    pub due_at: DateTime<Utc>,
    pub nudge: NudgeState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub settled_by: Option<SettledBy>,
    #[serde(
        default,
        with = "serde_time::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub settled_at: Option<DateTime<Utc>>,
}

impl Launch {
    /// A pending launch processed at `now`.
    pub fn new(
        user_id: UserId,
        launch_id: EventId,
        launched_at: DateTime<Utc>,
        window: Duration,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            user_id,
            launch_id,
            launched_at,
            window_ends: launched_at + window,
            due_at: now + window,
            nudge: NudgeState::Pending,
            settled_by: None,
            settled_at: None,
        }
    }

    /// What a later event of the same user settles, by event time: `None` when it tells nothing
    /// (an event inside the window that starts no training, or one from before the launch).
    pub fn settled_by(&self, at: DateTime<Utc>, starts_training: bool) -> Option<NudgeState> {
        if at < self.launched_at {
            None
        } else if starts_training && at <= self.window_ends {
            Some(NudgeState::Cancelled)
        } else if at > self.window_ends {
            Some(NudgeState::Sent)
        } else {
            None
        }
    }

    /// The launch settled as `to` by `by` at `now` (wall clock).
    pub fn settle(&self, to: NudgeState, by: SettledBy, now: DateTime<Utc>) -> Self {
        Self {
            nudge: to,
            settled_by: Some(by),
            settled_at: Some(now),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_event_time;

    fn t(s: &str) -> DateTime<Utc> {
        parse_event_time(s).unwrap()
    }

    fn user() -> UserId {
        UserId::parse("u").unwrap()
    }

    fn session(started: &str) -> Session {
        Session::start(
            user(),
            ProgramId::parse("2352").unwrap(),
            None,
            t(started),
            EventId::parse("s1").unwrap(),
        )
    }

    fn launch(at: &str) -> Launch {
        Launch::new(
            user(),
            EventId::parse("l1").unwrap(),
            t(at),
            Duration::seconds(600),
            t("2026-12-01T09:00:00Z"),
        )
    }

    #[test]
    fn more_than_thirty_minutes_in_whole_minutes() {
        let start = t("2021-02-28T16:00:00Z");
        let at = |m: i64, s: i64| start + Duration::minutes(m) + Duration::seconds(s);
        assert_eq!(
            congratulation_minutes(start, at(30, 0)),
            None,
            "30:00 is not more"
        );
        assert_eq!(congratulation_minutes(start, at(30, 1)), Some(30));
        assert_eq!(congratulation_minutes(start, at(30, 59)), Some(30));
        assert_eq!(congratulation_minutes(start, at(36, 18)), Some(36));
        assert_eq!(
            congratulation_minutes(start, at(-5, 0)),
            None,
            "a finish before its start"
        );
    }

    #[test]
    fn a_session_ends_once() {
        let s = session("2021-02-28T16:23:25Z");
        let (finished, minutes) = s
            .end(SessionEnd::Finished, t("2021-02-28T16:59:43Z"))
            .unwrap();
        assert_eq!(minutes, Some(36));
        assert_eq!(finished.minutes, Some(36));
        assert_eq!(finished.state, SessionState::Finished);
        assert_eq!(
            finished.end(SessionEnd::Finished, t("2021-02-28T17:00:00Z")),
            None,
            "the finish delivered again"
        );
        let (cancelled, none) = s
            .end(SessionEnd::Cancelled, t("2021-02-28T16:30:00Z"))
            .unwrap();
        assert_eq!(none, None);
        assert_eq!(
            cancelled.end(SessionEnd::Finished, t("2021-02-28T17:30:00Z")),
            None,
            "cancelled, then finished"
        );
        assert_eq!(
            s.end(SessionEnd::Finished, t("2021-02-28T16:00:00Z")),
            None,
            "an end from before the start"
        );
        let (short, none) = s
            .end(SessionEnd::Finished, t("2021-02-28T16:53:25Z"))
            .unwrap();
        assert_eq!((short.minutes, none), (Some(30), None), "30:00 exactly");
    }

    #[test]
    fn a_start_within_the_window_cancels_and_one_after_it_does_not() {
        let l = launch("2021-02-28T16:00:00Z");
        assert_eq!(l.due_at, t("2026-12-01T09:10:00Z"), "wall clock + window");
        let start = |at: &str| l.settled_by(t(at), true);
        let other = |at: &str| l.settled_by(t(at), false);
        assert_eq!(start("2021-02-28T16:05:00Z"), Some(NudgeState::Cancelled));
        assert_eq!(
            start("2021-02-28T16:10:00Z"),
            Some(NudgeState::Cancelled),
            "at the edge"
        );
        assert_eq!(start("2021-02-28T16:10:01Z"), Some(NudgeState::Sent));
        assert_eq!(
            other("2021-02-28T16:03:00Z"),
            None,
            "a second launch inside tells nothing"
        );
        assert_eq!(
            other("2021-02-28T16:20:00Z"),
            Some(NudgeState::Sent),
            "two launches in a row"
        );
        assert_eq!(
            start("2021-02-28T15:59:00Z"),
            None,
            "from before the launch"
        );
        assert_eq!(
            start("2021-02-28T16:00:00Z"),
            Some(NudgeState::Cancelled),
            "a start at the launch's own second"
        );
    }
}
