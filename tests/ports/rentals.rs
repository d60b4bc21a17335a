//! The rental flow's ports, run against the in-memory adapters and the DynamoDB Local ones:
//! `RentalStore` (reads of users, assets, a user's rentals and returns; a pending return recorded
//! once and never over a decision; a decision committed with its rental and event all or nothing,
//! refused as `ReturnAlreadyDecided` or `RentalTaken`), and the stats projection (`StatsProjection`
//! applying each event once, read back through `StatsView`).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use domain::events::DomainEvent;
use domain::ids::{EventId, UserId};
use domain::rentals::{AssetId, LocationId, RentalId, ReturnId};
use domain::rentals::memory::{InMemoryRentalStore, InMemoryStatsStore};
use domain::rentals::ports::{
    CommitResult, Completion, RentalStore, ReturnCommit, StatsProjection, StatsView,
};
use domain::rentals::stats::{StatsDelta, UserStats};
use domain::rentals::{
    Asset, AssetType, RejectionReason, Rental, RentalCompleted, RentalStatus, ReturnRecord,
    ReturnScan, ReturnState, User,
};
use domain::time::parse_event_time;
use integration_tests::{DynamoTables};
use crate::flows::rentals::qr;
use platform::dynamo::Item;
use platform::dynamo::rental_store::{DynamoRentalStore, RentalTables};
use platform::dynamo::stats_store::{DynamoStatsProjection, DynamoStatsView};

/// The rental flow's ports on one adapter, with what a contract needs besides them: a way to
/// store reference data (users, assets, rentals come from elsewhere) and to read the outbox.
#[async_trait]
trait RentalPorts: Send + Sync {
    fn store(&self) -> &dyn RentalStore;
    fn projection(&self) -> &dyn StatsProjection;
    fn view(&self) -> &dyn StatsView;
    async fn seed(&self, users: &[User], assets: &[Asset], rentals: &[Rental]);
    /// The events written with state changes, ordered by id.
    async fn outbox(&self) -> Vec<DomainEvent>;
}

#[derive(Default)]
struct Memory {
    store: InMemoryRentalStore,
    stats: InMemoryStatsStore,
}

#[async_trait]
impl RentalPorts for Memory {
    fn store(&self) -> &dyn RentalStore {
        &self.store
    }
    fn projection(&self) -> &dyn StatsProjection {
        &self.stats
    }
    fn view(&self) -> &dyn StatsView {
        &self.stats
    }
    async fn seed(&self, users: &[User], assets: &[Asset], rentals: &[Rental]) {
        users.iter().for_each(|u| self.store.put_user(u.clone()));
        assets.iter().for_each(|a| self.store.put_asset(a.clone()));
        rentals
            .iter()
            .for_each(|r| self.store.put_rental(r.clone()));
    }
    async fn outbox(&self) -> Vec<DomainEvent> {
        let mut events = self.store.outbox();
        events.sort_by(|a, b| a.event_id.cmp(&b.event_id));
        events
    }
}

struct Dynamo {
    tables: DynamoTables,
    store: DynamoRentalStore,
    projection: DynamoStatsProjection,
    view: DynamoStatsView,
}

impl Dynamo {
    async fn put(&self, logical: &str, item: Item) {
        self.tables
            .client
            .put_item()
            .table_name(self.tables.table(logical))
            .set_item(Some(item))
            .send()
            .await
            .unwrap();
    }
}

#[async_trait]
impl RentalPorts for Dynamo {
    fn store(&self) -> &dyn RentalStore {
        &self.store
    }
    fn projection(&self) -> &dyn StatsProjection {
        &self.projection
    }
    fn view(&self) -> &dyn StatsView {
        &self.view
    }
    async fn seed(&self, users: &[User], assets: &[Asset], rentals: &[Rental]) {
        for u in users {
            self.put("users", serde_dynamo::to_item(u).unwrap()).await;
        }
        for a in assets {
            self.put("assets", serde_dynamo::to_item(a).unwrap()).await;
        }
        for r in rentals {
            self.put("rentals", serde_dynamo::to_item(r).unwrap()).await;
        }
    }
    async fn outbox(&self) -> Vec<DomainEvent> {
        self.tables
            .outbox()
            .await
            .into_iter()
            .map(|r| r.1)
            .collect()
    }
}

async fn in_memory() -> Memory {
    Memory::default()
}

async fn dynamodb_local() -> Dynamo {
    let tables = DynamoTables::start(&[
        "users",
        "assets",
        "rentals",
        "returns",
        "outbox",
        "user-stats",
        "processed",
    ])
    .await;
    let client = tables.client.clone();
    let store = DynamoRentalStore::new(
        client.clone(),
        RentalTables {
            users: tables.table("users"),
            assets: tables.table("assets"),
            rentals: tables.table("rentals"),
            returns: tables.table("returns"),
            outbox: tables.table("outbox"),
        },
    );
    let projection = DynamoStatsProjection::new(
        client.clone(),
        tables.table("user-stats"),
        tables.table("processed"),
    );
    let view = DynamoStatsView::new(client, tables.table("user-stats"));
    Dynamo {
        tables,
        store,
        projection,
        view,
    }
}

integration_tests::contract_tests!(in_memory: in_memory, dynamodb_local: dynamodb_local;
    what_was_never_stored_reads_as_absent,
    stored_users_assets_and_rentals_read_back_and_a_user_has_only_their_own_rentals,
    a_pending_return_is_recorded_once_and_never_over_a_decision,
    a_completing_decision_writes_its_record_rental_and_event_together,
    a_rejecting_decision_writes_its_record_and_no_event,
    a_second_decision_of_the_same_return_is_refused_and_writes_nothing,
    a_decision_on_a_rental_no_longer_in_progress_is_refused_and_writes_nothing,
    of_two_returns_racing_for_one_rental_exactly_one_completes_it,
    each_event_is_projected_into_the_users_stats_once,
);

const USER: &str = "pc_u1";
const OTHER_USER: &str = "pc_u2";
const CLAMSHELL: &str = "pc_a1";
const MUG: &str = "pc_a2";

fn at(s: &str) -> DateTime<Utc> {
    parse_event_time(s).unwrap()
}

fn user(id: &str) -> User {
    User {
        user_id: UserId::parse(id).unwrap(),
        name: format!("name of {id}"),
    }
}

fn asset(id: &str, asset_type: AssetType) -> Asset {
    Asset {
        asset_id: AssetId::parse(id).unwrap(),
        asset_type,
    }
}

fn rental(id: &str, user: &str, created: &str, status: RentalStatus) -> Rental {
    Rental {
        rental_id: RentalId::parse(id).unwrap(),
        user_id: UserId::parse(user).unwrap(),
        asset_id: AssetId::parse(CLAMSHELL).unwrap(),
        status,
        created_at: at(created),
        expires_at: at(created) + chrono::Duration::days(7),
        eligible_asset_types: vec![AssetType::Clamshell, AssetType::Mug],
        created_at_location_id: Some(LocationId::parse("pc-shop").unwrap()),
        returned_at: None,
        returned_at_location_id: None,
    }
}

/// The reference data of every rule: two users, two assets, and rentals of both users, one of
/// them long completed.
async fn seeded(p: &dyn RentalPorts) -> Vec<Rental> {
    let rentals = vec![
        rental(
            "pc_r1",
            USER,
            "2025-02-01T10:00:00Z",
            RentalStatus::InProgress,
        ),
        rental(
            "pc_r2",
            USER,
            "2025-02-03T10:00:00Z",
            RentalStatus::InProgress,
        ),
        rental(
            "pc_r3",
            USER,
            "2025-01-01T10:00:00Z",
            RentalStatus::Completed,
        ),
        rental(
            "pc_r4",
            OTHER_USER,
            "2025-02-02T10:00:00Z",
            RentalStatus::InProgress,
        ),
    ];
    p.seed(
        &[user(USER), user(OTHER_USER)],
        &[
            asset(CLAMSHELL, AssetType::Clamshell),
            asset(MUG, AssetType::Mug),
        ],
        &rentals,
    )
    .await;
    rentals
}

/// A scan of `asset` by [`USER`] at `when`: each `when` is another return.
fn scan(when: &str, asset: &str) -> ReturnScan {
    ReturnScan {
        occurred_at: at(when),
        location_id: LocationId::parse("pc-bin").unwrap(),
        user_qr_data: qr(USER),
        asset_qr_data: qr(asset),
        // Recorded with the return, so both stores keep it.
        bin: Some("pc-bin-key".into()),
    }
}

/// `scan`'s decision to complete `rental` (as the domain decides it: the rental completed at the
/// scan's time and place, and its `RentalCompleted`).
fn completing(scan: &ReturnScan, rental: &Rental) -> ReturnCommit {
    let mut record = ReturnRecord::pending(scan.clone());
    record.user_id = Some(rental.user_id.clone());
    record.asset_id = Some(AssetId::parse(CLAMSHELL).unwrap());
    record.state = ReturnState::Completed {
        rental_id: rental.rental_id.clone(),
    };
    let event = RentalCompleted {
        return_id: record.return_id.clone(),
        rental_id: rental.rental_id.clone(),
        user_id: rental.user_id.clone(),
        asset_id: AssetId::parse(CLAMSHELL).unwrap(),
        asset_type: AssetType::Clamshell,
        returned_at: scan.occurred_at,
        location_id: scan.location_id.clone(),
        expires_at: rental.expires_at,
    }
    .outbound()
    .unwrap();
    ReturnCommit {
        record,
        completion: Some(Completion {
            rental: rental.completed(scan.occurred_at, &scan.location_id),
            event,
        }),
    }
}

fn rejecting(scan: &ReturnScan) -> ReturnCommit {
    let mut record = ReturnRecord::pending(scan.clone());
    record.state = ReturnState::Rejected {
        reason: RejectionReason::NoEligibleRental,
    };
    ReturnCommit {
        record,
        completion: None,
    }
}

/// `user`'s rentals in the domain's order (the port promises no order).
async fn rentals_of(p: &dyn RentalPorts, user: &str) -> Vec<Rental> {
    let mut rentals = p
        .store()
        .rentals_of(&UserId::parse(user).unwrap())
        .await
        .unwrap();
    rentals.sort_by(Rental::oldest_first);
    rentals
}

async fn rental_now(p: &dyn RentalPorts, id: &str) -> Rental {
    rentals_of(p, USER)
        .await
        .into_iter()
        .find(|r| r.rental_id.as_str() == id)
        .unwrap()
}

async fn find_return(p: &dyn RentalPorts, id: &ReturnId) -> Option<ReturnRecord> {
    p.store().find_return(id).await.unwrap()
}

async fn what_was_never_stored_reads_as_absent(p: &dyn RentalPorts) {
    seeded(p).await;
    let store = p.store();
    let nobody = UserId::parse("pc_nobody").unwrap();
    assert_eq!(store.find_user(&nobody).await.unwrap(), None);
    assert_eq!(
        store
            .find_asset(&AssetId::parse("pc_nothing").unwrap())
            .await
            .unwrap(),
        None
    );
    assert_eq!(store.rentals_of(&nobody).await.unwrap(), vec![]);
    let never = scan("2025-02-04T10:00:00Z", CLAMSHELL).return_id();
    assert_eq!(find_return(p, &never).await, None);
    assert_eq!(
        p.view().get(&UserId::parse(USER).unwrap()).await.unwrap(),
        None,
        "no stats before the user's first event"
    );
    assert_eq!(p.outbox().await, vec![]);
}

async fn stored_users_assets_and_rentals_read_back_and_a_user_has_only_their_own_rentals(
    p: &dyn RentalPorts,
) {
    let mut rentals = seeded(p).await;
    let store = p.store();
    assert_eq!(
        store
            .find_user(&UserId::parse(USER).unwrap())
            .await
            .unwrap(),
        Some(user(USER))
    );
    assert_eq!(
        store
            .find_asset(&AssetId::parse(MUG).unwrap())
            .await
            .unwrap(),
        Some(asset(MUG, AssetType::Mug))
    );
    let others = rentals.split_off(3);
    rentals.sort_by(Rental::oldest_first);
    assert_eq!(
        rentals_of(p, USER).await,
        rentals,
        "every rental of the user, whatever its status, and no other user's"
    );
    assert_eq!(rentals_of(p, OTHER_USER).await, others);
}

async fn a_pending_return_is_recorded_once_and_never_over_a_decision(p: &dyn RentalPorts) {
    seeded(p).await;
    let store = p.store();
    let first = ReturnRecord::pending(scan("2025-02-04T10:00:00Z", CLAMSHELL));
    assert!(store.record_pending(&first).await.unwrap());
    assert_eq!(find_return(p, &first.return_id).await, Some(first.clone()));

    let mut again = first.clone();
    again.user_id = Some(UserId::parse(USER).unwrap());
    assert!(
        !store.record_pending(&again).await.unwrap(),
        "the return is known"
    );
    assert_eq!(
        find_return(p, &first.return_id).await,
        Some(first),
        "unchanged"
    );

    let decided = rejecting(&scan("2025-02-05T10:00:00Z", CLAMSHELL));
    assert_eq!(
        store.commit_return(&decided).await.unwrap(),
        CommitResult::Committed
    );
    assert!(
        !store
            .record_pending(&ReturnRecord::pending(decided.record.scan.clone()))
            .await
            .unwrap()
    );
    assert_eq!(
        find_return(p, &decided.record.return_id).await,
        Some(decided.record),
        "a decision is never overwritten"
    );
}

async fn a_completing_decision_writes_its_record_rental_and_event_together(p: &dyn RentalPorts) {
    let rentals = seeded(p).await;
    let scan = scan("2025-02-04T10:00:00Z", CLAMSHELL);
    // Accepted first, then decided: the decision replaces the pending record.
    assert!(
        p.store()
            .record_pending(&ReturnRecord::pending(scan.clone()))
            .await
            .unwrap()
    );
    let commit = completing(&scan, &rentals[0]);
    assert_eq!(
        p.store().commit_return(&commit).await.unwrap(),
        CommitResult::Committed
    );
    let completion = commit.completion.clone().unwrap();
    assert_eq!(
        find_return(p, &commit.record.return_id).await,
        Some(commit.record)
    );
    assert_eq!(rental_now(p, "pc_r1").await, completion.rental);
    assert_eq!(rental_now(p, "pc_r1").await.status, RentalStatus::Completed);
    assert_eq!(
        rental_now(p, "pc_r2").await,
        rentals[1],
        "the user's other rental is untouched"
    );
    assert_eq!(p.outbox().await, vec![completion.event.event]);
}

async fn a_rejecting_decision_writes_its_record_and_no_event(p: &dyn RentalPorts) {
    let rentals = seeded(p).await;
    let commit = rejecting(&scan("2025-02-04T10:00:00Z", MUG));
    assert_eq!(
        p.store().commit_return(&commit).await.unwrap(),
        CommitResult::Committed
    );
    assert_eq!(
        find_return(p, &commit.record.return_id).await,
        Some(commit.record)
    );
    assert_eq!(p.outbox().await, vec![]);
    let mut mine = rentals[..3].to_vec();
    mine.sort_by(Rental::oldest_first);
    assert_eq!(rentals_of(p, USER).await, mine, "no rental changed");
}

async fn a_second_decision_of_the_same_return_is_refused_and_writes_nothing(p: &dyn RentalPorts) {
    let rentals = seeded(p).await;
    let store = p.store();
    let scan = scan("2025-02-04T10:00:00Z", CLAMSHELL);
    let first = completing(&scan, &rentals[0]);
    assert_eq!(
        store.commit_return(&first).await.unwrap(),
        CommitResult::Committed
    );

    // Another delivery of the same scan, decided on other data: another rental.
    let other = completing(&scan, &rentals[1]);
    assert_eq!(
        store.commit_return(&other).await.unwrap(),
        CommitResult::ReturnAlreadyDecided
    );
    assert_eq!(
        store.commit_return(&rejecting(&scan)).await.unwrap(),
        CommitResult::ReturnAlreadyDecided
    );
    // The same decision again: its rental is taken too, and the return's decision comes first.
    assert_eq!(
        store.commit_return(&first).await.unwrap(),
        CommitResult::ReturnAlreadyDecided
    );

    assert_eq!(
        find_return(p, &scan.return_id()).await,
        Some(first.record.clone())
    );
    assert_eq!(
        rental_now(p, "pc_r2").await,
        rentals[1],
        "still in progress"
    );
    assert_eq!(
        p.outbox().await,
        vec![first.completion.unwrap().event.event],
        "one event"
    );
}

async fn a_decision_on_a_rental_no_longer_in_progress_is_refused_and_writes_nothing(
    p: &dyn RentalPorts,
) {
    let rentals = seeded(p).await;
    let store = p.store();
    let completed = &rentals[2];
    let scan_1 = scan("2025-02-04T10:00:00Z", CLAMSHELL);
    let mut stale = rental(
        "pc_r3",
        USER,
        "2025-01-01T10:00:00Z",
        RentalStatus::InProgress,
    );
    stale.expires_at = completed.expires_at;
    assert_eq!(
        store
            .commit_return(&completing(&scan_1, &stale))
            .await
            .unwrap(),
        CommitResult::RentalTaken
    );
    let scan_2 = scan("2025-02-05T10:00:00Z", CLAMSHELL);
    let missing = rental(
        "pc_r_missing",
        USER,
        "2025-02-01T10:00:00Z",
        RentalStatus::InProgress,
    );
    assert_eq!(
        store
            .commit_return(&completing(&scan_2, &missing))
            .await
            .unwrap(),
        CommitResult::RentalTaken,
        "a rental that does not exist is not in progress"
    );

    assert_eq!(find_return(p, &scan_1.return_id()).await, None);
    assert_eq!(find_return(p, &scan_2.return_id()).await, None);
    assert_eq!(rental_now(p, "pc_r3").await, *completed);
    assert!(
        rentals_of(p, USER)
            .await
            .iter()
            .all(|r| r.rental_id.as_str() != "pc_r_missing"),
        "no rental created"
    );
    assert_eq!(p.outbox().await, vec![]);
}

async fn of_two_returns_racing_for_one_rental_exactly_one_completes_it(p: &dyn RentalPorts) {
    let rentals = seeded(p).await;
    let store = p.store();
    let a = completing(&scan("2025-02-04T10:00:00Z", CLAMSHELL), &rentals[0]);
    let b = completing(&scan("2025-02-04T11:00:00Z", MUG), &rentals[0]);
    let (ra, rb) = tokio::join!(store.commit_return(&a), store.commit_return(&b));
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let (winner, loser) = match (ra, rb) {
        (CommitResult::Committed, CommitResult::RentalTaken) => (a, b),
        (CommitResult::RentalTaken, CommitResult::Committed) => (b, a),
        other => panic!("one commit wins and the other finds the rental taken: {other:?}"),
    };
    let completion = winner.completion.unwrap();
    assert_eq!(rental_now(p, "pc_r1").await, completion.rental);
    assert_eq!(find_return(p, &loser.record.return_id).await, None);
    assert_eq!(p.outbox().await, vec![completion.event.event]);
}

fn delta(user: &str, returned: &str, on_time: bool) -> StatsDelta {
    StatsDelta {
        user_id: UserId::parse(user).unwrap(),
        returns: 1,
        on_time_returns: u64::from(on_time),
        reward_points: if on_time { 15 } else { 10 },
        returned_at: at(returned),
    }
}

async fn each_event_is_projected_into_the_users_stats_once(p: &dyn RentalPorts) {
    let (e1, e2) = (
        EventId::parse("evt_pc_1").unwrap(),
        EventId::parse("evt_pc_2").unwrap(),
    );
    let first = delta(USER, "2025-02-04T10:00:00Z", true);
    let second = delta(USER, "2025-02-05T10:00:00Z", false);
    assert!(p.projection().apply(&e1, &first).await.unwrap());
    assert!(
        !p.projection().apply(&e1, &first).await.unwrap(),
        "applied before"
    );
    assert!(p.projection().apply(&e2, &second).await.unwrap());
    assert!(!p.projection().apply(&e2, &second).await.unwrap());
    assert!(
        p.projection()
            .apply(
                &EventId::parse("evt_pc_3").unwrap(),
                &delta(OTHER_USER, "2025-02-06T10:00:00Z", true)
            )
            .await
            .unwrap()
    );

    let stats = p.view().get(&UserId::parse(USER).unwrap()).await.unwrap();
    assert_eq!(
        stats,
        Some(UserStats {
            user_id: UserId::parse(USER).unwrap(),
            returns_count: 2,
            on_time_returns: 1,
            reward_points: 25,
            last_return_at: Some(second.returned_at),
        })
    );
    let other = p
        .view()
        .get(&UserId::parse(OTHER_USER).unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((other.returns_count, other.reward_points), (1, 15));
}
