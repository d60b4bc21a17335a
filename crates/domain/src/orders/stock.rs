//! How an order's lines are taken from stock, decided from the levels read just before.
//!
//! Each line's write is conditioned on the *range* the SKU's level was read in, not on the exact
//! level: while a SKU stays at or above its threshold, any number of concurrent orders satisfy
//! `available >= quantity + threshold` together and none has to re-read because another took
//! units first. Only the order that takes a SKU below its threshold is conditioned on the exact
//! level (`available = from`): it carries the crossing, and exactly one order can move the level
//! from at-or-above to below until a restock lifts it back.

use super::order::{Order, OrderLine, OrderStatus};
use crate::orders::Sku;
use serde::{Deserialize, Serialize};

/// A SKU's stock as read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StockLevel {
    pub sku: Sku,
    pub available: u32,
    pub low_stock_threshold: u32,
}

impl StockLevel {
    pub fn is_low(&self) -> bool {
        self.available < self.low_stock_threshold
    }
}

/// The condition a line's deduction is written under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// `available >= quantity + threshold`: the SKU stays at or above its threshold.
    StaysAtOrAbove { threshold: u32 },
    /// `available = from`: this deduction takes the SKU below its threshold.
    Crosses { from: u32, threshold: u32 },
    /// `quantity <= available < threshold`: already below before this order.
    StaysBelow { threshold: u32 },
}

/// One line's deduction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMove {
    pub sku: Sku,
    pub quantity: u32,
    pub expect: Expect,
}

/// A line asking for more than is left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shortage {
    pub line: usize,
    pub sku: Sku,
    pub requested: u32,
    pub available: u32,
}

/// What the levels read allow for an order's lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StockPlan {
    Take(Vec<StockMove>),
    /// Lines (by index) whose SKU the inventory does not hold.
    Unknown(Vec<(usize, Sku)>),
    Short(Vec<Shortage>),
}

/// Plans the deduction of `lines` from `levels` (the SKUs read; a SKU missing there is unknown).
pub fn plan_stock(lines: &[OrderLine], levels: &[StockLevel]) -> StockPlan {
    let level = |sku: &Sku| levels.iter().find(|l| &l.sku == sku);
    let unknown: Vec<(usize, Sku)> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| level(&l.sku).is_none())
        .map(|(i, l)| (i, l.sku.clone()))
        .collect();
    if !unknown.is_empty() {
        return StockPlan::Unknown(unknown);
    }
    let mut moves = Vec::with_capacity(lines.len());
    let mut short = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some(l) = level(&line.sku) else { continue };
        if l.available < line.quantity {
            short.push(Shortage {
                line: i,
                sku: line.sku.clone(),
                requested: line.quantity,
                available: l.available,
            });
            continue;
        }
        let threshold = l.low_stock_threshold;
        let after = l.available - line.quantity;
        let expect = if after >= threshold {
            Expect::StaysAtOrAbove { threshold }
        } else if l.available >= threshold {
            Expect::Crosses {
                from: l.available,
                threshold,
            }
        } else {
            Expect::StaysBelow { threshold }
        };
        moves.push(StockMove {
            sku: line.sku.clone(),
            quantity: line.quantity,
            expect,
        });
    }
    if short.is_empty() {
        StockPlan::Take(moves)
    } else {
        StockPlan::Short(short)
    }
}

/// Stock given back to an existing SKU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restock {
    pub sku: Sku,
    pub quantity: u32,
}

/// What changing `prior` into `next` gives back to stock: every line, once, when the change
/// cancels the order (whatever it had reached, its food is no longer taken); nothing otherwise.
pub fn plan_restock(prior: &Order, next: &Order) -> Vec<Restock> {
    if next.status != OrderStatus::Cancelled || prior.status == OrderStatus::Cancelled {
        return Vec::new();
    }
    next.items
        .iter()
        .map(|line| Restock {
            sku: line.sku.clone(),
            quantity: line.quantity,
        })
        .collect()
}

/// Whether a SKU's current level satisfies a move's condition: the condition the DynamoDB
/// adapter writes (range and threshold), stated once for the in-memory store.
pub fn holds(m: &StockMove, level: &StockLevel) -> bool {
    let (q, available) = (m.quantity, level.available);
    let (in_range, threshold) = match m.expect {
        Expect::StaysAtOrAbove { threshold } => (
            u64::from(available) >= u64::from(q) + u64::from(threshold),
            threshold,
        ),
        Expect::Crosses { from, threshold } => (available == from, threshold),
        Expect::StaysBelow { threshold } => (available >= q && available < threshold, threshold),
    };
    in_range && level.low_stock_threshold == threshold
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn line(sku: &str, quantity: u32) -> OrderLine {
        OrderLine {
            sku: Sku::parse(sku).unwrap(),
            quantity,
        }
    }

    fn level(sku: &str, available: u32, threshold: u32) -> StockLevel {
        StockLevel {
            sku: Sku::parse(sku).unwrap(),
            available,
            low_stock_threshold: threshold,
        }
    }

    fn expect(available: u32, threshold: u32, q: u32) -> Expect {
        match plan_stock(&[line("a", q)], &[level("a", available, threshold)]) {
            StockPlan::Take(m) => m[0].expect,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_three_ranges() {
        assert_eq!(expect(10, 5, 5), Expect::StaysAtOrAbove { threshold: 5 });
        assert_eq!(
            expect(10, 5, 6),
            Expect::Crosses {
                from: 10,
                threshold: 5
            }
        );
        assert_eq!(
            expect(5, 5, 1),
            Expect::Crosses {
                from: 5,
                threshold: 5
            }
        );
        assert_eq!(expect(4, 5, 1), Expect::StaysBelow { threshold: 5 });
        assert_eq!(expect(4, 0, 4), Expect::StaysAtOrAbove { threshold: 0 });
    }

    #[test]
    fn unknown_skus_come_before_shortages_and_name_their_lines() {
        let plan = plan_stock(&[line("a", 9), line("b", 1)], &[level("a", 1, 0)]);
        assert_eq!(
            plan,
            StockPlan::Unknown(vec![(1, Sku::parse("b").unwrap())])
        );
        let plan = plan_stock(
            &[line("a", 9), line("b", 1)],
            &[level("a", 1, 0), level("b", 1, 0)],
        );
        let StockPlan::Short(s) = plan else { panic!() };
        assert_eq!(
            (s.len(), s[0].line, s[0].available, s[0].requested),
            (1, 0, 1, 9)
        );
    }

    proptest! {
        /// Whatever was read, the planned condition holds for the level read, a crossing is
        /// planned exactly when the level goes from at or above the threshold to below it, and
        /// a level read in another range fails the condition.
        #[test]
        fn conditions_describe_the_range_read(available in 0u32..200, threshold in 0u32..100, q in 1u32..100, other in 0u32..200) {
            let plan = plan_stock(&[line("a", q)], &[level("a", available, threshold)]);
            if available < q {
                prop_assert!(matches!(plan, StockPlan::Short(_)));
                return Ok(());
            }
            let StockPlan::Take(moves) = plan else { panic!() };
            let m = &moves[0];
            prop_assert!(holds(m, &level("a", available, threshold)));
            prop_assert!(!holds(m, &level("a", available, threshold + 1)), "a changed threshold fails it");
            let crosses = available >= threshold && available - q < threshold;
            prop_assert_eq!(matches!(m.expect, Expect::Crosses { .. }), crosses);
            if holds(m, &level("a", other, threshold)) {
                // Writing under the same condition at another level gives the same verdict.
                let same = plan_stock(&[line("a", q)], &[level("a", other, threshold)]);
                let StockPlan::Take(again) = same else { panic!("{other} holds but is short") };
                prop_assert_eq!(again[0].expect.clone_kind(), m.expect.clone_kind());
                prop_assert!(other >= q);
            }
        }
    }

    impl Expect {
        fn clone_kind(&self) -> u8 {
            match self {
                Expect::StaysAtOrAbove { .. } => 0,
                Expect::Crosses { .. } => 1,
                Expect::StaysBelow { .. } => 2,
            }
        }
    }
}
