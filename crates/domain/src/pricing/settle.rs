//! Steps 6 and 7: points, capped at a share of the goods, and the delivery fee, free above a
//! threshold or taken down by a delivery coupon.

use crate::{DomainResult, Money};

use super::{
    breakdown::PricingStep,
    coupons::{self, Outcome},
    request::{Delivery, FULL_RATE_BP, PointsRedemption},
    sheet::{Rule, Sheet, money, overflow},
    wording,
};

/// Step 6: spends as many whole blocks of points as requested and allowed, spread over every
/// line (flash-priced ones too: points pay, they are not a promotion). Returns the points used
/// and what they paid.
pub(super) fn redeem_points(sheet: &mut Sheet, redemption: Option<PointsRedemption>) -> DomainResult<(i64, Money)> {
    let Some(PointsRedemption { points, rate, max_share_bp }) = redemption else { return Ok((0, Money::ZERO)) };
    let goods = sheet.goods_amount()?;
    let cap = i128::from(goods.fen()) * i128::from(max_share_bp.min(FULL_RATE_BP)) / i128::from(FULL_RATE_BP);
    // A valid rate is positive; a zero one buys nothing rather than dividing by zero.
    let wanted = i128::from(points).checked_div(i128::from(rate.points)).unwrap_or(0);
    let allowed = cap.checked_div(i128::from(rate.fen)).unwrap_or(0);
    let blocks = wanted.min(allowed).max(0);
    let (used, value) = (blocks * i128::from(rate.points), money(blocks * i128::from(rate.fen))?);
    let used = i64::try_from(used).map_err(|_| overflow())?;
    if value == Money::ZERO {
        return Ok((0, Money::ZERO));
    }
    let rule = Rule {
        step: PricingStep::Points,
        source: "points".to_owned(),
        name: wording::POINTS.to_owned(),
        text: wording::points(used, value),
    };
    let every_line: Vec<usize> = (0..sheet.lines.len()).collect();
    let paid = sheet.spread(&rule, &every_line, value)?;
    Ok((used, paid))
}

/// Step 7: the fee charged. Goods worth at least the free-delivery threshold after coupons
/// (`goods_after_coupons`, before points) travel free; otherwise the first usable delivery
/// coupon takes the fee down.
pub(super) fn delivery_fee(
    sheet: &mut Sheet,
    delivery: Option<Delivery>,
    goods_after_coupons: Money,
    outcome: &mut Outcome,
) -> DomainResult<Money> {
    let mut fee = delivery.map_or(Money::ZERO, |delivery| delivery.fee);
    let free_threshold = delivery.and_then(|delivery| delivery.free_threshold);
    if let Some(threshold) = free_threshold.filter(|&threshold| goods_after_coupons >= threshold && fee > Money::ZERO) {
        let rule = Rule {
            step: PricingStep::Delivery,
            source: "free_delivery".to_owned(),
            name: wording::FREE_DELIVERY.to_owned(),
            text: wording::free_delivery(threshold),
        };
        sheet.note(&rule, None, Money::ZERO.checked_sub(fee).ok_or_else(overflow)?)?;
        fee = Money::ZERO;
    }
    coupons::take_delivery_fee(sheet, fee, outcome)
}
