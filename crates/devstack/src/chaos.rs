//! Failures of the machinery around the functions, on demand, for the chaos suite
//! (`make chaos`): what AWS does now and then and an emulator never does.
//!
//! `DEVSTACK_CHAOS` (e.g. `duplicate=0.3,kill=0.05`) switches them on for `devstack serve`:
//! - `duplicate`: the share of SQS and stream batches delivered twice, both at once (SQS's
//!   at-least-once delivery, and a second poller holding the same records);
//! - `kill`: the share of invocations of a consumer (every function but api-handler) during
//!   which one of the function's instances is killed, a few milliseconds in: a crash in the
//!   middle of a batch, and for the outbox relay between its publishing and its checkpoint;
//! - `notify_unavailable`: the share of notifications the notification service answers 503;
//! - `notify_timeout`: the share it takes, records, and answers only after the notifier's
//!   client has given up (the response lost: the notifier retries with the same key).
//!
//! A deploy during a run is `touch target/debug/<function>`: the pool restarts that
//! function's instances (see `runtime::Pool`). What was injected is counted and answered at
//! the notification sink's `GET /chaos`.

use crate::Result;
use serde::Serialize;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub const CHAOS_VAR: &str = "DEVSTACK_CHAOS";

/// How long a `notify_timeout` answer is held: past the notifier's 3 s client timeout.
pub const NOTIFY_HOLD: Duration = Duration::from_secs(4);

#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Shares {
    pub duplicate: f64,
    pub kill: f64,
    pub notify_unavailable: f64,
    pub notify_timeout: f64,
}

impl Shares {
    /// Reads `duplicate=0.3,kill=0.05` (any subset, any order).
    pub fn parse(spec: &str) -> Result<Self> {
        let names = ["duplicate", "kill", "notify_unavailable", "notify_timeout"];
        let mut s = Shares::default();
        for (name, share) in crate::faults::parse_shares(CHAOS_VAR, spec, &names)? {
            match name {
                "duplicate" => s.duplicate = share,
                "kill" => s.kill = share,
                "notify_unavailable" => s.notify_unavailable = share,
                _ => s.notify_timeout = share,
            }
        }
        Ok(s)
    }
}

/// What was injected so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChaosCounts {
    pub duplicated_batches: u64,
    pub killed_instances: u64,
    pub notify_unavailable: u64,
    pub notify_timeouts: u64,
}

#[derive(Default)]
pub struct Chaos {
    shares: Shares,
    duplicated_batches: AtomicU64,
    killed_instances: AtomicU64,
    notify_unavailable: AtomicU64,
    notify_timeouts: AtomicU64,
}

/// The process's chaos, read from `DEVSTACK_CHAOS` once (none when unset; a malformed value is
/// reported by [`check_env`] at start-up).
pub fn chaos() -> &'static Chaos {
    static CHAOS: OnceLock<Chaos> = OnceLock::new();
    CHAOS.get_or_init(|| Chaos {
        shares: std::env::var(CHAOS_VAR)
            .ok()
            .and_then(|s| Shares::parse(&s).ok())
            .unwrap_or_default(),
        ..Chaos::default()
    })
}

/// The shares `DEVSTACK_CHAOS` asks for, or why it is malformed.
pub fn check_env() -> Result<Shares> {
    match std::env::var(CHAOS_VAR) {
        Ok(spec) => Shares::parse(&spec),
        Err(_) => Ok(Shares::default()),
    }
}

impl Chaos {
    pub fn shares(&self) -> Shares {
        self.shares
    }

    fn roll(share: f64) -> bool {
        share > 0.0 && fastrand::f64() < share
    }

    /// Whether to deliver this batch twice (counted when yes).
    pub fn duplicate(&self) -> bool {
        let yes = Self::roll(self.shares.duplicate);
        if yes {
            self.duplicated_batches.fetch_add(1, Ordering::Relaxed);
        }
        yes
    }

    /// For an invocation of `function`: after how long to kill one of its instances, if at all.
    pub fn kill_after(&self, function: &str) -> Option<Duration> {
        (function != "api-handler" && Self::roll(self.shares.kill))
            .then(|| Duration::from_millis(fastrand::u64(1..60)))
    }

    pub fn killed(&self) {
        self.killed_instances.fetch_add(1, Ordering::Relaxed);
    }

    /// How the notification service misbehaves for this notification.
    pub fn notify_fault(&self) -> Option<NotifyFault> {
        if Self::roll(self.shares.notify_unavailable) {
            self.notify_unavailable.fetch_add(1, Ordering::Relaxed);
            Some(NotifyFault::Unavailable)
        } else if Self::roll(self.shares.notify_timeout) {
            self.notify_timeouts.fetch_add(1, Ordering::Relaxed);
            Some(NotifyFault::Timeout)
        } else {
            None
        }
    }

    pub fn counts(&self) -> ChaosCounts {
        ChaosCounts {
            duplicated_batches: self.duplicated_batches.load(Ordering::Relaxed),
            killed_instances: self.killed_instances.load(Ordering::Relaxed),
            notify_unavailable: self.notify_unavailable.load(Ordering::Relaxed),
            notify_timeouts: self.notify_timeouts.load(Ordering::Relaxed),
        }
    }
}

pub enum NotifyFault {
    Unavailable,
    Timeout,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_parse_and_refuse_what_is_not_a_share() {
        let s = Shares::parse("duplicate=0.3, kill=0.05").unwrap();
        assert_eq!((s.duplicate, s.kill, s.notify_timeout), (0.3, 0.05, 0.0));
        assert!(Shares::parse("duplicate=2").is_err());
        assert!(Shares::parse("explode=0.1").is_err());
        assert!(Shares::parse("kill").is_err());
        assert_eq!(Shares::parse("").unwrap(), Shares::default());
    }
}
