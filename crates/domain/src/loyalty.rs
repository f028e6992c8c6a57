//! Points (积分): how many a paid order earns, how many a refund takes back, and how many have
//! expired. Points move only through ledger entries; a balance is the sum of its ledger.
//!
//! Refunds take points back cumulatively: after refunding `r` of an order that paid `p` and
//! earned `e`, `⌊e·r/p⌋` points have been taken back in all. However a refund is split, a full
//! refund takes back exactly what was earned.
//!
//! Expiry is first in, first out: every point spent, taken back or expired consumes the oldest
//! points first, so what has expired by now is what is left of the lots whose time has come.

use crate::Money;

/// How a chain awards points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsRule {
    /// 分 of payment per point (100: one point per yuan).
    pub fen_per_point: i64,
    /// Days a point lives after it is earned.
    pub lifetime_days: i64,
}

impl Default for PointsRule {
    fn default() -> Self {
        PointsRule { fen_per_point: 100, lifetime_days: 365 }
    }
}

/// Points a payment earns, rounded down (no points for a part of a yuan).
pub fn earned(paid: Money, rule: PointsRule) -> i64 {
    if rule.fen_per_point <= 0 || paid.fen() <= 0 { 0 } else { paid.fen() / rule.fen_per_point }
}

/// Points to take back now, given the order's payment, what it earned, what has been refunded in
/// all (this refund included) and what was already taken back.
pub fn to_take_back(paid: Money, earned: i64, refunded_total: Money, taken_back: i64) -> i64 {
    if paid.fen() <= 0 || earned <= 0 {
        return 0;
    }
    let refunded = refunded_total.fen().clamp(0, paid.fen());
    let due = i128::from(earned) * i128::from(refunded) / i128::from(paid.fen());
    (i64::try_from(due).unwrap_or(earned) - taken_back).max(0)
}

/// Points that have expired and not yet been written off: what remains of the lots whose time
/// has come once every debit so far (spent, taken back, expired) has consumed the oldest first.
/// `expired_lots` is the sum of those lots; `debits` the sum of every debit as a positive number.
pub fn to_expire(expired_lots: i64, debits: i64) -> i64 {
    (expired_lots - debits.max(0)).max(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_yuan_a_point_rounded_down() {
        let rule = PointsRule::default();
        assert_eq!(earned(Money::from_fen(12_399), rule), 123);
        assert_eq!(earned(Money::from_fen(99), rule), 0);
        assert_eq!(earned(Money::from_fen(-100), rule), 0);
    }

    #[test]
    fn expiry_is_first_in_first_out() {
        // 100 earned a year ago (expired), 50 since; 30 spent: 70 of the old lot expire.
        assert_eq!(to_expire(100, 30), 70);
        // Once written off, the expiry is itself a debit: nothing more expires.
        assert_eq!(to_expire(100, 30 + 70), 0);
        assert_eq!(to_expire(100, 150), 0, "spending beyond the old lot eats into the new one");
    }

    proptest! {
        /// However an order is refunded in parts, the points taken back never exceed what was
        /// earned, and a full refund takes back exactly that.
        #[test]
        fn refunds_take_back_exactly_what_was_earned(paid in 1i64..10_000_000, parts in proptest::collection::vec(1i64..1_000, 1..10)) {
            let paid = Money::from_fen(paid);
            let earned = earned(paid, PointsRule::default());
            let whole: i64 = parts.iter().sum();
            let (mut refunded, mut taken) = (0i64, 0i64);
            for (i, part) in parts.iter().enumerate() {
                refunded = if i + 1 == parts.len() { paid.fen() } else { refunded + paid.fen() * part / whole };
                let now = to_take_back(paid, earned, Money::from_fen(refunded.min(paid.fen())), taken);
                prop_assert!(now >= 0);
                taken += now;
                prop_assert!(taken <= earned);
            }
            prop_assert_eq!(taken, earned);
        }
    }
}
