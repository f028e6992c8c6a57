//! Step 5: the coupons the customer chose. Goods coupons are applied here; delivery coupons are
//! checked here (validity, channel, scope, threshold) and take the fee down in step 7. A coupon
//! that cannot be used is reported with why, never an error: the customer keeps it.

use crate::{DomainResult, Money};

use super::{
    breakdown::{PricingStep, RejectedCoupon, RejectionReason},
    request::{Coupon, CouponKind, PriceRequest, Scope},
    sheet::{Rule, Sheet, checked_sum, overflow, rate_off},
    wording,
};

/// What step 5 leaves for step 7 and for the report.
#[derive(Debug, Default)]
pub(super) struct Outcome<'r> {
    /// With each coupon's position in the customer's choice.
    pub rejected: Vec<(usize, RejectedCoupon)>,
    /// Delivery coupons that passed their checks, in the order chosen.
    pub delivery: Vec<(usize, &'r Coupon)>,
}

impl Outcome<'_> {
    pub fn reject(&mut self, position: usize, coupon: &Coupon, reason: RejectionReason, shortfall: Option<Money>) {
        self.rejected.push((position, RejectedCoupon { coupon_id: coupon.id, reason, shortfall }));
    }
}

/// Runs step 5 on a sheet that went through steps 1 to 4.
pub(super) fn apply<'r>(sheet: &mut Sheet, request: &'r PriceRequest) -> DomainResult<Outcome<'r>> {
    // Thresholds are checked against the amounts after promotions, whatever coupons took first.
    let after_promotions: Vec<Money> = sheet.lines.iter().map(|line| line.amount).collect();
    let spend_on =
        |lines: &[usize]| checked_sum(lines.iter().filter_map(|&index| after_promotions.get(index).copied()));
    let mut outcome = Outcome::default();
    let mut goods: Vec<(usize, &Coupon)> = Vec::new();
    for (position, coupon) in request.coupons.iter().enumerate() {
        let chosen_before = request.coupons.iter().take(position).any(|other| other.id == coupon.id);
        if let Some(reason) = unusable(coupon, chosen_before, request) {
            outcome.reject(position, coupon, reason, None);
        } else if let CouponKind::Delivery { .. } = coupon.kind {
            // A delivery coupon takes nothing off the goods, so flash-priced lines count too.
            let lines = lines_in_scope(sheet, coupon, true);
            match short_of_threshold(coupon, &lines, spend_on(&lines)?) {
                Some((reason, shortfall)) => outcome.reject(position, coupon, reason, shortfall),
                None => outcome.delivery.push((position, coupon)),
            }
        } else {
            goods.push((position, coupon));
        }
    }

    // Category and product coupons first, then the order coupon; each group in the order chosen.
    goods.sort_by_key(|&(position, coupon)| (coupon.scope == Scope::All, position));
    let mut order_coupon_used = false;
    let mut line_has_coupon = vec![false; sheet.lines.len()];
    for (position, coupon) in goods {
        let lines = lines_in_scope(sheet, coupon, false);
        let order_level = coupon.scope == Scope::All;
        let stacked = if order_level {
            order_coupon_used
        } else {
            lines.iter().any(|&index| line_has_coupon.get(index).copied().unwrap_or(false))
        };
        let refusal = if stacked && !lines.is_empty() {
            Some((RejectionReason::NotStackable, None))
        } else {
            short_of_threshold(coupon, &lines, spend_on(&lines)?)
        };
        if let Some((reason, shortfall)) = refusal {
            outcome.reject(position, coupon, reason, shortfall);
            continue;
        }
        let discount = goods_discount(sheet, coupon, &lines)?;
        if sheet.spread(&rule(coupon, PricingStep::Coupon), &lines, discount)? == Money::ZERO {
            outcome.reject(position, coupon, RejectionReason::NoDiscount, None);
            continue;
        }
        if order_level {
            order_coupon_used = true;
        } else {
            for &index in &lines {
                if let Some(has_coupon) = line_has_coupon.get_mut(index) {
                    *has_coupon = true;
                }
            }
        }
    }
    Ok(outcome)
}

/// Why a coupon cannot be used at all: chosen twice, not valid now, not in this channel or store.
fn unusable(coupon: &Coupon, chosen_before: bool, request: &PriceRequest) -> Option<RejectionReason> {
    if chosen_before {
        Some(RejectionReason::NotStackable)
    } else if !coupon.window.contains(request.at) {
        Some(RejectionReason::Expired)
    } else if !coupon.channels.is_empty() && !coupon.channels.contains(&request.channel) {
        Some(RejectionReason::WrongChannel)
    } else if !coupon.stores.is_empty() && !coupon.stores.contains(&request.store_id) {
        Some(RejectionReason::WrongStore)
    } else {
        None
    }
}

/// The lines (indices) a coupon may count: those in its scope, flash-priced ones only when
/// `with_activity_priced`.
fn lines_in_scope(sheet: &Sheet, coupon: &Coupon, with_activity_priced: bool) -> Vec<usize> {
    (0..sheet.lines.len())
        .filter(|&index| {
            sheet
                .lines
                .get(index)
                .is_some_and(|line| (with_activity_priced || !line.activity_priced) && coupon.scope.covers(line.cart))
        })
        .collect()
}

/// Why the coupon's lines, worth `spend` after promotions, do not qualify, with the shortfall.
fn short_of_threshold(coupon: &Coupon, lines: &[usize], spend: Money) -> Option<(RejectionReason, Option<Money>)> {
    if lines.is_empty() {
        Some((RejectionReason::OutOfScope, None))
    } else if spend < coupon.threshold {
        Some((RejectionReason::ThresholdNotMet, coupon.threshold.checked_sub(spend)))
    } else {
        None
    }
}

/// What a goods coupon takes off its lines as they stand.
fn goods_discount(sheet: &Sheet, coupon: &Coupon, lines: &[usize]) -> DomainResult<Money> {
    Ok(match coupon.kind {
        CouponKind::AmountOff { amount } => amount,
        CouponKind::PercentOff { pay_bp, cap } => {
            let off = rate_off(sheet.amount_of(lines)?, pay_bp)?;
            cap.map_or(off, |cap| off.min(cap))
        }
        CouponKind::Delivery { .. } => Money::ZERO,
    })
}

fn rule(coupon: &Coupon, step: PricingStep) -> Rule {
    Rule {
        step,
        source: format!("coupon:{}", coupon.id),
        name: coupon.template_name.clone(),
        text: wording::coupon(coupon),
    }
}

/// The delivery fee after the first delivery coupon left by step 5 that takes something off it;
/// the others are rejected. Step 7, after any free-delivery threshold.
pub(super) fn take_delivery_fee(sheet: &mut Sheet, fee: Money, outcome: &mut Outcome) -> DomainResult<Money> {
    let mut fee = fee;
    let mut used = false;
    for (position, coupon) in std::mem::take(&mut outcome.delivery) {
        let CouponKind::Delivery { amount } = coupon.kind else { continue };
        if used {
            outcome.reject(position, coupon, RejectionReason::NotStackable, None);
            continue;
        }
        let discount = amount.map_or(fee, |amount| amount.min(fee));
        if discount <= Money::ZERO {
            outcome.reject(position, coupon, RejectionReason::NoDiscount, None);
            continue;
        }
        sheet.note(
            &rule(coupon, PricingStep::Delivery),
            None,
            Money::ZERO.checked_sub(discount).ok_or_else(overflow)?,
        )?;
        fee = fee.checked_sub(discount).ok_or_else(overflow)?;
        used = true;
    }
    Ok(fee)
}
