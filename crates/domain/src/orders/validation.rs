//! Bodies of `POST /orders`, `PATCH /orders/{id}/status` and `PUT /inventory/{sku}`.

use super::order::{NewOrder, OrderLine, OrderStatus};
use crate::ids::UserId;
use crate::orders::Sku;
use crate::validation::{FieldCode, Problems, ValidationError};
use serde_json::Value;
use std::collections::HashMap;

/// Lines per order. DynamoDB writes at most 100 items in one transaction; a placement writes the
/// order, its outbox row and one stock item per line (a cancellation the same), so 98 lines
/// would fit. 50 keeps half of that in hand, so a later rule that adds an item per line to the
/// same transaction (a reservation, a per-line audit row) still fits without changing the API.
pub const MAX_LINES: usize = 50;
pub const MAX_QUANTITY: u64 = 100;
/// Stock levels and thresholds fit DynamoDB numbers and our `u32`s with room to spare.
pub const MAX_STOCK: u64 = 1_000_000_000;

/// The order flow's own field codes.
impl FieldCode {
    pub const DUPLICATE_SKU: Self = Self::new("duplicate_sku");
    pub const INVALID_QUANTITY: Self = Self::new("invalid_quantity");
    pub const INVALID_STATUS: Self = Self::new("invalid_status");
    pub const INVALID_STOCK: Self = Self::new("invalid_stock");
    pub const INVALID_THRESHOLD: Self = Self::new("invalid_threshold");
    /// An order line names a SKU the inventory does not hold (`422 unknown_sku`).
    pub const UNKNOWN_SKU: Self = Self::new("unknown_sku");
    /// An order line asks for more than the SKU has left (`409 insufficient_stock`).
    pub const INSUFFICIENT_STOCK: Self = Self::new("insufficient_stock");
}

/// Every field code of this flow, for the API's list of codes.
pub const CODES: &[FieldCode] = &[
    FieldCode::DUPLICATE_SKU,
    FieldCode::INVALID_QUANTITY,
    FieldCode::INVALID_STATUS,
    FieldCode::INVALID_STOCK,
    FieldCode::INVALID_THRESHOLD,
    FieldCode::UNKNOWN_SKU,
    FieldCode::INSUFFICIENT_STOCK,
];

impl NewOrder {
    pub fn from_json(body: &Value) -> Result<Self, ValidationError> {
        let mut p = Problems::new("order");
        let o = p.root(body)?;
        let customer_id = p.parsed(
            &o.field("customer_id"),
            |s| UserId::parse(s),
            FieldCode::INVALID_ID,
        );
        let items_field = o.field("items");
        let items = p.array(
            &items_field,
            1..=MAX_LINES,
            FieldCode::NO_ITEMS,
            FieldCode::TOO_MANY_ITEMS,
        );
        let mut lines = Vec::new();
        let mut seen: HashMap<Sku, usize> = HashMap::new();
        for (i, item) in items.iter().flatten().enumerate() {
            let Some(line) = p.object(item, "an order line") else {
                continue;
            };
            let sku_field = line.field("sku");
            let sku = p.parsed(&sku_field, |s| Sku::parse(s), FieldCode::INVALID_ID);
            let quantity = p.integer(
                &line.field("quantity"),
                1..=MAX_QUANTITY,
                FieldCode::INVALID_QUANTITY,
            );
            if let Some(sku) = &sku {
                if let Some(first) = seen.get(sku) {
                    let message = format!("{sku} is already ordered in items[{first}]");
                    p.add(&sku_field, FieldCode::DUPLICATE_SKU, message);
                    continue;
                }
                seen.insert(sku.clone(), i);
            }
            if let (Some(sku), Some(quantity)) = (sku, quantity) {
                lines.push(OrderLine {
                    sku,
                    quantity: quantity as u32,
                });
            }
        }
        p.finish(|| {
            Some(Self {
                customer_id: customer_id?,
                items: lines,
            })
        })
    }
}

/// `{"status"}` of a status change.
pub fn status_from_json(body: &Value) -> Result<OrderStatus, ValidationError> {
    let mut p = Problems::new("status change");
    let o = p.root(body)?;
    let status = p.one_of(
        &o.field("status"),
        OrderStatus::parse,
        FieldCode::INVALID_STATUS,
        "one of placed, preparing, out_for_delivery, delivered, cancelled",
    );
    p.finish(|| status)
}

/// `{"available", "low_stock_threshold"}` of `PUT /inventory/{sku}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StockSetting {
    pub available: u32,
    pub low_stock_threshold: u32,
}

impl StockSetting {
    pub fn from_json(body: &Value) -> Result<Self, ValidationError> {
        let mut p = Problems::new("stock setting");
        let o = p.root(body)?;
        let available = p.integer(
            &o.field("available"),
            0..=MAX_STOCK,
            FieldCode::INVALID_STOCK,
        );
        let threshold = p.integer(
            &o.field("low_stock_threshold"),
            0..=MAX_STOCK,
            FieldCode::INVALID_THRESHOLD,
        );
        p.finish(|| {
            Some(Self {
                available: available? as u32,
                low_stock_threshold: threshold? as u32,
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn codes(body: Value) -> Vec<(String, &'static str)> {
        NewOrder::from_json(&body)
            .unwrap_err()
            .details
            .into_iter()
            .map(|d| (d.field, d.code.as_str()))
            .collect()
    }

    #[test]
    fn a_valid_order() {
        let o = NewOrder::from_json(&json!({
            "customer_id": "ec_c0001",
            "items": [{"sku": "ec_sku_burger_classic", "quantity": 2}, {"sku": "b", "quantity": 100}]
        }))
        .unwrap();
        assert_eq!(o.customer_id.as_str(), "ec_c0001");
        assert_eq!(o.items.len(), 2);
        assert_eq!(o.items[0].quantity, 2);
    }

    #[test]
    fn every_problem_is_reported_with_its_path() {
        assert_eq!(
            codes(
                json!({"items": [{"sku": "a", "quantity": 0}, {"sku": "a", "quantity": 1}, {"sku": "", "quantity": 2.5}, 7]})
            ),
            vec![
                ("customer_id".into(), "missing_field"),
                ("items[0].quantity".into(), "invalid_quantity"),
                ("items[1].sku".into(), "duplicate_sku"),
                ("items[2].sku".into(), "invalid_id"),
                ("items[2].quantity".into(), "invalid_quantity"),
                ("items[3]".into(), "invalid_type"),
            ]
        );
    }

    #[test]
    fn line_counts_and_quantities_have_bounds() {
        assert_eq!(
            codes(json!({"customer_id": "c", "items": []})),
            vec![("items".into(), "no_items")]
        );
        let many: Vec<Value> = (0..=MAX_LINES)
            .map(|i| json!({"sku": format!("s{i}"), "quantity": 1}))
            .collect();
        assert_eq!(
            codes(json!({"customer_id": "c", "items": many})),
            vec![("items".into(), "too_many_items")]
        );
        let fifty: Vec<Value> = (0..MAX_LINES)
            .map(|i| json!({"sku": format!("s{i}"), "quantity": 1}))
            .collect();
        assert!(NewOrder::from_json(&json!({"customer_id": "c", "items": fifty})).is_ok());
        for q in [json!(101), json!(-1), json!("2"), json!(1e3), json!(null)] {
            let c = codes(json!({"customer_id": "c", "items": [{"sku": "s", "quantity": q}]}));
            assert_eq!(c.len(), 1, "{c:?}");
            assert_eq!(c[0].0, "items[0].quantity");
        }
    }

    #[test]
    fn status_and_stock_bodies() {
        assert_eq!(
            status_from_json(&json!({"status": "out_for_delivery"})),
            Ok(OrderStatus::OutForDelivery)
        );
        let e = status_from_json(&json!({"status": "lost"})).unwrap_err();
        assert_eq!(e.details[0].code, FieldCode::INVALID_STATUS);
        assert!(status_from_json(&json!([])).is_err());
        assert_eq!(
            StockSetting::from_json(&json!({"available": 0, "low_stock_threshold": 3})),
            Ok(StockSetting {
                available: 0,
                low_stock_threshold: 3
            })
        );
        let e = StockSetting::from_json(&json!({"available": -2, "low_stock_threshold": "x"}))
            .unwrap_err();
        let c: Vec<_> = e.details.iter().map(|d| d.code).collect();
        assert_eq!(
            c,
            vec![FieldCode::INVALID_STOCK, FieldCode::INVALID_THRESHOLD]
        );
    }

    proptest! {
        #[test]
        fn any_json_is_an_order_or_a_coded_error(v in any::<u8>().prop_flat_map(|_| arb_json())) {
            match NewOrder::from_json(&v) {
                Ok(o) => prop_assert!((1..=MAX_LINES).contains(&o.items.len())),
                Err(e) => prop_assert!(!e.details.is_empty()),
            }
        }
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-z_]{0,6}".prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop_oneof![
                        Just("customer_id".to_owned()),
                        Just("items".to_owned()),
                        Just("sku".to_owned()),
                        Just("quantity".to_owned())
                    ],
                    inner,
                    0..3
                )
                .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }
}
