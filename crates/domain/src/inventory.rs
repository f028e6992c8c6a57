//! Stock arithmetic (进销存): the buckets a location holds for an SKU and the rules for moving
//! quantity between them.
//!
//! On hand is what is physically there and always equals the sum of the ledger's movements.
//! Part of it is spoken for: reserved (unpaid orders, open table bills), committed (paid, not
//! yet picked) or unavailable (damaged, frozen by a stocktake). What remains is available, and
//! no change may make any bucket negative or promise more than is available: that is what
//! makes overselling impossible. Stock on its way from another location is in transit and is
//! not on hand until received.

use std::fmt;

use crate::{DomainError, DomainResult};

/// A quantity of an SKU: units, or grams for goods sold by weight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Qty(i64);

impl Qty {
    pub const ZERO: Qty = Qty(0);
    /// No single movement may exceed a billion units (or a thousand tonnes in grams).
    pub const MAX: Qty = Qty(1_000_000_000);

    pub const fn new(value: i64) -> Qty {
        Qty(value)
    }

    /// A positive quantity as a caller gives it.
    pub fn positive(field: &'static str, value: i64) -> DomainResult<Qty> {
        if (1..=Self::MAX.0).contains(&value) {
            Ok(Qty(value))
        } else {
            Err(DomainError::OutOfRange { field, min: 1, max: Self::MAX.0 })
        }
    }

    pub const fn get(self) -> i64 {
        self.0
    }

    fn checked_add(self, other: Qty) -> Option<Qty> {
        self.0.checked_add(other.0).map(Qty)
    }
}

impl fmt::Display for Qty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

named_enum! {
    /// Why on-hand stock moved: the reason a ledger entry records.
    pub enum MovementKind for "kind" {
        /// 采购入库: goods received from a supplier.
        PurchaseReceipt = "purchase_receipt",
        /// 要货入库: goods received from HQ or a warehouse.
        RequisitionIn = "requisition_in",
        /// 要货出库: goods shipped to a store that asked for them.
        RequisitionOut = "requisition_out",
        /// 调拨出库: goods sent to another store (they go in transit there).
        TransferOut = "transfer_out",
        /// 调拨入库: goods received from another store (out of transit).
        TransferIn = "transfer_in",
        /// 销售: goods handed to a customer.
        Sale = "sale",
        /// 退货: goods brought back by a customer.
        Return = "return",
        /// 盘点调整: the difference a stocktake found (either sign).
        StocktakeAdjustment = "stocktake_adjustment",
        /// 损耗: damaged, expired or lost goods.
        Loss = "loss",
    }
}

impl MovementKind {
    /// The sign this kind gives on-hand stock: +1 adds, −1 removes, 0 either (adjustments).
    pub fn direction(self) -> i8 {
        match self {
            MovementKind::PurchaseReceipt
            | MovementKind::RequisitionIn
            | MovementKind::TransferIn
            | MovementKind::Return => 1,
            MovementKind::RequisitionOut | MovementKind::TransferOut | MovementKind::Sale | MovementKind::Loss => -1,
            MovementKind::StocktakeAdjustment => 0,
        }
    }
}

/// What a location holds of one SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StockLevels {
    pub on_hand: Qty,
    pub reserved: Qty,
    pub committed: Qty,
    pub unavailable: Qty,
    /// Sent by another location, not yet received; not part of on hand.
    pub in_transit: Qty,
}

/// One change to a location's stock of an SKU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StockChange {
    /// On hand moves by `delta` for `kind`; a removal may only take available stock (a sale
    /// takes committed stock instead: see [`StockChange::Sell`]).
    Move { kind: MovementKind, delta: i64 },
    /// Holds `qty` of available stock for an unpaid order or an open bill.
    Reserve(Qty),
    /// Gives a hold back (expired, cancelled, voided).
    Release(Qty),
    /// Payment turns a hold into a commitment.
    Commit(Qty),
    /// A paid commitment is cancelled before it leaves (refund before picking).
    Uncommit(Qty),
    /// Picking hands committed goods over: on hand and committed both fall.
    Sell(Qty),
    /// A sale straight from the shelf (POS): available stock leaves at once.
    SellAvailable(Qty),
    /// Marks available stock damaged or frozen (`true`), or releases it (`false`).
    SetAside(Qty, bool),
    /// Stock is on its way here.
    Dispatched(Qty),
    /// In-transit stock arrives (`received`) with `missing` units lost on the way.
    Received { received: Qty, missing: Qty },
}

/// How much each bucket moves: what one ledger entry records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StockDeltas {
    pub on_hand: i64,
    pub reserved: i64,
    pub committed: i64,
    pub unavailable: i64,
    pub in_transit: i64,
}

impl StockChange {
    /// The bucket movements of this change, after checking its own shape (quantities not
    /// negative, movements in their kind's direction).
    pub fn deltas(self) -> Result<StockDeltas, StockError> {
        let q = |qty: Qty| if qty.0 < 0 { Err(StockError::NegativeQuantity) } else { Ok(qty.0) };
        let none = StockDeltas::default();
        Ok(match self {
            StockChange::Move { kind, delta } => {
                let direction = kind.direction();
                if delta == 0 || (direction != 0 && delta.signum() != i64::from(direction)) {
                    return Err(StockError::WrongDirection);
                }
                StockDeltas { on_hand: delta, ..none }
            }
            StockChange::Reserve(qty) => StockDeltas { reserved: q(qty)?, ..none },
            StockChange::Release(qty) => StockDeltas { reserved: -q(qty)?, ..none },
            StockChange::Commit(qty) => StockDeltas { reserved: -q(qty)?, committed: q(qty)?, ..none },
            StockChange::Uncommit(qty) => StockDeltas { committed: -q(qty)?, ..none },
            StockChange::Sell(qty) => StockDeltas { on_hand: -q(qty)?, committed: -q(qty)?, ..none },
            StockChange::SellAvailable(qty) => StockDeltas { on_hand: -q(qty)?, ..none },
            StockChange::SetAside(qty, true) => StockDeltas { unavailable: q(qty)?, ..none },
            StockChange::SetAside(qty, false) => StockDeltas { unavailable: -q(qty)?, ..none },
            StockChange::Dispatched(qty) => StockDeltas { in_transit: q(qty)?, ..none },
            StockChange::Received { received, missing } => {
                let arrived = q(received)?;
                let lost = q(missing)?;
                StockDeltas {
                    on_hand: arrived,
                    in_transit: -arrived.checked_add(lost).ok_or(StockError::Overflow)?,
                    ..none
                }
            }
        })
    }
}

/// Why a stock change was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum StockError {
    #[error("only {available} available, {requested} requested")]
    Insufficient { available: Qty, requested: Qty },
    #[error("the change does not match the movement's direction")]
    WrongDirection,
    #[error("a bucket would go negative")]
    Underflow,
    #[error("quantities overflow")]
    Overflow,
    #[error("a quantity is negative")]
    NegativeQuantity,
}

impl StockLevels {
    /// On hand less everything spoken for. Never negative for levels built by [`apply`].
    ///
    /// [`apply`]: StockLevels::apply
    pub fn available(&self) -> Qty {
        Qty(self.on_hand.0 - self.reserved.0 - self.committed.0 - self.unavailable.0)
    }

    /// The levels after `change`, or why it cannot happen. Pure: the caller persists the result
    /// together with the ledger entry.
    pub fn apply(&self, change: StockChange) -> Result<StockLevels, StockError> {
        self.plus(change.deltas()?)
    }

    /// The levels moved by `deltas`, if they stay valid: no bucket below zero and nothing
    /// promised beyond what is on hand. Storage applies the same guard in its atomic update,
    /// so the rule holds however many writers race.
    pub fn plus(&self, deltas: StockDeltas) -> Result<StockLevels, StockError> {
        let add = |a: Qty, d: i64| a.0.checked_add(d).map(Qty).ok_or(StockError::Overflow);
        let next = StockLevels {
            on_hand: add(self.on_hand, deltas.on_hand)?,
            reserved: add(self.reserved, deltas.reserved)?,
            committed: add(self.committed, deltas.committed)?,
            unavailable: add(self.unavailable, deltas.unavailable)?,
            in_transit: add(self.in_transit, deltas.in_transit)?,
        };
        let spoken_for =
            [next.reserved, next.committed, next.unavailable].iter().try_fold(0i64, |sum, q| sum.checked_add(q.0));
        let spoken_for = spoken_for.ok_or(StockError::Overflow)?;
        if spoken_for > next.on_hand.0 {
            return Err(StockError::Insufficient {
                available: self.available(),
                requested: Qty(self.available().0 - next.available().0),
            });
        }
        let buckets = [next.on_hand, next.reserved, next.committed, next.unavailable, next.in_transit];
        if buckets.iter().any(|q| q.0 < 0) {
            return Err(StockError::Underflow);
        }
        Ok(next)
    }

    /// How much on hand moved between two levels: what the ledger records for a change.
    pub fn on_hand_delta(&self, after: &StockLevels) -> i64 {
        after.on_hand.0 - self.on_hand.0
    }
}

/// Sums demand per SKU so an order with two lines of one SKU asks for their total, and
/// returns the SKUs in a fixed order: locking rows in that order means two multi-line orders
/// can never wait on each other (no deadlock).
pub fn merge_demand<K: Ord + Copy>(lines: impl IntoIterator<Item = (K, Qty)>) -> Option<Vec<(K, Qty)>> {
    let mut merged: std::collections::BTreeMap<K, Qty> = std::collections::BTreeMap::new();
    for (key, qty) in lines {
        let total = merged.entry(key).or_insert(Qty::ZERO);
        *total = total.checked_add(qty)?;
    }
    Some(merged.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn levels(on_hand: i64) -> StockLevels {
        StockLevels { on_hand: Qty(on_hand), ..StockLevels::default() }
    }

    #[test]
    fn reservations_cannot_exceed_available() {
        let stock = levels(10).apply(StockChange::Reserve(Qty(7))).unwrap();
        assert_eq!(stock.available(), Qty(3));
        assert_eq!(
            stock.apply(StockChange::Reserve(Qty(4))),
            Err(StockError::Insufficient { available: Qty(3), requested: Qty(4) })
        );
        let paid = stock.apply(StockChange::Commit(Qty(7))).unwrap();
        assert_eq!((paid.reserved, paid.committed, paid.available()), (Qty(0), Qty(7), Qty(3)));
        let sold = paid.apply(StockChange::Sell(Qty(7))).unwrap();
        assert_eq!((sold.on_hand, sold.committed, sold.available()), (Qty(3), Qty(0), Qty(3)));
    }

    #[test]
    fn movements_respect_direction_and_availability() {
        let stock = levels(5);
        let receipt = StockChange::Move { kind: MovementKind::PurchaseReceipt, delta: 3 };
        assert_eq!(stock.apply(receipt).unwrap().on_hand, Qty(8));
        let backwards = StockChange::Move { kind: MovementKind::PurchaseReceipt, delta: -3 };
        assert_eq!(stock.apply(backwards), Err(StockError::WrongDirection));
        let loss = StockChange::Move { kind: MovementKind::Loss, delta: -6 };
        assert!(matches!(stock.apply(loss), Err(StockError::Insufficient { .. })));
        let count = StockChange::Move { kind: MovementKind::StocktakeAdjustment, delta: -2 };
        assert_eq!(stock.apply(count).unwrap().on_hand, Qty(3));
    }

    #[test]
    fn transfers_pass_through_transit() {
        let there = StockLevels::default().apply(StockChange::Dispatched(Qty(10))).unwrap();
        assert_eq!((there.on_hand, there.in_transit), (Qty(0), Qty(10)));
        let arrived = there.apply(StockChange::Received { received: Qty(9), missing: Qty(1) }).unwrap();
        assert_eq!((arrived.on_hand, arrived.in_transit), (Qty(9), Qty(0)));
        assert_eq!(
            there.apply(StockChange::Received { received: Qty(11), missing: Qty(0) }),
            Err(StockError::Underflow)
        );
    }

    #[test]
    fn demand_is_merged_and_ordered() {
        let merged = merge_demand([(3, Qty(1)), (1, Qty(2)), (3, Qty(4))]).unwrap();
        assert_eq!(merged, vec![(1, Qty(2)), (3, Qty(5))]);
    }

    fn change() -> impl Strategy<Value = StockChange> {
        let qty = (0i64..50).prop_map(Qty);
        let kind = proptest::sample::select(MovementKind::ALL.to_vec());
        prop_oneof![
            (kind, -50i64..50).prop_map(|(kind, delta)| StockChange::Move { kind, delta }),
            qty.clone().prop_map(StockChange::Reserve),
            qty.clone().prop_map(StockChange::Release),
            qty.clone().prop_map(StockChange::Commit),
            qty.clone().prop_map(StockChange::Uncommit),
            qty.clone().prop_map(StockChange::Sell),
            qty.clone().prop_map(StockChange::SellAvailable),
            (qty.clone(), any::<bool>()).prop_map(|(q, on)| StockChange::SetAside(q, on)),
            qty.clone().prop_map(StockChange::Dispatched),
            (qty.clone(), qty).prop_map(|(received, missing)| StockChange::Received { received, missing }),
        ]
    }

    proptest! {
        /// Whatever sequence of changes is attempted, accepted ones keep every bucket
        /// non-negative and available never below zero, and on hand equals the sum of the
        /// on-hand deltas (the ledger).
        #[test]
        fn no_sequence_oversells(changes in proptest::collection::vec(change(), 0..200)) {
            let mut stock = StockLevels::default();
            let mut ledger_sum = 0i64;
            for change in changes {
                if let Ok(next) = stock.apply(change) {
                    ledger_sum += stock.on_hand_delta(&next);
                    stock = next;
                }
                prop_assert!(stock.available() >= Qty::ZERO, "{stock:?}");
                prop_assert!(stock.reserved >= Qty::ZERO && stock.committed >= Qty::ZERO);
                prop_assert!(stock.unavailable >= Qty::ZERO && stock.in_transit >= Qty::ZERO);
                prop_assert_eq!(stock.on_hand.get(), ledger_sum);
            }
        }
    }
}
