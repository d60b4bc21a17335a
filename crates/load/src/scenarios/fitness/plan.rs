//! A fitness client's next visit: the events an app user sends, and what each one, accepted,
//! calls for.

use chrono::{DateTime, Duration as Span, Utc};
use serde_json::{Value, json};
use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// What an accepted event means for the user's notifications.
#[derive(Debug, Clone)]
pub(super) enum Effect {
    /// A launch whose start follows within the window (if it is accepted).
    OpenLaunch(DateTime<Utc>),
    /// A launch nothing will cancel.
    Nudge(DateTime<Utc>),
    /// The start that closes the open launch.
    Start,
    /// A finish that earns a congratulation.
    Congratulate(DateTime<Utc>, i64),
    None,
}

#[derive(Debug, Clone)]
pub(super) struct Planned {
    pub(super) body: Value,
    pub(super) effect: Effect,
    /// Wall clock to stay quiet for after this event.
    pub(super) then_idle: Option<Duration>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct AppUser {
    /// The app user this client is (its `user_id`).
    pub(super) name: Option<String>,
    clock: Option<DateTime<Utc>>,
    pub(super) plan: VecDeque<Planned>,
    pub(super) quiet_until: Option<Instant>,
    n: u64,
}

const DURATIONS: [(i64, i64); 6] = [(29, 59), (30, 0), (30, 1), (30, 59), (36, 18), (45, 0)];

fn body(
    me: &mut AppUser,
    user: &str,
    kind: &str,
    at: DateTime<Utc>,
    program: Option<&str>,
    run: &str,
) -> Value {
    me.n += 1;
    if fastrand::u32(0..3) == 0 {
        let mut b = json!({"user_id": user, "device_id": "load", "type": kind,
                           "time_stamp": at.format("%Y-%m-%d %H:%M:%S").to_string()});
        if let Some(p) = program {
            b["training_program_id"] = json!(p);
        }
        b
    } else {
        let payload = program.map_or(json!({}), |p| json!({"training_program_id": p}));
        json!({"schema_version": 2, "event_id": format!("load-{run}-{user}-{}", me.n),
               "user_id": user, "type": kind, "time": at.to_rfc3339(), "payload": payload})
    }
}

/// The next visit's events, from `at` on (whole seconds, so both shapes write the same time).
pub(super) fn plan_visit(me: &mut AppUser, user: &str, run: &str, window: Span) {
    let now = Utc::now();
    let floor = |t: DateTime<Utc>| DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t);
    let at = floor(me.clock.map_or(now, |c| c.max(now)));
    let program = format!("{}", 1000 + fastrand::u32(0..50));
    let roll = fastrand::u32(0..100);
    let launch = body(me, user, "app_launch", at, None, run);
    if roll < 55 {
        let margin = (window.num_seconds() / 2).max(1);
        let started = at + Span::seconds(fastrand::i64(0..=margin));
        me.plan.push_back(Planned {
            body: launch,
            effect: Effect::OpenLaunch(at),
            then_idle: None,
        });
        let start = body(
            me,
            user,
            "training_program_started",
            started,
            Some(&program),
            run,
        );
        me.plan.push_back(Planned {
            body: start,
            effect: Effect::Start,
            then_idle: None,
        });
        let (end, effect, ended) = if roll < 40 {
            let (m, s) = DURATIONS[fastrand::usize(..DURATIONS.len())];
            let ended = started + Span::minutes(m) + Span::seconds(s);
            let effect = if (m, s) > (30, 0) {
                Effect::Congratulate(started, m)
            } else {
                Effect::None
            };
            ("training_program_finished", effect, ended)
        } else {
            (
                "training_program_cancelled",
                Effect::None,
                started + Span::minutes(5),
            )
        };
        let end = body(me, user, end, ended, Some(&program), run);
        me.plan.push_back(Planned {
            body: end,
            effect,
            then_idle: None,
        });
        me.clock = Some(ended + Span::seconds(1));
    } else {
        // The next launch comes after this one's window, whichever way it is settled.
        let idle =
            (roll < 80).then(|| Duration::from_secs(window.num_seconds().unsigned_abs() + 3));
        me.plan.push_back(Planned {
            body: launch,
            effect: Effect::Nudge(at),
            then_idle: idle,
        });
        me.clock = Some(at + window + Span::seconds(1));
    }
}
