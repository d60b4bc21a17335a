//! What customers and operations are told about orders and stock.

use super::events::{LowStock, OrderStatusChanged};
use crate::events::DomainEvent;
use crate::ids::UserId;
use crate::notifications::{Notification, Notify};
use crate::orders::OrderStatus;

/// Who is alerted about stock.
pub const OPERATIONS: &str = "operations";

impl Notify for OrderStatusChanged {
    fn notification(&self, envelope: &DomainEvent) -> Notification {
        let message = match self.status {
            OrderStatus::Placed => format!("We received your order {}.", self.order_id),
            OrderStatus::Preparing => format!("Your order {} is being prepared.", self.order_id),
            OrderStatus::OutForDelivery => format!("Your order {} is on its way.", self.order_id),
            OrderStatus::Delivered => format!("Your order {} was delivered. Enjoy!", self.order_id),
            OrderStatus::Cancelled => format!("Your order {} was cancelled.", self.order_id),
        };
        Notification {
            idempotency_key: format!("{}:order_status", envelope.event_id),
            user_id: self.customer_id.clone(),
            kind: "order_status",
            message,
            data: serde_json::json!({
                "event_id": envelope.event_id,
                "order_id": self.order_id,
                "status": self.status,
                "at": crate::time::format_time(&self.at),
            }),
        }
    }
}

impl Notify for LowStock {
    fn notification(&self, envelope: &DomainEvent) -> Notification {
        Notification {
            idempotency_key: format!("{}:low_stock", envelope.event_id),
            user_id: UserId::from_trusted(OPERATIONS.to_owned()),
            kind: "low_stock",
            message: format!(
                "{} is low: {} left, threshold {}.",
                self.sku, self.available, self.threshold
            ),
            data: serde_json::json!({
                "event_id": envelope.event_id,
                "sku": self.sku,
                "available": self.available,
                "threshold": self.threshold,
                "order_id": self.order_id,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::orders::order::tests::order;
    use crate::orders::{OrderId, Sku};

    #[test]
    fn customers_hear_of_each_status_and_operations_of_low_stock() {
        let o = order(&[("a", 1)]);
        let e = OrderStatusChanged::of(None, &o, vec![]);
        let n = e.notification(&e.outbound(1).unwrap().event);
        assert_eq!((n.user_id.as_str(), n.kind), ("ec_c0001", "order_status"));
        assert_eq!(n.data["order_id"], "ord_1");
        assert_eq!(n.data["status"], "placed");
        let low = LowStock {
            sku: Sku::parse("ec_sku_special_limited").unwrap(),
            available: 1,
            threshold: 2,
            order_id: OrderId::parse("ord_1").unwrap(),
            at: o.created_at,
        };
        let n = low.notification(&low.outbound().unwrap().event);
        assert_eq!((n.user_id.as_str(), n.kind), ("operations", "low_stock"));
        assert_eq!(
            (
                n.data["sku"].as_str(),
                n.data["available"].as_u64(),
                n.data["threshold"].as_u64()
            ),
            (Some("ec_sku_special_limited"), Some(1), Some(2))
        );
    }
}
