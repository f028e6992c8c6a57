//! Tests of the price engine: worked examples in yuan (`examples`) and properties over random
//! carts, promotions and coupons (`properties`). Both check every breakdown with
//! [`invariants`].

use chrono::{DateTime, TimeZone as _, Utc};
use uuid::Uuid;

use super::*;
use crate::{
    Money,
    catalog::Channel,
    ids::{CategoryId, SkuId, StoreId},
};

mod examples;
mod properties;
mod snapshots;

/// Saturday 2026-06-06, 20:00 in Shanghai.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 6, 12, 0, 0).unwrap()
}

fn yuan(text: &str) -> Money {
    Money::parse_yuan("test", text).unwrap()
}

fn id(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

fn sku(n: u128) -> SkuId {
    SkuId::from_uuid(id(0x5c0 << 64 | n))
}

fn category(n: u128) -> CategoryId {
    CategoryId::from_uuid(id(0xca7 << 64 | n))
}

/// 乳品 dairy, the parent of [`YOGHURT`].
const DAIRY: u128 = 10;
const YOGHURT: u128 = 11;
const BAKERY: u128 = 20;

/// `quantity` units of `sku` at `price` yuan, in category `category` (yoghurt's parent is dairy).
fn line(line_no: i32, sku_no: u128, price: &str, quantity: i64) -> CartLine {
    CartLine {
        line_no,
        sku_id: sku(sku_no),
        category_id: category(YOGHURT),
        ancestor_category_ids: vec![category(DAIRY)],
        quantity,
        sold_by_weight: false,
        unit_price: yuan(price),
        member_unit_price: None,
        activity_price: None,
    }
}

fn request(lines: Vec<CartLine>) -> PriceRequest {
    PriceRequest {
        lines,
        customer: Customer::default(),
        channel: Channel::Online,
        store_id: StoreId::from_uuid(id(0x5707)),
        at: now(),
        promotions: Vec::new(),
        coupons: Vec::new(),
        points: None,
        delivery: None,
    }
}

fn promotion(n: u128, kind: PromotionKind) -> Promotion {
    Promotion {
        id: id(n),
        name: format!("promotion {n}"),
        kind,
        priority: 0,
        exclusive: false,
        window: TimeWindow::ALWAYS,
        audience: Audience::Everyone,
        scope: Scope::All,
    }
}

fn coupon(n: u128, kind: CouponKind, threshold: &str) -> Coupon {
    Coupon {
        id: id(n),
        template_name: format!("coupon {n}"),
        kind,
        threshold: yuan(threshold),
        scope: Scope::All,
        window: TimeWindow::ALWAYS,
        channels: Vec::new(),
        stores: Vec::new(),
    }
}

fn amount_off(tiers: &[(&str, &str)], per_each: bool) -> PromotionKind {
    PromotionKind::AmountOffLadder {
        tiers: tiers
            .iter()
            .map(|&(threshold, amount)| AmountOffTier { threshold: yuan(threshold), amount: yuan(amount) })
            .collect(),
        per_each,
    }
}

/// Prices `request` and checks the breakdown's invariants.
fn priced(request: &PriceRequest) -> PriceBreakdown {
    let breakdown = quote(request).unwrap();
    assert_eq!(invariants(&breakdown), Ok(()), "{breakdown:#?}");
    breakdown
}

/// Each line's final amount, in 分, in cart order.
fn line_amounts(breakdown: &PriceBreakdown) -> Vec<i64> {
    breakdown.lines.iter().map(|line| line.amount.fen()).collect()
}

/// Each line's adjustments as (source, 分).
fn adjustments(breakdown: &PriceBreakdown) -> Vec<Vec<(String, i64)>> {
    breakdown
        .lines
        .iter()
        .map(|line| line.adjustments.iter().map(|a| (a.source.clone(), a.amount.fen())).collect())
        .collect()
}

/// What must hold of every breakdown, to the 分.
fn invariants(breakdown: &PriceBreakdown) -> Result<(), String> {
    let fen = |amount: Money| i128::from(amount.fen());
    let ensure = |ok: bool, what: &str| if ok { Ok(()) } else { Err(what.to_owned()) };
    let goods: i128 = breakdown.lines.iter().map(|line| fen(line.amount)).sum();
    let base: i128 = breakdown.lines.iter().map(|line| fen(line.base_amount)).sum();
    ensure(goods + fen(breakdown.delivery_fee) == fen(breakdown.total_payable), "lines + delivery = total")?;
    ensure(base == fen(breakdown.subtotal), "subtotal = Σ base amounts")?;
    for line in &breakdown.lines {
        ensure(line.amount >= Money::ZERO, "no line below zero")?;
        ensure(line.adjustments.iter().all(|a| a.amount < Money::ZERO), "every adjustment is a discount")?;
        let adjusted = fen(line.base_amount) + line.adjustments.iter().map(|a| fen(a.amount)).sum::<i128>();
        ensure(adjusted == fen(line.amount), "amount = base + Σ adjustments")?;
    }
    let steps: Vec<i128> = PricingStep::ALL.iter().map(|&step| fen(breakdown.discounts.get(step))).collect();
    ensure(steps.iter().all(|&discount| discount <= 0), "no step adds")?;
    let goods_steps: i128 = steps.iter().take(PricingStep::ALL.len() - 1).sum();
    ensure(base + goods_steps == goods, "subtotal + goods discounts = Σ lines")?;
    let applied: i128 = breakdown.applied.iter().map(|rule| fen(rule.amount)).sum();
    ensure(applied == steps.iter().sum::<i128>(), "applied rules = Σ step discounts")?;
    ensure(fen(breakdown.points_value) == -fen(breakdown.discounts.points), "points value = points discount")?;
    ensure(breakdown.delivery_fee >= Money::ZERO, "delivery fee not negative")?;
    ensure(
        fen(breakdown.total_payable) <= fen(breakdown.subtotal) + fen(breakdown.delivery_fee),
        "total ≤ subtotal + delivery",
    )
}
