//! Points (积分): how many a paid order earns, how many a refund takes back, and how many have
//! expired. Points move only through ledger entries; a balance is the sum of its ledger.
//!
//! Refunds take points back cumulatively: after refunding `r` of an order that paid `p` and
//! earned `e`, `⌊e·r/p⌋` points have been taken back in all. However a refund is split, a full
//! refund takes back exactly what was earned.
//!
//! Expiry is first in, first out: every point spent, taken back or expired consumes the oldest
//! points first, so what has expired by now is what is left of the lots whose time has come.
//!
//! Tiers (会员等级) are earned by what a member spent in the last twelve months: a payment that
//! crosses a higher threshold upgrades at once; the periodic review sets every member to the
//! tier their spend holds, so a member who spends less is downgraded then, never mid-year.

use crate::Expected;
use crate::{DomainError, DomainResult, Money, ids::TierId, time::Timestamp};

/// How far back spend counts towards a tier.
pub const TIER_WINDOW_DAYS: i64 = 365;

/// A membership tier and its rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub id: TierId,
    /// Unique, e.g. `gold`.
    pub code: String,
    pub name: String,
    /// Spend in the last twelve months that reaches this tier (zero: every member).
    pub spend_threshold: Money,
    /// Points earned per point of the base rule, in basis points (15_000: ×1.5).
    pub points_multiplier_bp: u32,
    /// Deliveries are free.
    pub free_delivery: bool,
    /// Sold as a paid membership (付费会员): the price of a term and its length.
    pub paid: Option<PaidTerms>,
    /// Points given on the member's birthday (生日礼), once a year.
    pub birthday_points: i64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Tier {
    pub const MAX_MULTIPLIER_BP: u32 = 100_000;

    pub fn validate_multiplier(bp: i64) -> DomainResult<u32> {
        u32::try_from(bp).ok().filter(|bp| (1..=Self::MAX_MULTIPLIER_BP).contains(bp)).ok_or(DomainError::OutOfRange {
            field: "points_multiplier_bp",
            min: 1,
            max: i64::from(Self::MAX_MULTIPLIER_BP),
        })
    }
}

/// The tier a twelve-month spend holds: the one with the highest threshold it reaches.
pub fn tier_for(tiers: &[Tier], spend: Money) -> Option<&Tier> {
    tiers.iter().filter(|t| t.spend_threshold <= spend).max_by_key(|t| (t.spend_threshold, t.code.clone()))
}

/// A paid membership's terms: what a term costs and how many days it lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidTerms {
    pub price: Money,
    pub days: i64,
}

impl PaidTerms {
    pub fn new(price: Option<i64>, days: Option<i64>) -> DomainResult<Option<PaidTerms>> {
        match (price, days) {
            (None, None) => Ok(None),
            (Some(price), Some(days)) if (1..=3_660).contains(&days) && price > 0 => {
                Ok(Some(PaidTerms { price: Money::price("paid_price", price)?, days }))
            }
            (Some(_), Some(_)) => Err(DomainError::OutOfRange { field: "paid_days", min: 1, max: 3_660 }),
            _ => Err(DomainError::Malformed { field: "paid_price", expected: Expected::PaidPriceAndDays }),
        }
    }
}

/// The tier a member holds: the better of what their spend reaches and a tier they bought and
/// whose term is running ("better" is the higher threshold).
pub fn effective_tier(tiers: &[Tier], spend: Money, bought: Option<TierId>) -> Option<&Tier> {
    let bought = bought.and_then(|id| tiers.iter().find(|t| t.id == id));
    match (tier_for(tiers, spend), bought) {
        (Some(earned), Some(bought)) => {
            Some(if (bought.spend_threshold, &bought.code) > (earned.spend_threshold, &earned.code) {
                bought
            } else {
                earned
            })
        }
        (earned, bought) => earned.or(bought),
    }
}

/// Points a payment earns for a member of a tier with `multiplier_bp`, rounded down.
pub fn earned_at(paid: Money, rule: PointsRule, multiplier_bp: u32) -> i64 {
    let base = i128::from(earned(paid, rule));
    i64::try_from(base * i128::from(multiplier_bp) / 10_000).unwrap_or(i64::MAX)
}

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

/// The largest single top-up of stored value (储值): ¥50,000, as prepaid-card rules cap what a
/// merchant takes without identity checks.
pub const MAX_TOP_UP: Money = Money::from_fen(5_000_000);

/// Checks a top-up: a positive amount up to [`MAX_TOP_UP`] and a bonus (充值赠送) of at most the
/// amount itself.
pub fn check_top_up(amount: Money, bonus: Money) -> DomainResult<()> {
    if amount <= Money::ZERO || amount > MAX_TOP_UP {
        return Err(DomainError::OutOfRange { field: "amount", min: 1, max: MAX_TOP_UP.fen() });
    }
    if bonus < Money::ZERO || bonus > amount {
        return Err(DomainError::OutOfRange { field: "bonus", min: 0, max: amount.fen() });
    }
    Ok(())
}

/// A line of an order as far as points spent on it go: the value the points paid of it (分,
/// zero or more), its quantity and how much of it has been refunded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PointsLine {
    pub points_value: Money,
    pub quantity: i64,
    pub refunded_quantity: i64,
}

/// Points spent on an order to give back now, given what was redeemed on it and what was given
/// back already: everything when the order is cancelled or every line refunded, otherwise the
/// refunded units' share of the value points paid, cumulatively (like [`to_take_back`]), so
/// however the refunds are split the last one gives back exactly what was spent.
pub fn to_restore(redeemed: i64, restored: i64, lines: &[PointsLine], cancelled: bool) -> i64 {
    if redeemed <= 0 {
        return 0;
    }
    let all_refunded = lines.iter().all(|line| line.refunded_quantity >= line.quantity);
    let target = if cancelled || all_refunded {
        redeemed
    } else {
        let share = |line: &PointsLine| {
            let value = i128::from(line.points_value.fen().max(0));
            let refunded = i128::from(line.refunded_quantity.clamp(0, line.quantity.max(0)));
            if line.quantity <= 0 { 0 } else { value * refunded / i128::from(line.quantity) }
        };
        let total: i128 = lines.iter().map(|line| i128::from(line.points_value.fen().max(0))).sum();
        let refunded: i128 = lines.iter().map(share).sum();
        if total == 0 { 0 } else { i64::try_from(i128::from(redeemed) * refunded / total).unwrap_or(redeemed) }
    };
    (target.min(redeemed) - restored).max(0)
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
    fn spent_points_come_back_with_the_refunded_lines() {
        let line = |value, quantity, refunded| PointsLine {
            points_value: Money::from_fen(value),
            quantity,
            refunded_quantity: refunded,
        };
        // 300 points paid ¥2 of line 1 and ¥1 of line 2.
        let lines = [line(200, 2, 1), line(100, 1, 0)];
        assert_eq!(to_restore(300, 0, &lines, false), 100);
        assert_eq!(to_restore(300, 100, &lines, false), 0);
        assert_eq!(to_restore(300, 100, &[line(200, 2, 2), line(100, 1, 0)], false), 100);
        assert_eq!(to_restore(300, 200, &[line(200, 2, 2), line(100, 1, 1)], false), 100);
        assert_eq!(to_restore(300, 0, &lines, true), 300);
        assert_eq!(to_restore(0, 0, &lines, true), 0);
    }

    proptest! {
        #[test]
        fn refunds_in_any_split_give_back_exactly_what_was_spent(
            redeemed in 0i64..100_000,
            lines in proptest::collection::vec((0i64..50_000, 1i64..6), 1..5),
            order in proptest::collection::vec(0usize..5, 0..30),
        ) {
            let mut state: Vec<PointsLine> = lines
                .iter()
                .map(|&(value, quantity)| PointsLine { points_value: Money::from_fen(value), quantity, refunded_quantity: 0 })
                .collect();
            let mut restored = 0;
            for pick in order.into_iter().chain(0..state.len() * 6) {
                let index = pick % state.len();
                if state[index].refunded_quantity < state[index].quantity {
                    state[index].refunded_quantity += 1;
                    let due = to_restore(redeemed, restored, &state, false);
                    prop_assert!(due >= 0);
                    restored += due;
                    prop_assert!(restored <= redeemed);
                }
            }
            prop_assert_eq!(restored, redeemed);
        }
    }

    #[test]
    fn a_yuan_a_point_rounded_down() {
        let rule = PointsRule::default();
        assert_eq!(earned(Money::from_fen(12_399), rule), 123);
        assert_eq!(earned(Money::from_fen(99), rule), 0);
        assert_eq!(earned(Money::from_fen(-100), rule), 0);
    }

    #[test]
    fn tiers_follow_spend_and_multiply_points() {
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let tier = |code: &str, threshold: i64, bp: u32| Tier {
            id: TierId::new(),
            code: code.into(),
            name: code.into(),
            spend_threshold: Money::from_fen(threshold),
            points_multiplier_bp: bp,
            free_delivery: false,
            paid: None,
            birthday_points: 0,
            created_at: at,
            updated_at: at,
        };
        let tiers = [tier("gold", 500_000, 15_000), tier("silver", 0, 10_000), tier("platinum", 2_000_000, 20_000)];
        let (gold, platinum) = (tiers[0].id, tiers[2].id);
        let held = |spend: i64, bought| effective_tier(&tiers, Money::from_fen(spend), bought).map(|t| t.code.as_str());
        assert_eq!(held(0, Some(gold)), Some("gold"), "a bought tier lifts a member");
        assert_eq!(held(3_000_000, Some(gold)), Some("platinum"), "but never holds them below their spend");
        assert_eq!(held(0, Some(platinum)), Some("platinum"));
        assert_eq!(held(0, None), Some("silver"));
        assert_eq!(PaidTerms::new(Some(9_900), Some(365)).unwrap().map(|t| t.days), Some(365));
        assert!(PaidTerms::new(Some(9_900), None).is_err() && PaidTerms::new(Some(0), Some(30)).is_err());
        assert_eq!(tier_for(&tiers, Money::from_fen(0)).map(|t| t.code.as_str()), Some("silver"));
        assert_eq!(tier_for(&tiers, Money::from_fen(500_000)).map(|t| t.code.as_str()), Some("gold"));
        assert_eq!(tier_for(&tiers[..1], Money::from_fen(10)), None, "below every threshold");
        assert_eq!(earned_at(Money::from_fen(12_399), PointsRule::default(), 15_000), 184);
        assert!(Tier::validate_multiplier(0).is_err() && Tier::validate_multiplier(15_000).is_ok());
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
