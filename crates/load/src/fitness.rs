//! The fitness scenario: each client is one app user going through visits, one event per step,
//! with event times on a clock of its own that only moves forward (a user's events arrive in
//! order):
//!
//! - 40 %: launch, start within the window, finish after 29:59, 30:00, 30:01, 30:59, 36:18 or
//!   45:00 (a congratulation for the ones over 30:00, with their whole minutes);
//! - 15 %: launch, start within the window, cancel (nothing);
//! - 25 %: launch, then nothing for the window and a few seconds of wall clock (the timer
//!   sends the nudge);
//! - 20 %: launch, and the next visit's launch past the window (the later event settles the
//!   nudge at once).
//!
//! A third of the events are sent in the legacy shape; an event without a `202` is sent again
//! (up to 5 times), as the app does. Afterwards, from the local notification
//! sink: the congratulations and nudges received are exactly the ones the generated stream
//! calls for (users with an unanswered event are left out: its effect is unknown), none is
//! received twice, and no timer nudge came before its window ended; and how late the timer
//! nudges came after it (p50, p99).

use crate::flows::{Ctx, StepFuture, call};
use crate::invariants::Check;
use chrono::{DateTime, Duration as Span, Utc};
use goose::prelude::*;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The window of the stack under load: the running local stack's (`.devstack/env`), else
/// `FITNESS_NUDGE_AFTER_SECONDS` from the environment (a deployed API's), else the default.
pub fn window() -> Span {
    let local = || {
        std::fs::read_to_string(".devstack/env")
            .ok()?
            .lines()
            .find_map(|l| {
                l.strip_prefix("FITNESS_NUDGE_AFTER_SECONDS=")
                    .map(str::to_owned)
            })
    };
    let secs = local()
        .or_else(|| std::env::var("FITNESS_NUDGE_AFTER_SECONDS").ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(600);
    Span::seconds(secs)
}

/// What one user's accepted events call for.
#[derive(Debug, Clone, Default)]
struct Expected {
    /// (started_at, minutes) of each congratulation.
    congratulations: BTreeSet<(DateTime<Utc>, i64)>,
    /// launched_at of each nudge.
    nudges: BTreeSet<DateTime<Utc>>,
    /// A launch accepted whose start has not been: nudged unless its start is accepted.
    open_launch: Option<DateTime<Utc>>,
    /// An event went unanswered or failed: what it did is unknown.
    uncertain: bool,
}

#[derive(Default)]
pub struct FitnessRun {
    users: Mutex<BTreeMap<String, Expected>>,
}

impl FitnessRun {
    fn update(&self, user: &str, f: impl FnOnce(&mut Expected)) {
        if let Ok(mut users) = self.users.lock() {
            f(users.entry(user.to_owned()).or_default());
        }
    }
}

/// What an accepted event means for the user's notifications.
#[derive(Debug, Clone)]
enum Effect {
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
struct Planned {
    body: Value,
    effect: Effect,
    /// Wall clock to stay quiet for after this event.
    then_idle: Option<Duration>,
}

#[derive(Debug, Clone, Default)]
struct AppUser {
    clock: Option<DateTime<Utc>>,
    plan: VecDeque<Planned>,
    quiet_until: Option<Instant>,
    n: u64,
}

/// How often a client sends an event that got no `202`.
const SEND_ATTEMPTS: u32 = 5;

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
fn plan_visit(me: &mut AppUser, user: &str, run: &str, window: Span) {
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

pub fn step<'a>(user: &'a mut GooseUser, ctx: Arc<Ctx>) -> StepFuture<'a> {
    Box::pin(async move {
        let mut me = user
            .get_session_data::<AppUser>()
            .cloned()
            .unwrap_or_default();
        if me.quiet_until.is_some_and(|t| Instant::now() < t) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            user.set_session_data(me);
            return Ok(());
        }
        let name = format!("fit_{}_{}", ctx.run, user.weighted_users_index);
        if me.plan.is_empty() {
            plan_visit(&mut me, &name, &ctx.run, ctx.fitness_window);
        }
        let Some(next) = me.plan.pop_front() else {
            return Ok(());
        };
        // An unanswered event is sent again, as the app does (after Retry-After): the same
        // event id, or the same legacy body, so it has one effect however often it arrives.
        let mut answer = None;
        for attempt in 0..SEND_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            answer = call(
                user,
                &ctx,
                GooseMethod::Post,
                "/v1/event",
                "POST /v1/event",
                Some(&next.body),
                &[202],
            )
            .await?;
            if answer.is_some() {
                break;
            }
        }
        let run = &ctx.fitness;
        match answer {
            Some(_) => run.update(&name, |e| match next.effect {
                Effect::OpenLaunch(at) => e.open_launch = Some(at),
                Effect::Nudge(at) => {
                    e.nudges.insert(at);
                }
                Effect::Start => e.open_launch = None,
                Effect::Congratulate(at, minutes) => {
                    e.congratulations.insert((at, minutes));
                }
                Effect::None => {}
            }),
            None => run.update(&name, |e| e.uncertain = true),
        }
        me.quiet_until = next.then_idle.map(|d| Instant::now() + d);
        user.set_session_data(me);
        Ok(())
    })
}

fn parse(v: &Value) -> Option<DateTime<Utc>> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// The invariants of the run's app events (none when the run sent none).
pub async fn check(ctx: &Ctx, http: &reqwest::Client, settle: Duration) -> Vec<Check> {
    let mut users = match ctx.fitness.users.lock() {
        Ok(u) => u.clone(),
        Err(_) => return vec![],
    };
    if users.is_empty() {
        return vec![];
    }
    // A launch whose start was never sent (the run ended) is nudged by its timer.
    for e in users.values_mut() {
        if let Some(at) = e.open_launch.take() {
            e.nudges.insert(at);
        }
    }
    let Some(notify) = crate::orders::notify_url() else {
        eprintln!("load: no notification sink to read; fitness notifications not checked");
        return vec![];
    };
    let certain: BTreeMap<&String, &Expected> =
        users.iter().filter(|(_, e)| !e.uncertain).collect();
    let expected_total: usize = certain
        .values()
        .map(|e| e.congratulations.len() + e.nudges.len())
        .sum();
    let prefix = format!("fit_{}_", ctx.run);
    // Nudges come a window after their launch: wait at least a window and a bit (every timer
    // set during the attack is due by then), then until the sink holds still, within the
    // settle time.
    let started = Instant::now();
    let hold = Duration::from_secs(ctx.fitness_window.num_seconds().unsigned_abs() + 10);
    // However short the settle time, every timer set during the attack gets its window.
    let deadline = started + settle.max(hold + Duration::from_secs(30));
    let mut last_change = Instant::now();
    let mut last_len = usize::MAX;
    let received: Vec<Value> = loop {
        let all: Vec<Value> = match http.get(format!("{notify}/v1/notify")).send().await {
            Ok(r) => r.json().await.unwrap_or_default(),
            Err(_) => Vec::new(),
        };
        let ours: Vec<Value> = all
            .into_iter()
            .filter(|r| {
                r["body"]["user_id"]
                    .as_str()
                    .is_some_and(|u| u.starts_with(&prefix))
            })
            .collect();
        let of_certain = ours
            .iter()
            .filter(|r| {
                r["body"]["user_id"]
                    .as_str()
                    .is_some_and(|u| certain.contains_key(&u.to_owned()))
            })
            .count();
        if ours.len() != last_len {
            last_len = ours.len();
            last_change = Instant::now();
        }
        let timers_due = started.elapsed() > hold;
        if timers_due
            && of_certain >= expected_total
            && last_change.elapsed() > Duration::from_secs(5)
            || last_change.elapsed() > hold
            || Instant::now() > deadline
        {
            break ours;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };

    let mut got: BTreeMap<String, Expected> = BTreeMap::new();
    let mut duplicates = Vec::new();
    let mut seen = BTreeSet::new();
    let mut early = Vec::new();
    let mut lateness_ms = Vec::new();
    for r in &received {
        let b = &r["body"];
        let user = b["user_id"].as_str().unwrap_or_default().to_owned();
        let id = b["data"]["event_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        // A repeat under the same Idempotency-Key is one the service drops (a notifier that
        // crashed, or lost the answer, sends it again by design): not a second effect.
        if r["duplicate"] == true {
            continue;
        }
        if !seen.insert(id.clone()) {
            duplicates.push(format!("{user}: {} {id}", b["kind"]));
            continue;
        }
        let e = got.entry(user.clone()).or_default();
        match b["kind"].as_str() {
            Some("training_congratulation") => {
                if let (Some(at), Some(m)) = (
                    parse(&b["data"]["started_at"]),
                    b["data"]["minutes"].as_i64(),
                ) {
                    e.congratulations.insert((at, m));
                }
            }
            Some("training_nudge") => {
                if let Some(at) = parse(&b["data"]["launched_at"]) {
                    e.nudges.insert(at);
                }
                if b["data"]["settled_by"] == "timer"
                    && let (Some(due), Some(came)) =
                        (parse(&b["data"]["due_at"]), parse(&r["received_at"]))
                {
                    let late = (came - due).num_milliseconds();
                    if late < 0 {
                        early.push(format!("{user}: {late} ms before its window ended"));
                    }
                    lateness_ms.push(late);
                }
            }
            _ => {}
        }
    }
    let mut mismatches = Vec::new();
    let mut checked = 0;
    for (user, want) in &certain {
        checked += 1;
        let have = got.get(*user).cloned().unwrap_or_default();
        if have.congratulations != want.congratulations {
            mismatches.push(format!(
                "{user}: congratulations {:?}, expected {:?}",
                have.congratulations, want.congratulations
            ));
        }
        if have.nudges != want.nudges {
            mismatches.push(format!(
                "{user}: nudges for launches {:?}, expected {:?}",
                have.nudges, want.nudges
            ));
        }
    }
    lateness_ms.sort_unstable();
    let late = format!(
        "timer nudges {}: lateness after the window p50 {} ms, p99 {} ms, max {} ms",
        lateness_ms.len(),
        percentile(&lateness_ms, 0.5),
        percentile(&lateness_ms, 0.99),
        lateness_ms.last().copied().unwrap_or(0)
    );
    eprintln!("load: {late}");
    let uncertain = users.len() - certain.len();
    vec![
        Check {
            name: format!(
                "notifications = what the rules predict for the stream ({expected_total} expected; {uncertain} users with an unanswered event left out)"
            ),
            checked,
            failures: mismatches,
        },
        Check {
            name: "no fitness notification twice".into(),
            checked: received.len(),
            failures: duplicates,
        },
        Check {
            name: format!("no timer nudge before its window ended ({late})"),
            checked: lateness_ms.len(),
            failures: early,
        },
    ]
}
