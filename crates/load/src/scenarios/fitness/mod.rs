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

mod checks;
pub mod demo;
mod plan;
pub mod smoke;

use crate::harness::{Check, Harness, call, notify_url};
use crate::scenario::Scenario;
use checks::{Tally, Wait};
use chrono::{DateTime, Duration as Span, Utc};
use goose::prelude::*;
use plan::{AppUser, Effect, plan_visit};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The window of the stack under load: the running local stack's (`.devstack/env`), else
/// `FITNESS_NUDGE_AFTER_SECONDS` from the environment (a deployed API's), else the default.
pub fn window() -> Span {
    let secs = crate::stack::value("FITNESS_NUDGE_AFTER_SECONDS")
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

pub struct Fitness {
    /// The nudge window of the stack under load.
    window: Span,
    /// What each app user's accepted events call for.
    users: Mutex<BTreeMap<String, Expected>>,
    /// Clients so far: each is the next app user.
    clients: AtomicUsize,
    /// Clients that found no app user to act as (fewer test users than clients).
    without_user: Mutex<Vec<String>>,
}

impl Fitness {
    pub fn new(window: Span) -> Self {
        Self {
            window,
            users: Mutex::new(BTreeMap::new()),
            clients: AtomicUsize::new(0),
            without_user: Mutex::new(Vec::new()),
        }
    }

    /// A new client's app user: one of its own on the local stack, the next test user against
    /// a deployed one; none (the client stays idle, the run fails) when the test users ran out.
    fn app_user(&self, h: &Harness) -> Option<String> {
        let n = self.clients.fetch_add(1, Ordering::Relaxed);
        match h.auth.app_user(n) {
            Ok(user) => Some(user.unwrap_or_else(|| format!("fit_{}_{n}", h.run))),
            Err(e) => {
                let mut without = self.without_user.lock().unwrap_or_else(|e| e.into_inner());
                if without.is_empty() {
                    eprintln!("load: {e}");
                }
                without.push(e);
                None
            }
        }
    }

    fn update(&self, user: &str, f: impl FnOnce(&mut Expected)) {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        f(users.entry(user.to_owned()).or_default());
    }

    async fn play(&self, user: &mut GooseUser, h: &Harness) -> TransactionResult {
        let mut me = user
            .get_session_data::<AppUser>()
            .cloned()
            .unwrap_or_default();
        if me.quiet_until.is_some_and(|t| Instant::now() < t) {
            tokio::time::sleep(Duration::from_millis(200)).await;
            user.set_session_data(me);
            return Ok(());
        }
        if me.name.is_none() {
            me.name = self.app_user(h);
            me.quiet_until = me.name.is_none().then(|| Instant::now() + IDLE_FOREVER);
        }
        let Some(name) = me.name.clone() else {
            user.set_session_data(me);
            return Ok(());
        };
        if me.plan.is_empty() {
            plan_visit(&mut me, &name, &h.run, self.window);
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
                h,
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
        match answer {
            Some(_) => self.update(&name, |e| match next.effect {
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
            None => self.update(&name, |e| e.uncertain = true),
        }
        me.quiet_until = next.then_idle.map(|d| Instant::now() + d);
        user.set_session_data(me);
        Ok(())
    }
}

/// How long a client without an app user stays idle: the rest of any run.
const IDLE_FOREVER: Duration = Duration::from_secs(365 * 24 * 3600);

/// How often a client sends an event that got no `202`.
const SEND_ATTEMPTS: u32 = 5;

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

#[async_trait::async_trait]
impl Scenario for Fitness {
    fn name(&self) -> &'static str {
        "fitness"
    }

    /// A nudge window short enough for the timers to fire (and be checked) within the run, and
    /// longer than a message's redelivery (the 60 s visibility timeout): a start held back by a
    /// retried batch must still reach the consumer before its launch's timer.
    fn stack_settings(&self) -> &'static [(&'static str, &'static str)] {
        &[("FITNESS_NUDGE_AFTER_SECONDS", "90")]
    }

    fn weight(&self) -> usize {
        2
    }

    fn step_name(&self) -> &'static str {
        "an app user's next event"
    }

    async fn step(&self, user: &mut GooseUser, h: &Harness) -> TransactionResult {
        self.play(user, h).await
    }

    fn accepted(&self) -> usize {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// The invariants of the run's app events (none when it sent none), from the local sink.
    async fn check(&self, _h: &Harness, http: &reqwest::Client, settle: Duration) -> Vec<Check> {
        let without_user = self
            .without_user
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        if !without_user.is_empty() {
            return vec![Check {
                name: "every fitness client is an app user".into(),
                checked: self.clients.load(Ordering::Relaxed),
                failures: without_user,
            }];
        }
        let users = self.expected();
        if users.is_empty() {
            return Vec::new();
        }
        let Some(notify) = notify_url() else {
            eprintln!("load: no notification sink to read; fitness notifications not checked");
            return Vec::new();
        };
        let certain: BTreeMap<&String, &Expected> =
            users.iter().filter(|(_, e)| !e.uncertain).collect();
        let expected_total: usize = certain
            .values()
            .map(|e| e.congratulations.len() + e.nudges.len())
            .sum();
        let wait = Wait {
            ours: users.keys().cloned().collect(),
            // Every timer set during the attack is due a window (and a bit) after the attack.
            hold: Duration::from_secs(self.window.num_seconds().unsigned_abs() + 10),
            settle,
        };
        let received = match wait.received(http, &notify, &certain).await {
            Ok(received) => received,
            Err(e) => {
                return vec![Check {
                    name: "fitness notifications read from the sink".into(),
                    checked: 0,
                    failures: vec![e],
                }];
            }
        };
        let tally = Tally::of(&received);
        let late = tally.lateness();
        eprintln!("load: {late}");
        let uncertain = users.len() - certain.len();
        vec![
            Check {
                name: format!(
                    "notifications = what the rules predict for the stream ({expected_total} expected; {uncertain} users with an unanswered event left out)"
                ),
                checked: certain.len(),
                failures: tally.mismatches(&certain),
            },
            Check {
                name: "no fitness notification twice".into(),
                checked: received.len(),
                failures: tally.duplicates,
            },
            Check {
                name: format!("no timer nudge before its window ended ({late})"),
                checked: tally.lateness_ms.len(),
                failures: tally.early,
            },
        ]
    }
}

impl Fitness {
    /// What each user's accepted events call for, once the run is over: a launch whose start
    /// was never sent (the run ended) is nudged by its timer.
    fn expected(&self) -> BTreeMap<String, Expected> {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner()).clone();
        for e in users.values_mut() {
            if let Some(at) = e.open_launch.take() {
                e.nudges.insert(at);
            }
        }
        users
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Auth;
    use crate::sign_in::SignedIn;

    #[tokio::test]
    async fn each_client_is_the_next_test_user_and_one_too_many_fails_the_run() {
        let signed = SignedIn {
            sub: "sub-1".into(),
            token: "t".into(),
        };
        let auth = Auth::new(None, None).unwrap().with_test_users(vec![signed]);
        let h = Harness::new("http://127.0.0.1:9".into(), auth, None);
        let fitness = Fitness::new(Span::seconds(90));
        assert_eq!(fitness.app_user(&h).as_deref(), Some("sub-1"));
        assert_eq!(fitness.app_user(&h), None);
        let checks = fitness
            .check(&h, &reqwest::Client::new(), Duration::ZERO)
            .await;
        assert_eq!(checks.len(), 1);
        assert_eq!(checks[0].name, "every fitness client is an app user");
        assert!(checks[0].failures[0].contains("1 test users signed in"));

        // On the local stack a client names its own user, one per client.
        let local = Harness::new(
            "http://127.0.0.1:9".into(),
            Auth::new(None, None).unwrap(),
            None,
        );
        let fitness = Fitness::new(Span::seconds(90));
        let first = fitness.app_user(&local).unwrap();
        let second = fitness.app_user(&local).unwrap();
        assert!(first.starts_with(&format!("fit_{}_", local.run)), "{first}");
        assert_ne!(first, second);
    }
}
