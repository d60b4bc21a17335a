use crate::ids::UserId;
use crate::orders::{OrderId, Sku};
use crate::time::serde_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Where an order stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderStatus {
    Placed,
    Preparing,
    OutForDelivery,
    Delivered,
    Cancelled,
}

impl OrderStatus {
    pub const ALL: [OrderStatus; 5] = [
        Self::Placed,
        Self::Preparing,
        Self::OutForDelivery,
        Self::Delivered,
        Self::Cancelled,
    ];

    pub fn parse(value: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str() == value)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Placed => "placed",
            Self::Preparing => "preparing",
            Self::OutForDelivery => "out_for_delivery",
            Self::Delivered => "delivered",
            Self::Cancelled => "cancelled",
        }
    }

    /// The lifecycle table: the statuses an order may move to from this one.
    pub fn next(self) -> &'static [OrderStatus] {
        match self {
            Self::Placed => &[Self::Preparing, Self::Cancelled],
            Self::Preparing => &[Self::OutForDelivery, Self::Cancelled],
            Self::OutForDelivery => &[Self::Delivered],
            Self::Delivered | Self::Cancelled => &[],
        }
    }
}

impl std::fmt::Display for OrderStatus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One line of an order: units of one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderLine {
    pub sku: Sku,
    pub quantity: u32,
}

/// A validated order, not yet placed: 1–[`super::MAX_LINES`] lines, each SKU once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrder {
    pub customer_id: UserId,
    pub items: Vec<OrderLine>,
}

/// One entry of an order's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusChange {
    pub status: OrderStatus,
    #[serde(with = "serde_time")]
    pub at: DateTime<Utc>,
}

/// A stored order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    pub order_id: OrderId,
    pub customer_id: UserId,
    pub items: Vec<OrderLine>,
    pub status: OrderStatus,
    #[serde(with = "serde_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "serde_time")]
    pub updated_at: DateTime<Utc>,
    pub history: Vec<StatusChange>,
    /// Changes so far (1 once placed): what a store conditions a change on, so that of two
    /// changes decided from one version only one is written.
    pub version: u32,
}

/// What asking for a status does to an order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// The order already has it: no change, no event.
    Unchanged,
    /// The order as it is after the change.
    Changed(Order),
    /// The lifecycle does not lead there from the current status.
    Invalid { from: OrderStatus, to: OrderStatus },
}

impl Order {
    pub fn placed(order_id: OrderId, new: NewOrder, at: DateTime<Utc>) -> Self {
        Self {
            order_id,
            customer_id: new.customer_id,
            items: new.items,
            status: OrderStatus::Placed,
            created_at: at,
            updated_at: at,
            history: vec![StatusChange {
                status: OrderStatus::Placed,
                at,
            }],
            version: 1,
        }
    }

    pub fn transition(&self, to: OrderStatus, at: DateTime<Utc>) -> Transition {
        if to == self.status {
            return Transition::Unchanged;
        }
        if !self.status.next().contains(&to) {
            return Transition::Invalid {
                from: self.status,
                to,
            };
        }
        let mut next = self.clone();
        next.status = to;
        // History is in the order of changes even if a client's clock is behind.
        next.updated_at = at.max(self.updated_at);
        next.history.push(StatusChange {
            status: to,
            at: next.updated_at,
        });
        next.version += 1;
        Transition::Changed(next)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::time::parse_event_time;

    /// Customer `ec_c0001`'s order of `lines` (SKU, units).
    pub(crate) fn new_order(lines: &[(&str, u32)]) -> NewOrder {
        NewOrder {
            customer_id: UserId::parse("ec_c0001").unwrap(),
            items: lines
                .iter()
                .map(|(sku, quantity)| OrderLine {
                    sku: Sku::parse(*sku).unwrap(),
                    quantity: *quantity,
                })
                .collect(),
        }
    }

    pub(crate) fn order(lines: &[(&str, u32)]) -> Order {
        Order::placed(
            OrderId::parse("ord_1").unwrap(),
            new_order(lines),
            parse_event_time("2026-12-01T12:00:00Z").unwrap(),
        )
    }

    fn at(s: &str) -> DateTime<Utc> {
        parse_event_time(s).unwrap()
    }

    #[test]
    fn the_lifecycle_table() {
        use OrderStatus::*;
        let allowed: Vec<(OrderStatus, OrderStatus)> = OrderStatus::ALL
            .into_iter()
            .flat_map(|from| OrderStatus::ALL.into_iter().map(move |to| (from, to)))
            .filter(|(from, to)| from.next().contains(to))
            .collect();
        assert_eq!(
            allowed,
            vec![
                (Placed, Preparing),
                (Placed, Cancelled),
                (Preparing, OutForDelivery),
                (Preparing, Cancelled),
                (OutForDelivery, Delivered),
            ]
        );
    }

    #[test]
    fn a_change_appends_history_and_moves_the_version() {
        let o = order(&[("a", 1)]);
        let Transition::Changed(p) =
            o.transition(OrderStatus::Preparing, at("2026-12-01T12:05:00Z"))
        else {
            panic!("placed → preparing is allowed")
        };
        assert_eq!(p.status, OrderStatus::Preparing);
        assert_eq!(p.version, 2);
        assert_eq!(p.history.len(), 2);
        assert_eq!(p.updated_at, at("2026-12-01T12:05:00Z"));
        assert_eq!(p.created_at, o.created_at);
    }

    #[test]
    fn the_current_status_is_no_change_and_a_skipped_step_is_invalid() {
        let o = order(&[("a", 1)]);
        assert_eq!(
            o.transition(OrderStatus::Placed, o.created_at),
            Transition::Unchanged
        );
        assert_eq!(
            o.transition(OrderStatus::Delivered, o.created_at),
            Transition::Invalid {
                from: OrderStatus::Placed,
                to: OrderStatus::Delivered
            }
        );
    }

    #[test]
    fn history_never_goes_back_in_time() {
        let o = order(&[("a", 1)]);
        let Transition::Changed(p) =
            o.transition(OrderStatus::Preparing, at("2020-01-01T00:00:00Z"))
        else {
            panic!()
        };
        assert_eq!(p.updated_at, o.created_at);
    }

    #[test]
    fn statuses_round_trip_their_wire_names() {
        for s in OrderStatus::ALL {
            assert_eq!(OrderStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(OrderStatus::parse("Placed"), None);
    }
}
