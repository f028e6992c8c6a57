//! What a quote answers: every line with each adjustment and the rule behind it, the discount
//! of each step, the rules that applied and the coupons refused with why. A priced line turns
//! into the order's [`LineBreakdown`] and answers partial refunds.

use uuid::Uuid;

use crate::{
    Money,
    ids::SkuId,
    order::{self, Adjustment, LineBreakdown},
};

named_enum! {
    /// The steps of the pipeline, in order (see the stacking policy in [`super`]).
    pub enum PricingStep for "step" {
        /// 1. A flash-sale or activity price.
        ActivityPrice = "activity_price",
        /// 2. The member price or a limited-time price, whichever is lower.
        MemberOrTimeLimitedPrice = "member_or_time_limited_price",
        /// 3. Buy N get M, second item, bundles.
        ItemPromotion = "item_promotion",
        /// 4. 满减 and 满折 ladders.
        OrderPromotion = "order_promotion",
        /// 5. Coupons on goods.
        Coupon = "coupon",
        /// 6. Points.
        Points = "points",
        /// 7. Free delivery and delivery coupons.
        Delivery = "delivery",
    }
}

/// What each step took off, zero or negative.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StepDiscounts {
    pub activity_price: Money,
    pub member_or_time_limited_price: Money,
    pub item_promotions: Money,
    pub order_promotions: Money,
    pub coupons: Money,
    pub points: Money,
    /// Off the delivery fee, not off the goods.
    pub delivery: Money,
}

impl StepDiscounts {
    pub fn get(&self, step: PricingStep) -> Money {
        match step {
            PricingStep::ActivityPrice => self.activity_price,
            PricingStep::MemberOrTimeLimitedPrice => self.member_or_time_limited_price,
            PricingStep::ItemPromotion => self.item_promotions,
            PricingStep::OrderPromotion => self.order_promotions,
            PricingStep::Coupon => self.coupons,
            PricingStep::Points => self.points,
            PricingStep::Delivery => self.delivery,
        }
    }

    pub(super) fn get_mut(&mut self, step: PricingStep) -> &mut Money {
        match step {
            PricingStep::ActivityPrice => &mut self.activity_price,
            PricingStep::MemberOrTimeLimitedPrice => &mut self.member_or_time_limited_price,
            PricingStep::ItemPromotion => &mut self.item_promotions,
            PricingStep::OrderPromotion => &mut self.order_promotions,
            PricingStep::Coupon => &mut self.coupons,
            PricingStep::Points => &mut self.points,
            PricingStep::Delivery => &mut self.delivery,
        }
    }
}

/// A change to a line's amount and the rule that made it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineAdjustment {
    pub step: PricingStep,
    /// Stable, for machines: `activity_price:{id}`, `member_price`, `time_limited_price:{id}`,
    /// `promotion:{id}`, `coupon:{id}`, `points`.
    pub source: String,
    /// For people, as a receipt prints it: `满200减30`, `第二件5折`, `会员价`.
    pub rule: String,
    /// Negative: every adjustment is a discount.
    pub amount: Money,
}

/// A cart line, priced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PricedLine {
    pub line_no: i32,
    pub sku_id: SkuId,
    /// Units, or grams for goods sold by weight.
    pub quantity: i64,
    pub sold_by_weight: bool,
    /// The regular price, per unit or per kilogram.
    pub unit_price: Money,
    /// `unit_price` × `quantity`, rounded half up once for goods sold by weight.
    pub base_amount: Money,
    /// In pipeline order.
    pub adjustments: Vec<LineAdjustment>,
    /// `base_amount` + Σ `adjustments`; never negative.
    pub amount: Money,
}

impl PricedLine {
    /// The line as an order stores it: the same amounts, with each adjustment's source.
    pub fn to_line_breakdown(&self) -> LineBreakdown {
        LineBreakdown {
            unit_price: self.unit_price,
            quantity: self.quantity,
            sold_by_weight: self.sold_by_weight,
            base_amount: self.base_amount,
            adjustments: self
                .adjustments
                .iter()
                .map(|adjustment| Adjustment { source: adjustment.source.clone(), amount: adjustment.amount })
                .collect(),
            amount: self.amount,
        }
    }

    /// What to give back for `quantity` more units (grams for goods sold by weight) when
    /// `refunded_quantity` units worth `refunded_amount` were refunded before. However the line
    /// is refunded, in however many parts, the parts sum to exactly its `amount`; `None` when
    /// `quantity` is not positive or more than what remains (see [`order::refund_amount`]).
    pub fn refund(&self, refunded_quantity: i64, refunded_amount: Money, quantity: i64) -> Option<Money> {
        order::refund_amount(self.amount, self.quantity, refunded_quantity, refunded_amount, quantity)
    }
}

/// A rule that gave a discount, with its total and the lines it touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedRule {
    pub step: PricingStep,
    /// As in [`LineAdjustment::source`]; also `free_delivery` for the free-delivery threshold.
    pub source: String,
    /// The merchant's name: the promotion's name, the coupon's template name.
    pub name: String,
    pub rule: String,
    /// Negative.
    pub amount: Money,
    /// The lines it adjusted; empty when it took the delivery fee down.
    pub line_nos: Vec<i32>,
}

named_enum! {
    /// Why a chosen coupon was not used. The coupon stays in the wallet.
    pub enum RejectionReason for "reason" {
        /// The lines in scope, after promotions, come to less than the threshold.
        ThresholdNotMet = "threshold_not_met",
        /// No line it may apply to: none in its scope, or only flash- and activity-priced ones.
        OutOfScope = "out_of_scope",
        /// Another coupon of the same place (order, delivery, or the same lines) was chosen first.
        NotStackable = "not_stackable",
        /// Not valid at the instant priced (expired, or not yet valid).
        Expired = "expired",
        /// Not redeemable in this channel.
        WrongChannel = "wrong_channel",
        /// Not redeemable in this store.
        WrongStore = "wrong_store",
        /// It would take nothing off: delivery is already free, or nothing is left to pay.
        NoDiscount = "no_discount",
    }
}

/// A chosen coupon the quote did not use, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RejectedCoupon {
    pub coupon_id: Uuid,
    pub reason: RejectionReason,
    /// For [`RejectionReason::ThresholdNotMet`]: how much more to spend in scope (还差¥x可用).
    pub shortfall: Option<Money>,
}

/// A priced cart: what the customer pays and why.
///
/// Always `Σ lines.amount + delivery_fee == total_payable` and
/// `subtotal + Σ goods discounts (steps 1–6) == Σ lines.amount`, to the 分.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceBreakdown {
    /// In the cart's order.
    pub lines: Vec<PricedLine>,
    /// Σ regular amounts.
    pub subtotal: Money,
    pub discounts: StepDiscounts,
    pub points_used: i64,
    /// What the points paid (equal to `-discounts.points`).
    pub points_value: Money,
    /// The fee charged, after free delivery or a delivery coupon.
    pub delivery_fee: Money,
    pub total_payable: Money,
    /// In pipeline order.
    pub applied: Vec<AppliedRule>,
    /// In the order the coupons were chosen.
    pub rejected_coupons: Vec<RejectedCoupon>,
}
