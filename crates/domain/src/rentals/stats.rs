//! User stats and reward points: a projection of completed returns.

use crate::events::{DomainEvent, EventBody};
use crate::ids::UserId;
use crate::time::serde_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Points for every completed return.
pub const POINTS_PER_RETURN: u64 = 10;
/// Extra points when the container came back before its rental expired.
pub const ON_TIME_BONUS_POINTS: u64 = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserStats {
    pub user_id: UserId,
    pub returns_count: u64,
    pub on_time_returns: u64,
    pub reward_points: u64,
    #[serde(default, with = "serde_time::option")]
    pub last_return_at: Option<DateTime<Utc>>,
}

impl UserStats {
    pub fn empty(user_id: UserId) -> Self {
        Self {
            user_id,
            returns_count: 0,
            on_time_returns: 0,
            reward_points: 0,
            last_return_at: None,
        }
    }

    pub fn add(&mut self, d: &StatsDelta) {
        self.returns_count += d.returns;
        self.on_time_returns += d.on_time_returns;
        self.reward_points += d.reward_points;
        self.last_return_at = self.last_return_at.max(Some(d.returned_at));
    }
}

/// What one event adds to a user's stats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatsDelta {
    pub user_id: UserId,
    pub returns: u64,
    pub on_time_returns: u64,
    pub reward_points: u64,
    pub returned_at: DateTime<Utc>,
}

/// The stats change an event causes, if any.
pub fn stats_delta(event: &DomainEvent) -> Option<StatsDelta> {
    match &event.body {
        EventBody::RentalCompleted(e) => {
            let on_time = e.on_time();
            Some(StatsDelta {
                user_id: e.user_id.clone(),
                returns: 1,
                on_time_returns: u64::from(on_time),
                reward_points: POINTS_PER_RETURN + if on_time { ON_TIME_BONUS_POINTS } else { 0 },
                returned_at: e.returned_at,
            })
        }
        EventBody::FormulaSubmitted(_) | EventBody::TaskSubmitted(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::RentalCompleted;
    use crate::ids::{AssetId, LocationId, RentalId, ReturnId};
    use crate::memory::InMemoryStatsStore;
    use crate::ports::StatsStore;
    use crate::rentals::AssetType;
    use crate::time::parse_event_time;

    fn completed(returned: &str, expires: &str) -> DomainEvent {
        DomainEvent::rental_completed(RentalCompleted {
            return_id: ReturnId::parse(format!("ret_{returned}")).unwrap(),
            rental_id: RentalId::parse("r1").unwrap(),
            user_id: UserId::parse("u1").unwrap(),
            asset_id: AssetId::parse("a1").unwrap(),
            asset_type: AssetType::Mug,
            returned_at: parse_event_time(returned).unwrap(),
            location_id: LocationId::parse("loc").unwrap(),
            expires_at: parse_event_time(expires).unwrap(),
        })
    }

    #[test]
    fn on_time_returns_earn_the_bonus() {
        let d = stats_delta(&completed("2025-02-10T00:00:00Z", "2025-02-11T00:00:00Z")).unwrap();
        assert_eq!((d.returns, d.on_time_returns, d.reward_points), (1, 1, 15));
        let d = stats_delta(&completed("2025-02-12T00:00:00Z", "2025-02-11T00:00:00Z")).unwrap();
        assert_eq!((d.returns, d.on_time_returns, d.reward_points), (1, 0, 10));
    }

    #[tokio::test]
    async fn applying_the_same_event_twice_counts_once() {
        let store = InMemoryStatsStore::default();
        let e1 = completed("2025-02-10T00:00:00Z", "2025-02-11T00:00:00Z");
        let e2 = completed("2025-02-10T05:00:00Z", "2025-02-11T00:00:00Z");
        for e in [&e1, &e1, &e2] {
            store
                .apply(&e.event_id, &stats_delta(e).unwrap())
                .await
                .unwrap();
        }
        let s = store
            .get(&UserId::parse("u1").unwrap())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            (s.returns_count, s.on_time_returns, s.reward_points),
            (2, 2, 30)
        );
        assert_eq!(s.last_return_at, parse_event_time("2025-02-10T05:00:00Z"));
    }
}
