//! Price quotes: the engine's explained breakdown of a cart, without an order.

use axum::{extract::State, response::Response};
use quanyu_app::{LineDraft, QuoteDraft};
use quanyu_domain::{
    ids::{CustomerId, SkuId, StoreId},
    pricing::{AppliedRule, LineAdjustment, PriceBreakdown, PricedLine, RejectedCoupon},
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::ok;
use crate::{
    ApiError, AppState,
    extract::{Auth, JsonBody},
};

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteLineIn {
    sku_id: Uuid,
    /// Units, or grams for goods sold by weight.
    quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuoteIn {
    store_id: Uuid,
    /// delivery, pickup, pos, scan_to_buy, table_pay_first, table_eat_first or appointment.
    channel: String,
    lines: Vec<QuoteLineIn>,
    /// The member buying: member prices apply and points may be redeemed.
    customer_id: Option<Uuid>,
    /// Points to redeem: 100 to the yuan, at most half the goods.
    points: Option<i64>,
    /// Coupons from the member's wallet; those that do not apply are listed in
    /// `rejected_coupons` with why.
    #[serde(default)]
    coupon_ids: Vec<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteAdjustmentOut {
    /// activity_price, member_or_time_limited_price, item_promotions, order_promotions, coupons,
    /// points or delivery.
    step: String,
    /// The rule that gave it: member_price, promotion:{id}, coupon:{id}, points…
    source: String,
    /// In words, e.g. 满200减30.
    rule: String,
    /// 分, negative for a discount.
    amount: i64,
}

impl From<&LineAdjustment> for QuoteAdjustmentOut {
    fn from(a: &LineAdjustment) -> Self {
        QuoteAdjustmentOut {
            step: a.step.as_str().to_owned(),
            source: a.source.clone(),
            rule: a.rule.clone(),
            amount: a.amount.fen(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteLineOut {
    line_no: i32,
    sku_id: Uuid,
    quantity: i64,
    sold_by_weight: bool,
    /// Regular price per unit (per kg when sold by weight), 分.
    unit_price: i64,
    base_amount: i64,
    adjustments: Vec<QuoteAdjustmentOut>,
    /// What the line costs: base_amount + Σ adjustments.
    amount: i64,
}

impl From<&PricedLine> for QuoteLineOut {
    fn from(l: &PricedLine) -> Self {
        QuoteLineOut {
            line_no: l.line_no,
            sku_id: l.sku_id.as_uuid(),
            quantity: l.quantity,
            sold_by_weight: l.sold_by_weight,
            unit_price: l.unit_price.fen(),
            base_amount: l.base_amount.fen(),
            adjustments: l.adjustments.iter().map(QuoteAdjustmentOut::from).collect(),
            amount: l.amount.fen(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AppliedRuleOut {
    step: String,
    source: String,
    name: String,
    rule: String,
    amount: i64,
    line_nos: Vec<i32>,
}

impl From<&AppliedRule> for AppliedRuleOut {
    fn from(r: &AppliedRule) -> Self {
        AppliedRuleOut {
            step: r.step.as_str().to_owned(),
            source: r.source.clone(),
            name: r.name.clone(),
            rule: r.rule.clone(),
            amount: r.amount.fen(),
            line_nos: r.line_nos.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedCouponOut {
    coupon_id: Uuid,
    /// threshold_not_met, out_of_scope, not_stackable, expired, wrong_channel, wrong_store,
    /// no_discount.
    reason: String,
    /// How much more to spend, for threshold_not_met (分).
    shortfall: Option<i64>,
}

impl From<&RejectedCoupon> for RejectedCouponOut {
    fn from(r: &RejectedCoupon) -> Self {
        RejectedCouponOut {
            coupon_id: r.coupon_id,
            reason: r.reason.as_str().to_owned(),
            shortfall: r.shortfall.map(|m| m.fen()),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct QuoteOut {
    lines: Vec<QuoteLineOut>,
    /// Σ regular amounts (分).
    subtotal: i64,
    points_used: i64,
    points_value: i64,
    delivery_fee: i64,
    /// What the customer pays: Σ line amounts + delivery fee.
    total_payable: i64,
    /// Every rule that took something off, in pipeline order.
    applied: Vec<AppliedRuleOut>,
    rejected_coupons: Vec<RejectedCouponOut>,
}

impl From<&PriceBreakdown> for QuoteOut {
    fn from(b: &PriceBreakdown) -> Self {
        QuoteOut {
            lines: b.lines.iter().map(QuoteLineOut::from).collect(),
            subtotal: b.subtotal.fen(),
            points_used: b.points_used,
            points_value: b.points_value.fen(),
            delivery_fee: b.delivery_fee.fen(),
            total_payable: b.total_payable.fen(),
            applied: b.applied.iter().map(AppliedRuleOut::from).collect(),
            rejected_coupons: b.rejected_coupons.iter().map(RejectedCouponOut::from).collect(),
        }
    }
}

/// Prices a cart for a store, channel and member, explaining every adjustment, without creating
/// an order.
#[utoipa::path(post, path = "/api/v1/price-quotes", tag = "orders", request_body = QuoteIn,
    responses((status = 200, body = QuoteOut), (status = 409, description = "sku_unavailable, insufficient_points")))]
pub async fn quote(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<QuoteIn>,
) -> Result<Response, ApiError> {
    let draft = QuoteDraft {
        store_id: Some(StoreId::from_uuid(input.store_id)),
        channel: input.channel,
        lines: input
            .lines
            .into_iter()
            .map(|l| LineDraft { sku_id: Some(SkuId::from_uuid(l.sku_id)), quantity: l.quantity })
            .collect(),
        customer_id: input.customer_id.map(CustomerId::from_uuid),
        points: input.points,
        coupon_ids: input.coupon_ids.into_iter().map(quanyu_domain::ids::CouponId::from_uuid).collect(),
    };
    Ok(ok(QuoteOut::from(&state.app.quote(&ctx, draft).await?)))
}
