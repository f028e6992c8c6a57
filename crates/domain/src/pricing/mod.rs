//! The price engine: from a cart, the customer, the channel, the instant, the promotions in
//! force, the coupons and points chosen and the delivery fee, to a [`PriceBreakdown`] that says
//! what every line costs and which rule took off what.
//!
//! [`quote`] is a pure, deterministic function: no I/O, no clock (the instant is an input), no
//! floats, no panics. The same request always gives the same breakdown, whatever the order of
//! its promotions. Invalid input (a zero quantity, a negative price, a rate above 100%) is a
//! [`DomainError`]; a coupon that cannot be used is not an error but a [`RejectedCoupon`].
//!
//! # Stacking policy
//!
//! The steps run in this order; each works on the amounts the previous ones left.
//!
//! | # | Step | What applies | Judged on |
//! |---|------|--------------|-----------|
//! | 1 | Activity price (秒杀价 / 活动价) | The line's flash or activity price, when below its regular price. The line then takes nothing from steps 2–5. | Regular price |
//! | 2 | Member or time-limited price | The lowest of the member price (members only) and the limited-time prices (限时特价) that reach the line. One price, never two discounts. | Regular price |
//! | 3 | Item promotions | Buy N get M (the cheapest units free), second item at X% (第二件X折), bundle price (组合价). At most one per line; not for goods sold by weight. | Unit prices after step 2 |
//! | 4 | Order promotions | 满减 and 满折 ladders, the highest tier reached (满减 optionally per each threshold). At most one of each kind per line, so one 满减 and one 满折 may stack. | Thresholds: the ladder's lines after step 3. Discounts: current amounts |
//! | 5 | Coupons | Category and product coupons first, at most one per line; then at most one order coupon (scope all). Delivery coupons are checked here and used in step 7. | Thresholds: the coupon's lines after step 4. Discounts: current amounts |
//! | 6 | Points | Whole blocks of points, at most `max_share_bp` of the goods. Spread over every line, flash-priced ones included. | Goods after step 5 |
//! | 7 | Delivery | Free at or above the free-delivery threshold; otherwise at most one delivery coupon takes the fee down. | Goods after step 5, before points |
//!
//! Across the steps:
//!
//! - **Flash and activity prices stand alone.** A line with an activity price takes no member
//!   or time-limited price, no promotion and no goods coupon; a coupon whose scope holds only
//!   such lines is `out_of_scope`. Delivery coupons and points do count those lines.
//! - **Who gets a line.** Promotions in force (valid at the instant, meant for this customer)
//!   are ranked by priority, highest first, then by id. In that order each promotion takes the
//!   lines it reaches (its scope, and for a limited-time price the SKUs it prices below the
//!   regular and member price), except lines that an **exclusive** promotion took before it. An
//!   exclusive promotion takes only lines no promotion took before it, and no other promotion
//!   applies to its lines. Member prices, coupons and points are not promotions: exclusivity
//!   does not touch them.
//! - **No blocking for nothing.** A promotion that takes lines but in the end gives nothing
//!   (threshold not met, no complete bundle) is withdrawn and the quote recomputed without it.
//! - **Coupons.** Of two coupons that cannot stack (two order coupons, two category or product
//!   coupons on the same line, two delivery coupons, the same coupon twice) the first chosen
//!   that applies wins; the other is `not_stackable`. A coupon that would give nothing is
//!   `no_discount`, so the customer keeps it.
//! - **Allocation.** A discount on several lines (a ladder, a coupon, points, a bundle saving)
//!   is spread in proportion to their current amounts in whole 分 by the largest-remainder
//!   method, ties to the larger line and then the lower line number ([`allocate()`]). Lines sum
//!   to the order exactly and never go below zero.
//! - **Rounding.** Goods sold by weight are extended once per price, half up
//!   ([`LineBreakdown::price`](crate::order::LineBreakdown::price)); a percentage is rounded
//!   half up to the 分 once per application; everything else is exact.
//!
//! Each line lists its adjustments with a stable `source` (`activity_price:{id}`,
//! `member_price`, `time_limited_price:{id}`, `promotion:{id}`, `coupon:{id}`, `points`) and
//! the rule in words (`满200减30`); [`PricedLine::to_line_breakdown`] stores it on an order, and
//! [`PricedLine::refund`] answers partial refunds.

mod allocate;
mod breakdown;
mod coupons;
mod promotions;
mod request;
mod settle;
mod sheet;
mod wording;

#[cfg(test)]
mod tests;

pub use allocate::allocate;
pub use breakdown::{
    AppliedRule, LineAdjustment, PriceBreakdown, PricedLine, PricingStep, RejectedCoupon, RejectionReason,
    StepDiscounts,
};
pub use request::{
    ActivityPrice, AmountOffTier, Audience, BundleItem, CartLine, Coupon, CouponKind, Customer, Delivery, FULL_RATE_BP,
    PercentOffTier, PointsRate, PointsRedemption, PriceRequest, Promotion, PromotionKind, Scope, SkuPrice, TimeWindow,
};
pub use wording::coupon_rule;

use crate::DomainResult;
use sheet::{Rule, Sheet, checked_sum, overflow};

/// Prices a cart by the stacking policy above.
pub fn quote(request: &PriceRequest) -> DomainResult<PriceBreakdown> {
    request.validate()?;
    let mut sheet = Sheet::new(&request.lines)?;
    activity_prices(&mut sheet)?;
    let mut sheet = promotions::apply(&sheet, request)?;
    let mut outcome = coupons::apply(&mut sheet, request)?;
    let goods_after_coupons = sheet.goods_amount()?;
    let (points_used, points_value) = settle::redeem_points(&mut sheet, request.points)?;
    let delivery_fee = settle::delivery_fee(&mut sheet, request.delivery, goods_after_coupons, &mut outcome)?;

    let goods = sheet.goods_amount()?;
    let total_payable = goods.checked_add(delivery_fee).ok_or_else(overflow)?;
    let mut rejected = outcome.rejected;
    rejected.sort_by_key(|&(position, _)| position);
    let (discounts, applied) = (sheet.discounts, std::mem::take(&mut sheet.applied));
    let lines = sheet.into_priced_lines();
    Ok(PriceBreakdown {
        subtotal: checked_sum(lines.iter().map(|line| line.base_amount))?,
        lines,
        discounts,
        points_used,
        points_value,
        delivery_fee,
        total_payable,
        applied,
        rejected_coupons: rejected.into_iter().map(|(_, rejection)| rejection).collect(),
    })
}

/// Step 1: each line with an activity price below its regular price sells at it.
fn activity_prices(sheet: &mut Sheet) -> DomainResult<()> {
    for index in 0..sheet.lines.len() {
        let Some(activity) = sheet.lines.get(index).and_then(|line| line.cart.activity_price) else { continue };
        let rule = Rule {
            step: PricingStep::ActivityPrice,
            source: format!("activity_price:{}", activity.activity_id),
            name: wording::ACTIVITY_PRICE.to_owned(),
            text: wording::ACTIVITY_PRICE.to_owned(),
        };
        sheet.reprice(&rule, index, activity.unit_price)?;
        if let Some(line) = sheet.lines.get_mut(index) {
            line.activity_priced = activity.unit_price < line.cart.unit_price;
        }
    }
    Ok(())
}
