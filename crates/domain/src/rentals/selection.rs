use super::asset::AssetType;
use super::rental::Rental;
use chrono::{DateTime, Utc};

/// The rental a returned asset completes: among the user's rentals that are in progress, open at
/// the scan's time and accept the asset's type, the oldest by `created_at` (ties broken by id so
/// the choice never depends on storage order).
pub fn select_rental(
    rentals: &[Rental],
    asset_type: AssetType,
    at: DateTime<Utc>,
) -> Option<&Rental> {
    rentals
        .iter()
        .filter(|r| r.is_open_at(at) && r.accepts(asset_type))
        .min_by(|a, b| Rental::oldest_first(a, b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use crate::rentals::RentalStatus;
    use crate::rentals::{AssetId, LocationId, RentalId};
    use crate::time::parse_event_time;

    fn t(s: &str) -> DateTime<Utc> {
        parse_event_time(s).unwrap()
    }

    fn rental(id: &str, created: &str, expires: &str, types: &[AssetType]) -> Rental {
        Rental {
            rental_id: RentalId::parse(id).unwrap(),
            user_id: UserId::parse("u1").unwrap(),
            asset_id: AssetId::parse(format!("asset-of-{id}")).unwrap(),
            status: RentalStatus::InProgress,
            created_at: t(created),
            expires_at: t(expires),
            eligible_asset_types: types.to_vec(),
            created_at_location_id: Some(LocationId::parse("loc").unwrap()),
            returned_at: None,
            returned_at_location_id: None,
        }
    }

    use AssetType::*;

    #[test]
    fn picks_the_oldest_of_several_candidates() {
        let rentals = vec![
            rental(
                "r2",
                "2025-02-07T12:00:00Z",
                "2025-02-15T12:00:00Z",
                &[Clamshell],
            ),
            rental(
                "r1",
                "2025-02-05T12:00:00Z",
                "2025-02-15T12:00:00Z",
                &[Clamshell],
            ),
            rental(
                "r3",
                "2025-02-09T12:00:00Z",
                "2025-02-15T12:00:00Z",
                &[Clamshell],
            ),
        ];
        let chosen = select_rental(&rentals, Clamshell, t("2025-02-10T12:00:00Z")).unwrap();
        assert_eq!(chosen.rental_id.as_str(), "r1");
    }

    #[test]
    fn ties_on_created_at_are_broken_by_id() {
        let rentals = vec![
            rental("rb", "2025-02-05T12:00:00Z", "2025-02-15T12:00:00Z", &[Mug]),
            rental("ra", "2025-02-05T12:00:00Z", "2025-02-15T12:00:00Z", &[Mug]),
        ];
        assert_eq!(
            select_rental(&rentals, Mug, t("2025-02-10T00:00:00Z"))
                .unwrap()
                .rental_id
                .as_str(),
            "ra"
        );
    }

    #[test]
    fn skips_rentals_expired_at_the_event_time() {
        let rentals = vec![
            rental(
                "old",
                "2025-02-01T12:00:00Z",
                "2025-02-09T12:00:00Z",
                &[Clamshell],
            ),
            rental(
                "new",
                "2025-02-05T12:00:00Z",
                "2025-02-15T12:00:00Z",
                &[Clamshell],
            ),
        ];
        let chosen = select_rental(&rentals, Clamshell, t("2025-02-10T12:00:00Z")).unwrap();
        assert_eq!(chosen.rental_id.as_str(), "new");
        // The same return, stamped before the old rental expired, completes the old one: the
        // event's time decides, not the processing time.
        let chosen = select_rental(&rentals, Clamshell, t("2025-02-08T12:00:00Z")).unwrap();
        assert_eq!(chosen.rental_id.as_str(), "old");
    }

    #[test]
    fn boundary_at_expires_at_is_still_open() {
        let rentals = vec![rental(
            "r",
            "2025-02-01T12:00:00Z",
            "2025-02-09T12:00:00Z",
            &[Mug],
        )];
        assert!(select_rental(&rentals, Mug, t("2025-02-09T12:00:00Z")).is_some());
        assert!(select_rental(&rentals, Mug, t("2025-02-09T12:00:00.001Z")).is_none());
    }

    #[test]
    fn naive_event_time_is_utc() {
        let rentals = vec![rental(
            "r",
            "2025-02-01T12:00:00+00:00",
            "2025-02-09T12:00:00+00:00",
            &[Mug],
        )];
        assert!(select_rental(&rentals, Mug, t("2025-02-09T12:00:00")).is_some());
        // 12:30 at +01:00 is 11:30 UTC: still open.
        assert!(select_rental(&rentals, Mug, t("2025-02-09T12:30:00+01:00")).is_some());
        assert!(select_rental(&rentals, Mug, t("2025-02-09T12:30:00")).is_none());
    }

    #[test]
    fn skips_ineligible_asset_types() {
        let rentals = vec![
            rental(
                "bowls",
                "2025-02-01T12:00:00Z",
                "2025-02-15T12:00:00Z",
                &[LargeBowl, SmallBowl],
            ),
            rental(
                "shells",
                "2025-02-05T12:00:00Z",
                "2025-02-15T12:00:00Z",
                &[Clamshell],
            ),
        ];
        let at = t("2025-02-10T12:00:00Z");
        assert_eq!(
            select_rental(&rentals, Clamshell, at)
                .unwrap()
                .rental_id
                .as_str(),
            "shells"
        );
        assert_eq!(
            select_rental(&rentals, SmallBowl, at)
                .unwrap()
                .rental_id
                .as_str(),
            "bowls"
        );
        assert!(select_rental(&rentals, Mug, at).is_none());
    }

    #[test]
    fn skips_rentals_not_in_progress() {
        for status in [
            RentalStatus::Completed,
            RentalStatus::Forgiven,
            RentalStatus::Flagged,
        ] {
            let mut r = rental("r", "2025-02-01T12:00:00Z", "2025-02-15T12:00:00Z", &[Mug]);
            r.status = status;
            assert!(
                select_rental(&[r], Mug, t("2025-02-10T12:00:00Z")).is_none(),
                "{status:?}"
            );
        }
    }

    #[test]
    fn a_scan_before_checkout_does_not_complete_it() {
        let rentals = vec![rental(
            "r",
            "2025-02-05T12:00:00Z",
            "2025-02-15T12:00:00Z",
            &[Mug],
        )];
        assert!(select_rental(&rentals, Mug, t("2025-02-05T11:59:59Z")).is_none());
        assert!(select_rental(&rentals, Mug, t("2025-02-05T12:00:00Z")).is_some());
    }

    #[test]
    fn no_rentals_no_choice() {
        assert!(select_rental(&[], Mug, t("2025-02-10T12:00:00Z")).is_none());
    }
}
