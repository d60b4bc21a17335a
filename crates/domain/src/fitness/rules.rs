//! The fitness rules, by event time.
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

use super::event::{Activity, AppEvent, ProgramId};
use chrono::{DateTime, Duration, Utc};

/// More than this, and a program earns a congratulation.
pub const CONGRATULATE_AFTER: Duration = Duration::minutes(30);
/// `FITNESS_NUDGE_AFTER_SECONDS` when unset.
pub const DEFAULT_NUDGE_AFTER_SECONDS: u64 = 600;

/// The whole minutes of a program from `started` to `finished`, when it earns a congratulation.
pub fn congratulation_minutes(started: DateTime<Utc>, finished: DateTime<Utc>) -> Option<i64> {
    let trained = finished - started;
    (trained > CONGRATULATE_AFTER).then(|| trained.num_minutes())
}

/// A program session of one user as the rules see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Session {
    Started {
        at: DateTime<Utc>,
    },
    Cancelled {
        started: DateTime<Utc>,
        at: DateTime<Utc>,
    },
    Finished {
        started: DateTime<Utc>,
        at: DateTime<Utc>,
        minutes: i64,
    },
}

/// What a program event does to the user's session of that program, and whether it earns a
/// congratulation (`Some(minutes)`).
pub fn next_session(
    current: Option<&Session>,
    activity: &Activity,
    at: DateTime<Utc>,
) -> Option<(Session, Option<i64>)> {
    match (activity, current) {
        (Activity::ProgramStarted { .. }, _) => Some((Session::Started { at }, None)),
        (Activity::ProgramCancelled { .. }, Some(Session::Started { at: started })) => Some((
            Session::Cancelled {
                started: *started,
                at,
            },
            None,
        )),
        (Activity::ProgramFinished { .. }, Some(Session::Started { at: started })) => {
            let minutes = (at - *started).num_minutes();
            let congratulate = congratulation_minutes(*started, at);
            Some((
                Session::Finished {
                    started: *started,
                    at,
                    minutes,
                },
                congratulate,
            ))
        }
        // A finish or cancel without a running session changes nothing and earns nothing.
        _ => None,
    }
}

/// The program an event is about, if any.
pub fn program_of(activity: &Activity) -> Option<&ProgramId> {
    match activity {
        Activity::ProgramStarted { program, .. }
        | Activity::ProgramCancelled { program }
        | Activity::ProgramFinished { program } => Some(program),
        _ => None,
    }
}

/// Where a launch's nudge stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NudgeState {
    Pending,
    Cancelled,
    Sent,
}

/// A launch and its window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub launched_at: DateTime<Utc>,
    pub window_ends: DateTime<Utc>,
}

impl Launch {
    pub fn new(launched_at: DateTime<Utc>, window: Duration) -> Self {
        Self {
            launched_at,
            window_ends: launched_at + window,
        }
    }

    /// What a later event of the same user settles, by event time: `None` when it tells nothing
    /// (an event inside the window that is not a start, or one from before the launch).
    pub fn settled_by(&self, event: &AppEvent) -> Option<NudgeState> {
        if event.at < self.launched_at {
            return None;
        }
        match event.activity {
            Activity::ProgramStarted { .. } if event.at <= self.window_ends => {
                Some(NudgeState::Cancelled)
            }
            _ if event.at > self.window_ends => Some(NudgeState::Sent),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fitness::AppEvent;
    use crate::time::parse_event_time;
    use serde_json::json;

    fn t(s: &str) -> DateTime<Utc> {
        parse_event_time(s).unwrap()
    }

    fn event(user: &str, kind: &str, at: &str) -> AppEvent {
        AppEvent::from_json(&json!({"user_id": user, "device_id": "d", "type": kind,
            "training_program_id": "2352", "time_stamp": at}))
        .unwrap()
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
    fn a_finish_needs_a_running_session() {
        let finish = event("u", "training_program_finished", "2021-02-28 17:00:00").activity;
        let at = t("2021-02-28T17:00:00Z");
        assert_eq!(
            next_session(None, &finish, at),
            None,
            "finish without start"
        );
        let cancelled = Session::Cancelled {
            started: t("2021-02-28T16:00:00Z"),
            at: t("2021-02-28T16:10:00Z"),
        };
        assert_eq!(
            next_session(Some(&cancelled), &finish, at),
            None,
            "cancelled, then finished"
        );
        let started = Session::Started {
            at: t("2021-02-28T16:23:25Z"),
        };
        let (s, minutes) =
            next_session(Some(&started), &finish, t("2021-02-28T16:59:43Z")).unwrap();
        assert_eq!(minutes, Some(36));
        assert!(matches!(s, Session::Finished { minutes: 36, .. }));
    }

    #[test]
    fn a_start_within_the_window_cancels_and_one_after_it_does_not() {
        let launch = Launch::new(t("2021-02-28T16:00:00Z"), Duration::seconds(600));
        let start = |at: &str| event("u", "training_program_started", at);
        assert_eq!(
            launch.settled_by(&start("2021-02-28 16:05:00")),
            Some(NudgeState::Cancelled)
        );
        assert_eq!(
            launch.settled_by(&start("2021-02-28 16:10:00")),
            Some(NudgeState::Cancelled),
            "at the edge"
        );
        assert_eq!(
            launch.settled_by(&start("2021-02-28 16:10:01")),
            Some(NudgeState::Sent)
        );
        assert_eq!(
            launch.settled_by(&event("u", "app_launch", "2021-02-28 16:03:00")),
            None,
            "a second launch inside tells nothing"
        );
        assert_eq!(
            launch.settled_by(&event("u", "app_launch", "2021-02-28 16:20:00")),
            Some(NudgeState::Sent),
            "two launches in a row"
        );
        assert_eq!(
            launch.settled_by(&start("2021-02-28 15:59:00")),
            None,
            "from before the launch"
        );
    }

    /// The SPEC's sample stream, folded as a consumer would (each user's events in order): one
    /// congratulation for foo1 (36 minutes) and one nudge for foo2, whatever day it is replayed.
    #[test]
    fn the_sample_stream_gives_exactly_its_two_notifications() {
        let stream = [
            event("foo2", "app_launch", "2021-02-28 16:22:52"),
            event("foo1", "training_program_started", "2021-02-28 16:23:25"),
            event("foo2", "training_program_started", "2021-02-28 16:52:00"),
            event("foo2", "training_program_cancelled", "2021-02-28 16:54:21"),
            event("foo1", "training_program_finished", "2021-02-28 16:59:43"),
        ];
        let mut sessions: std::collections::BTreeMap<(String, String), Session> =
            Default::default();
        let mut launches: Vec<(String, Launch, NudgeState)> = Vec::new();
        let mut told = Vec::new();
        for e in &stream {
            for (user, launch, state) in launches.iter_mut() {
                if *user == e.user_id.as_str()
                    && *state == NudgeState::Pending
                    && let Some(s) = launch.settled_by(e)
                {
                    *state = s;
                    if s == NudgeState::Sent {
                        told.push(format!("nudge {user}"));
                    }
                }
            }
            if e.activity == Activity::AppLaunch {
                launches.push((
                    e.user_id.to_string(),
                    Launch::new(e.at, Duration::seconds(600)),
                    NudgeState::Pending,
                ));
            }
            if let Some(program) = program_of(&e.activity) {
                let key = (e.user_id.to_string(), program.as_str().to_owned());
                if let Some((next, minutes)) = next_session(sessions.get(&key), &e.activity, e.at) {
                    if let Some(m) = minutes {
                        told.push(format!("congratulate {} {m}", e.user_id));
                    }
                    sessions.insert(key, next);
                }
            }
        }
        assert_eq!(told, vec!["nudge foo2", "congratulate foo1 36"]);
        assert!(
            launches.iter().all(|(_, _, s)| *s != NudgeState::Pending),
            "no timer left to fire"
        );
    }
}
