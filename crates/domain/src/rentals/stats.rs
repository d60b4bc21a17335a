//! User stats and reward points: a projection of completed returns.

use super::events::RentalCompleted;
use super::ports::StatsProjection;
use crate::PortError;
use crate::events::{Delivery, DomainEvent, EventHandler};
use crate::ids::UserId;
use crate::time::serde_time;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tracing::info;

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

impl From<&RentalCompleted> for StatsDelta {
    fn from(e: &RentalCompleted) -> Self {
        let on_time = e.on_time();
        Self {
            user_id: e.user_id.clone(),
            returns: 1,
            on_time_returns: u64::from(on_time),
            reward_points: POINTS_PER_RETURN + if on_time { ON_TIME_BONUS_POINTS } else { 0 },
            returned_at: e.returned_at,
        }
    }
}

/// Projects completed returns into the user's stats, once per event.
#[derive(Clone)]
pub struct ProjectStats(pub Arc<dyn StatsProjection>);

#[async_trait]
impl EventHandler<RentalCompleted> for ProjectStats {
    async fn handle(
        &self,
        event: RentalCompleted,
        envelope: &DomainEvent,
        _: Delivery,
    ) -> Result<(), PortError> {
        let delta = StatsDelta::from(&event);
        let applied = self.0.apply(&envelope.event_id, &delta).await?;
        info!(applied, user_id = %delta.user_id, "user stats projected");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rentals::events::tests::completed;
    use crate::rentals::memory::InMemoryStatsStore;
    use crate::rentals::ports::StatsView;
    use crate::time::parse_event_time;

    const FIRST: Delivery = Delivery {
        receive_count: 1,
        max_receives: 3,
    };

    #[test]
    fn on_time_returns_earn_the_bonus() {
        let d = StatsDelta::from(&completed("2025-02-10T00:00:00Z", "2025-02-11T00:00:00Z"));
        assert_eq!((d.returns, d.on_time_returns, d.reward_points), (1, 1, 15));
        let d = StatsDelta::from(&completed("2025-02-12T00:00:00Z", "2025-02-11T00:00:00Z"));
        assert_eq!((d.returns, d.on_time_returns, d.reward_points), (1, 0, 10));
    }

    #[tokio::test]
    async fn handling_the_same_event_twice_counts_once() {
        let store = Arc::new(InMemoryStatsStore::default());
        let handler = ProjectStats(store.clone());
        let e1 = completed("2025-02-10T00:00:00Z", "2025-02-11T00:00:00Z");
        let e2 = completed("2025-02-10T05:00:00Z", "2025-02-11T00:00:00Z");
        for e in [&e1, &e1, &e2] {
            let envelope = e.outbound().unwrap().event;
            handler.handle(e.clone(), &envelope, FIRST).await.unwrap();
        }
        let s = store
            .get(&UserId::parse("tpg_u0001").unwrap())
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
