//! Accepting a return scan: queued for its user's rentals to be decided in order, and recorded
//! as pending so that readers can tell a queued return from an unknown one.

use super::outcome::ReturnRecord;
use super::ports::{RentalStore, ReturnQueue};
use super::scan::ReturnScan;
use crate::PortError;
use crate::rentals::ReturnId;
use tracing::warn;

/// Queues `scan` and records it as pending: its return id once it is durably queued, which is
/// the whole promise of accepting it. The pending record only helps readers, so failing to write
/// it does not fail the submission (the decision writes the record anyway).
pub async fn submit_return_scan(
    queue: &dyn ReturnQueue,
    store: &dyn RentalStore,
    scan: ReturnScan,
) -> Result<ReturnId, PortError> {
    let return_id = scan.return_id();
    queue.enqueue(&scan).await?;
    if let Err(e) = store.record_pending(&ReturnRecord::pending(scan)).await {
        warn!(error = %e, %return_id, "could not record pending return");
    }
    Ok(return_id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rentals::ReturnState;
    use crate::rentals::memory::{InMemoryRentalStore, InMemoryReturnQueue};

    fn scan() -> ReturnScan {
        ReturnScan::from_json(&serde_json::json!({
            "timestamp": "2025-02-10T11:00:00Z", "location_id": "loc-1",
            "user_qr_data": "dHBnX3UwMDAx", "asset_qr_data": "dHBnX2EwMDAwMQ=="
        }))
        .unwrap()
    }

    #[tokio::test]
    async fn a_queued_scan_is_recorded_pending_and_a_failed_record_still_accepts_it() {
        let (queue, store) = (
            InMemoryReturnQueue::default(),
            InMemoryRentalStore::default(),
        );
        let id = submit_return_scan(&queue, &store, scan()).await.unwrap();
        assert_eq!(queue.queued().len(), 1);
        let record = store.find_return(&id).await.unwrap().unwrap();
        assert_eq!(record.state, ReturnState::Pending);

        let (queue, store) = (
            InMemoryReturnQueue::default(),
            InMemoryRentalStore::default(),
        );
        store.fail_next(PortError::Retryable("down".into()));
        let accepted = submit_return_scan(&queue, &store, scan()).await;
        assert_eq!(accepted.unwrap(), id);
        assert_eq!(queue.queued().len(), 1);
        assert_eq!(store.find_return(&id).await.unwrap(), None);

        let (queue, store) = (
            InMemoryReturnQueue::default(),
            InMemoryRentalStore::default(),
        );
        queue.fail_next(PortError::Retryable("down".into()));
        let refused = submit_return_scan(&queue, &store, scan()).await;
        assert_eq!(refused, Err(PortError::Retryable("down".into())));
        assert_eq!(
            store.find_return(&id).await.unwrap(),
            None,
            "nothing recorded"
        );
    }
}
