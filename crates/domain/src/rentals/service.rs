//! The return use case: decide what a scan does and commit it atomically, safely under duplicate
//! and concurrent delivery.

use super::events::RentalCompleted;
use super::outcome::{RejectionReason, ReturnRecord, ReturnState};
use super::ports::{CommitResult, Completion, RentalStore, ReturnCommit};
use super::qr::decode_qr;
use super::scan::ReturnScan;
use super::selection::select_rental;
use crate::PortError;
use crate::contention::{Try, optimistically};
use crate::ids::UserId;
use crate::rentals::AssetId;

#[derive(Debug, Clone, PartialEq)]
pub struct ReturnDecision {
    pub record: ReturnRecord,
    /// True when this delivery found the scan already decided and changed nothing.
    pub duplicate: bool,
}

pub async fn process_return(
    store: &dyn RentalStore,
    scan: &ReturnScan,
) -> Result<ReturnDecision, PortError> {
    if let Some(existing) = already_decided(store, scan).await? {
        return Ok(existing);
    }
    // A try loses when the rental it chose was taken by another return first.
    optimistically("the user's rentals", (), |()| async move {
        let commit = decide(store, scan).await?;
        Ok(match store.commit_return(&commit).await? {
            CommitResult::Committed => Try::Done(ReturnDecision {
                record: commit.record,
                duplicate: false,
            }),
            CommitResult::ReturnAlreadyDecided => {
                Try::Done(already_decided(store, scan).await?.ok_or_else(|| {
                    PortError::Retryable("return reported decided but not found".into())
                })?)
            }
            CommitResult::RentalTaken => Try::Lost(()),
        })
    })
    .await
}

async fn already_decided(
    store: &dyn RentalStore,
    scan: &ReturnScan,
) -> Result<Option<ReturnDecision>, PortError> {
    Ok(store
        .find_return(&scan.return_id())
        .await?
        .filter(|r| r.state.is_decided())
        .map(|record| ReturnDecision {
            record,
            duplicate: true,
        }))
}

async fn decide(store: &dyn RentalStore, scan: &ReturnScan) -> Result<ReturnCommit, PortError> {
    let mut record = ReturnRecord::pending(scan.clone());
    let reject = |mut record: ReturnRecord, reason| {
        record.state = ReturnState::Rejected { reason };
        Ok(ReturnCommit {
            record,
            completion: None,
        })
    };

    let ids = decode_qr(&scan.user_qr_data)
        .ok()
        .and_then(|u| UserId::parse(u).ok())
        .zip(
            decode_qr(&scan.asset_qr_data)
                .ok()
                .and_then(|a| AssetId::parse(a).ok()),
        );
    let Some((user_id, asset_id)) = ids else {
        return reject(record, RejectionReason::InvalidQr);
    };
    record.user_id = Some(user_id.clone());
    record.asset_id = Some(asset_id.clone());

    if store.find_user(&user_id).await?.is_none() {
        return reject(record, RejectionReason::UserNotFound);
    }
    let Some(asset) = store.find_asset(&asset_id).await? else {
        return reject(record, RejectionReason::AssetNotFound);
    };
    let rentals = store.rentals_of(&user_id).await?;
    let Some(rental) = select_rental(&rentals, asset.asset_type, scan.occurred_at) else {
        return reject(record, RejectionReason::NoEligibleRental);
    };

    record.state = ReturnState::Completed {
        rental_id: rental.rental_id.clone(),
    };
    let event = RentalCompleted {
        return_id: record.return_id.clone(),
        rental_id: rental.rental_id.clone(),
        user_id,
        asset_id,
        asset_type: asset.asset_type,
        returned_at: scan.occurred_at,
        location_id: scan.location_id.clone(),
        expires_at: rental.expires_at,
    }
    .outbound()?;
    let completion = Completion {
        rental: rental.completed(scan.occurred_at, &scan.location_id),
        event,
    };
    Ok(ReturnCommit {
        record,
        completion: Some(completion),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rentals::RentalId;
    use crate::rentals::memory::InMemoryRentalStore;
    use crate::rentals::{Asset, AssetType, Rental, RentalStatus, User};
    use crate::time::parse_event_time;
    use serde_json::json;

    fn store() -> InMemoryRentalStore {
        let store = InMemoryRentalStore::default();
        store.put_user(User {
            user_id: UserId::parse("tpg_u0001").unwrap(),
            name: "Adam".into(),
        });
        store.put_asset(Asset {
            asset_id: AssetId::parse("tpg_a00001").unwrap(),
            asset_type: AssetType::Clamshell,
        });
        store.put_asset(Asset {
            asset_id: AssetId::parse("tpg_a00004").unwrap(),
            asset_type: AssetType::Mug,
        });
        for (id, created) in [
            ("tpg_r0001", "2025-02-05T12:00:00Z"),
            ("tpg_r0009", "2025-02-07T12:00:00Z"),
        ] {
            store.put_rental(Rental {
                rental_id: RentalId::parse(id).unwrap(),
                user_id: UserId::parse("tpg_u0001").unwrap(),
                asset_id: AssetId::parse("tpg_a00001").unwrap(),
                status: RentalStatus::InProgress,
                created_at: parse_event_time(created).unwrap(),
                expires_at: parse_event_time("2025-02-15T12:00:00Z").unwrap(),
                eligible_asset_types: vec![AssetType::Clamshell],
                created_at_location_id: None,
                returned_at: None,
                returned_at_location_id: None,
            });
        }
        store
    }

    fn scan(user_qr: &str, asset_qr: &str, ts: &str) -> ReturnScan {
        ReturnScan::from_json(
            &json!({"timestamp": ts, "location_id": "topanga-location-01",
            "user_qr_data": user_qr, "asset_qr_data": asset_qr}),
        )
        .unwrap()
    }

    const U1: &str = "dHBnX3UwMDAx"; // tpg_u0001
    const A1: &str = "dHBnX2EwMDAwMQ=="; // tpg_a00001

    #[tokio::test]
    async fn completes_the_oldest_eligible_rental_and_emits_one_event() {
        let store = store();
        let d = process_return(&store, &scan(U1, A1, "2025-02-10T11:00:00"))
            .await
            .unwrap();
        assert!(!d.duplicate);
        assert_eq!(
            d.record.state,
            ReturnState::Completed {
                rental_id: RentalId::parse("tpg_r0001").unwrap()
            }
        );
        let r = store.rental("tpg_r0001").unwrap();
        assert_eq!(r.status, RentalStatus::Completed);
        assert_eq!(r.returned_at, parse_event_time("2025-02-10T11:00:00Z"));
        assert_eq!(
            r.returned_at_location_id.unwrap().as_str(),
            "topanga-location-01"
        );
        assert_eq!(
            store.rental("tpg_r0009").unwrap().status,
            RentalStatus::InProgress
        );
        assert_eq!(store.outbox().len(), 1);
    }

    #[tokio::test]
    async fn the_same_scan_twice_completes_one_rental() {
        let store = store();
        let s = scan(U1, A1, "2025-02-10T11:00:00Z");
        let first = process_return(&store, &s).await.unwrap();
        let second = process_return(&store, &s).await.unwrap();
        assert!(second.duplicate);
        assert_eq!(first.record, second.record);
        assert_eq!(
            store.rental("tpg_r0009").unwrap().status,
            RentalStatus::InProgress
        );
        assert_eq!(store.outbox().len(), 1);
    }

    #[tokio::test]
    async fn a_second_scan_completes_the_next_rental() {
        let store = store();
        process_return(&store, &scan(U1, A1, "2025-02-10T11:00:00Z"))
            .await
            .unwrap();
        let d = process_return(&store, &scan(U1, A1, "2025-02-10T11:05:00Z"))
            .await
            .unwrap();
        assert_eq!(
            d.record.state,
            ReturnState::Completed {
                rental_id: RentalId::parse("tpg_r0009").unwrap()
            }
        );
        let d = process_return(&store, &scan(U1, A1, "2025-02-10T11:10:00Z"))
            .await
            .unwrap();
        assert_eq!(
            d.record.state,
            ReturnState::Rejected {
                reason: RejectionReason::NoEligibleRental
            }
        );
        assert_eq!(store.outbox().len(), 2);
    }

    #[tokio::test]
    async fn losing_a_race_for_a_rental_re_decides() {
        let store = store();
        // Another return takes tpg_r0001 between our read and our commit.
        store.steal_on_next_commit("tpg_r0001");
        let d = process_return(&store, &scan(U1, A1, "2025-02-10T11:00:00Z"))
            .await
            .unwrap();
        assert_eq!(
            d.record.state,
            ReturnState::Completed {
                rental_id: RentalId::parse("tpg_r0009").unwrap()
            }
        );
    }

    #[tokio::test]
    async fn rejections_carry_their_reason() {
        let store = store();
        let cases = [
            ("not base64!", A1, RejectionReason::InvalidQr),
            (U1, "", RejectionReason::InvalidQr),
            ("dHBnX3U5OTk5", A1, RejectionReason::UserNotFound), // tpg_u9999
            (U1, "dHBnX2EwMDUwMA==", RejectionReason::AssetNotFound), // tpg_a00500
            (U1, "dHBnX2EwMDAwNA==", RejectionReason::NoEligibleRental), // a mug
        ];
        for (u, a, reason) in cases {
            let s = ReturnScan {
                asset_qr_data: a.into(),
                ..scan(u, A1, "2025-02-10T11:00:00Z")
            };
            let d = process_return(&store, &s).await.unwrap();
            assert_eq!(d.record.state, ReturnState::Rejected { reason }, "{u} {a}");
            assert_eq!(
                store.find_return(&s.return_id()).await.unwrap().unwrap(),
                d.record
            );
        }
        assert!(store.outbox().is_empty());
        assert_eq!(
            store.rental("tpg_r0001").unwrap().status,
            RentalStatus::InProgress
        );
    }

    #[tokio::test]
    async fn expired_by_event_time_is_rejected() {
        let store = store();
        let d = process_return(&store, &scan(U1, A1, "2025-02-16T00:00:00Z"))
            .await
            .unwrap();
        assert_eq!(
            d.record.state,
            ReturnState::Rejected {
                reason: RejectionReason::NoEligibleRental
            }
        );
    }

    #[tokio::test]
    async fn a_pending_record_is_decided_by_processing() {
        let store = store();
        let s = scan(U1, A1, "2025-02-10T11:00:00Z");
        store.put_pending(ReturnRecord::pending(s.clone()));
        let d = process_return(&store, &s).await.unwrap();
        assert!(!d.duplicate);
        assert!(d.record.state.is_decided());
    }

    #[tokio::test]
    async fn storage_failures_propagate_with_their_kind() {
        let store = store();
        store.fail_next(PortError::Retryable("throttled".into()));
        let err = process_return(&store, &scan(U1, A1, "2025-02-10T11:00:00Z"))
            .await
            .unwrap_err();
        assert!(err.is_retryable());
        assert_eq!(
            store.rental("tpg_r0001").unwrap().status,
            RentalStatus::InProgress
        );
    }
}
