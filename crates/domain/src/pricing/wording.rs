//! How the breakdown names each rule for people: the short Chinese forms receipts and mall pages
//! print (满200减30, 第二件5折, 8.5折). Machines match on sources, never on these words.

use crate::Money;

use super::request::{AmountOffTier, Coupon, CouponKind, FULL_RATE_BP, PercentOffTier, PromotionKind};

pub(super) const ACTIVITY_PRICE: &str = "活动价";
pub(super) const MEMBER_PRICE: &str = "会员价";
pub(super) const TIME_LIMITED_PRICE: &str = "限时特价";
pub(super) const POINTS: &str = "积分抵扣";
pub(super) const FREE_DELIVERY: &str = "免运费";

/// A promotion by its kind: `限时特价`, `买2送1`, `第二件5折`, `组合价¥29.90`. A ladder is
/// named by the tier reached instead: see [`amount_off_tier`] and [`percent_off_tier`].
pub(super) fn promotion(kind: &PromotionKind) -> String {
    match kind {
        PromotionKind::LimitedTimePrice { .. } => TIME_LIMITED_PRICE.to_owned(),
        PromotionKind::BuyGetFree { buy, free } => format!("买{buy}送{free}"),
        PromotionKind::SecondItem { pay_bp: 0 } => "第二件免费".to_owned(),
        PromotionKind::SecondItem { pay_bp } => format!("第二件{}", zhe(*pay_bp)),
        PromotionKind::Bundle { price, .. } => format!("组合价{price}"),
        PromotionKind::AmountOffLadder { .. } => "满减".to_owned(),
        PromotionKind::PercentOffLadder { .. } => "满折".to_owned(),
    }
}

/// `满200减30`, `每满100减10`, `立减5`.
pub(super) fn amount_off_tier(tier: AmountOffTier, per_each: bool) -> String {
    let (threshold, amount) = (yuan(tier.threshold), yuan(tier.amount));
    match (per_each, tier.threshold == Money::ZERO) {
        (true, _) => format!("每满{threshold}减{amount}"),
        (false, true) => format!("立减{amount}"),
        (false, false) => format!("满{threshold}减{amount}"),
    }
}

/// `满300打9折`, or `9折` from the first 分.
pub(super) fn percent_off_tier(tier: PercentOffTier) -> String {
    spend_at_least(tier.threshold, zhe(tier.pay_bp), "打")
}

pub(super) fn coupon(coupon: &Coupon) -> String {
    coupon_rule(coupon.kind, coupon.threshold)
}

/// A coupon's rule as wallets and receipts print it: `满200减30`, `无门槛减5`,
/// `满100打8折，最高减20`, `满29免运费`, `运费减5`.
pub fn coupon_rule(kind: CouponKind, threshold: Money) -> String {
    match kind {
        CouponKind::AmountOff { amount } if threshold == Money::ZERO => format!("无门槛减{}", yuan(amount)),
        CouponKind::AmountOff { amount } => format!("满{}减{}", yuan(threshold), yuan(amount)),
        CouponKind::PercentOff { pay_bp, cap } => {
            let rate = spend_at_least(threshold, zhe(pay_bp), "打");
            match cap {
                Some(cap) => format!("{rate}，最高减{}", yuan(cap)),
                None => rate,
            }
        }
        CouponKind::Delivery { amount: None } => spend_at_least(threshold, FREE_DELIVERY.to_owned(), ""),
        CouponKind::Delivery { amount: Some(amount) } => {
            spend_at_least(threshold, format!("运费减{}", yuan(amount)), "")
        }
    }
}

/// `满39免运费`.
pub(super) fn free_delivery(threshold: Money) -> String {
    spend_at_least(threshold, FREE_DELIVERY.to_owned(), "")
}

/// `1000积分抵¥10.00`.
pub(super) fn points(points: i64, value: Money) -> String {
    format!("{points}积分抵{value}")
}

fn spend_at_least(threshold: Money, benefit: String, verb: &str) -> String {
    if threshold == Money::ZERO { benefit } else { format!("满{}{verb}{benefit}", yuan(threshold)) }
}

/// `200`, `29.9`, `0.05`: yuan as promotions write them, without trailing zeros.
pub(super) fn yuan(amount: Money) -> String {
    let text = amount.to_yuan_string();
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// `9折`, `8.5折`, `8.88折`: the share paid, in tenths (9,000 bp is 9折).
pub(super) fn zhe(pay_bp: u32) -> String {
    let per_tenth = FULL_RATE_BP / 10;
    let (tenths, rest) = (pay_bp / per_tenth, pay_bp % per_tenth);
    if rest == 0 {
        return format!("{tenths}折");
    }
    let decimals = format!("{rest:03}");
    format!("{tenths}.{}折", decimals.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_amounts_and_rates_as_merchants_do() {
        let cases = [(20_000, "200"), (2_990, "29.9"), (5, "0.05"), (0, "0"), (1_000, "10")];
        for (fen, text) in cases {
            assert_eq!(yuan(Money::from_fen(fen)), text);
        }
        for (bp, text) in [(9_000, "9折"), (8_500, "8.5折"), (8_880, "8.88折"), (500, "0.5折"), (0, "0折")] {
            assert_eq!(zhe(bp), text);
        }
        let tier = AmountOffTier { threshold: Money::from_fen(20_000), amount: Money::from_fen(3_000) };
        assert_eq!(amount_off_tier(tier, false), "满200减30");
        assert_eq!(amount_off_tier(tier, true), "每满200减30");
        let tier = PercentOffTier { threshold: Money::from_fen(30_000), pay_bp: 9_000 };
        assert_eq!(percent_off_tier(tier), "满300打9折");
    }
}
