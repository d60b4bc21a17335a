//! The open model: each user sends at a set rate whatever the answers take, so that latency is
//! measured at an offered load (500 users × 1 request/s = 500 requests/s offered), not at what a
//! closed loop of users waiting on each answer happens to reach.
//!
//! A user whose answer took longer than its interval sends the next request at once and keeps
//! its schedule from there (no burst to catch up, as `hey -q` does); such late starts are counted,
//! so a report can say when the rate offered was not held.

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

pub struct Pacer {
    interval: Duration,
    /// When each user (by goose's index) sends next.
    due: Mutex<HashMap<usize, Instant>>,
    late: AtomicU64,
}

impl Pacer {
    /// Every user at `per_user` requests a second; `None` for a rate that is not a positive,
    /// finite number.
    pub fn new(per_user: f64) -> Option<Self> {
        let interval = Duration::try_from_secs_f64(1.0 / per_user).ok()?;
        (per_user.is_finite() && per_user > 0.0 && !interval.is_zero()).then(|| Self {
            interval,
            due: Mutex::new(HashMap::new()),
            late: AtomicU64::new(0),
        })
    }

    /// When `user` may send its next request, given the time `now`; schedules the one after.
    /// A user's first request comes at a random point of its first interval, so that users
    /// started together do not send together.
    pub fn next_at(&self, user: usize, now: Instant) -> Instant {
        let mut due = self.due.lock().unwrap_or_else(|e| e.into_inner());
        let at = match due.get(&user) {
            Some(&at) if at >= now => at,
            Some(_) => {
                self.late.fetch_add(1, Ordering::Relaxed);
                now
            }
            None => now + self.interval.mul_f64(fastrand::f64()),
        };
        due.insert(user, at + self.interval);
        at
    }

    /// Waits until `user` may send.
    pub async fn wait(&self, user: usize) {
        let at = self.next_at(user, Instant::now());
        tokio::time::sleep_until(at.into()).await;
    }

    /// Requests that started late because the user's previous answer outlasted its interval.
    pub fn late(&self) -> u64 {
        self.late.load(Ordering::Relaxed)
    }

    pub fn per_user(&self) -> f64 {
        1.0 / self.interval.as_secs_f64()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_user_keeps_its_own_schedule_at_the_rate() {
        let pacer = Pacer::new(2.0).unwrap();
        let t0 = Instant::now();
        let first = pacer.next_at(7, t0);
        assert!(first >= t0 && first < t0 + Duration::from_millis(500));
        let second = pacer.next_at(7, t0);
        assert_eq!(second - first, Duration::from_millis(500));
        // Another user has a schedule of its own.
        assert!(pacer.next_at(8, t0) < t0 + Duration::from_millis(500));
        assert_eq!(pacer.late(), 0);
    }

    #[test]
    fn a_user_behind_its_schedule_sends_at_once_without_a_burst_and_is_counted_late() {
        let pacer = Pacer::new(1.0).unwrap();
        let t0 = Instant::now();
        pacer.next_at(1, t0);
        let later = t0 + Duration::from_secs(5);
        assert_eq!(pacer.next_at(1, later), later);
        assert_eq!(pacer.next_at(1, later), later + Duration::from_secs(1));
        assert_eq!(pacer.late(), 1);
    }

    #[test]
    fn rates_that_are_not_positive_and_finite_are_refused() {
        for rate in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert!(Pacer::new(rate).is_none(), "{rate}");
        }
        assert_eq!(Pacer::new(0.2).unwrap().per_user(), 0.2);
    }
}
