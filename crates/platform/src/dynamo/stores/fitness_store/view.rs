//! The fitness flow's reads: a user's activity (sessions, launches, unknown-type counts) and
//! every unknown type's count.

use super::*;

#[async_trait]
impl FitnessView for DynamoFitnessStore {
    #[instrument(skip(self))]
    async fn activity(&self, user: &UserId) -> Result<UserActivity, PortError> {
        let sessions_items = self
            .query(user.as_str(), "session#", true, ACTIVITY_ITEMS)
            .await?;
        let launch_items = self
            .query(user.as_str(), "launch#", true, ACTIVITY_ITEMS)
            .await?;
        let mut sessions: Vec<Session> = sessions_items
            .into_iter()
            .map(|i| self.decode(i))
            .collect::<Result<_, _>>()?;
        sessions.sort_by_key(|x| x.started_at);
        let mut launches: Vec<Launch> = launch_items
            .into_iter()
            .map(|i| self.decode(i))
            .collect::<Result<_, _>>()?;
        launches.sort_by_key(|x| x.launched_at);
        let unknown_event_types = self.counts(user.as_str(), USER_TYPE_PREFIX).await?;
        Ok(UserActivity {
            sessions,
            launches,
            unknown_event_types,
        })
    }

    #[instrument(skip(self))]
    async fn unknown_type_counts(&self) -> Result<BTreeMap<String, u64>, PortError> {
        self.counts(ALL_USERS, ALL_TYPE_PREFIX).await
    }
}
