//! Pricing carts through the engine (`quanyu_domain::pricing`): quotes (what a cart would cost,
//! explained line by line, without an order) and orders, which store the same breakdown.
//!
//! Regular and member prices come from the catalog and the store's overrides; the promotions
//! running in the store and channel apply by the engine's stacking policy; the coupons chosen
//! come from the member's wallet; points redeem at 100 points to ¥1 for at most half the goods;
//! a delivery costs ¥5, free from ¥39 or for a member whose tier delivers free.

use std::collections::HashMap;

use quanyu_domain::{
    DomainError, Money,
    authz::Permission,
    catalog::{Channel, ListingStatus, Product, Sku, effective_price},
    customer::Customer,
    ids::{CategoryId, CouponId, CustomerId, SkuId, StoreId},
    inventory::Qty,
    order::OrderChannel,
    pricing::{self, ActivityPrice, CartLine, Delivery, PointsRate, PointsRedemption, PriceBreakdown, PriceRequest},
};
use quanyu_store::Tx;

use crate::{App, AppError, AppResult, Ctx, LineDraft, org::store_in_scope, write::now};

/// What a delivery costs, and from what order value it is free.
pub const DELIVERY_FEE: Money = Money::from_fen(500);
pub const FREE_DELIVERY_FROM: Money = Money::from_fen(3_900);
/// Points per yuan when redeemed, and the most of the goods they may pay (basis points).
pub const POINTS_PER_YUAN: i64 = 100;
pub const POINTS_MAX_SHARE_BP: u32 = 5_000;
/// The most points one cart may ask to redeem: worth the largest price there is.
pub const MAX_POINTS: i64 = Money::MAX_PRICE.fen() / 100 * POINTS_PER_YUAN;

/// Points a cart redeems: asked for at checkout (checked against the member's balance), or
/// already taken from it by the order being priced again.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Points {
    Asked(Option<i64>),
    Redeemed(i64),
}

#[derive(Debug, Clone, Default)]
pub struct QuoteDraft {
    pub store_id: Option<StoreId>,
    /// An order channel: `delivery`, `pickup`, `pos`…
    pub channel: String,
    pub lines: Vec<LineDraft>,
    /// The member buying: member prices apply and points may be redeemed.
    pub customer_id: Option<CustomerId>,
    /// Points to redeem (whole blocks of 100; capped at half the goods).
    pub points: Option<i64>,
    /// Coupons from the member's wallet; those the engine will not use come back with why.
    pub coupon_ids: Vec<CouponId>,
}

impl App {
    /// Prices a cart without creating an order.
    pub async fn quote(&self, ctx: &Ctx, draft: QuoteDraft) -> AppResult<PriceBreakdown> {
        ctx.require(Permission::ReadCatalog)?;
        let store_id = draft.store_id.ok_or(DomainError::Required { field: "store_id" })?;
        let channel = OrderChannel::parse(draft.channel.trim())?;
        let lines = cart_lines(&draft.lines)?;
        read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            // The member buying, found as an order finds its buyer: a member of any store may
            // buy anywhere, so a quote must price them wherever the order would be taken.
            let member = crate::orders::buyer(tx, draft.customer_id, None).await?;
            let coupons = crate::coupons::chosen(tx, member.as_ref().map(|m| m.id), &draft.coupon_ids).await?;
            let coupons: Vec<_> = coupons.into_iter().map(|(_, priced)| priced).collect();
            let cart = Cart { store_id, channel, lines: &lines, member: member.as_ref(), member_prices: false };
            Ok(price_cart(tx, &cart, Points::Asked(draft.points), coupons).await?.breakdown)
        })
    }
}

/// A cart as the pricing of quotes and orders sees it.
pub(crate) struct Cart<'a> {
    pub store_id: StoreId,
    pub channel: OrderChannel,
    /// (SKU, quantity, flash or activity price) per line, in line order.
    pub lines: &'a [(SkuId, i64, Option<ActivityPrice>)],
    pub member: Option<&'a Customer>,
    /// Member prices apply even without a known member (a member card shown at the till).
    pub member_prices: bool,
}

/// Validates a caller's lines into (SKU, quantity) pairs.
pub(crate) fn cart_lines(lines: &[LineDraft]) -> AppResult<Vec<(SkuId, i64, Option<ActivityPrice>)>> {
    if lines.is_empty() || lines.len() > 200 {
        return Err(DomainError::OutOfRange { field: "lines", min: 1, max: 200 }.into());
    }
    lines
        .iter()
        .map(|line| {
            let sku_id = line.sku_id.ok_or(DomainError::Required { field: "sku_id" })?;
            Ok((sku_id, Qty::positive("quantity", line.quantity)?.get(), None))
        })
        .collect()
}

/// A priced cart, with the SKU and product of each line (in line order) as pricing read them.
pub(crate) struct PricedCart {
    pub breakdown: PriceBreakdown,
    pub items: Vec<(Sku, Product)>,
}

/// Prices a cart through the engine: prices from the catalog and the store, the promotions
/// running, the member's tier for free delivery, `points` to redeem from the member's balance
/// and the `coupons` chosen.
pub(crate) async fn price_cart(
    tx: &mut dyn Tx,
    cart: &Cart<'_>,
    points: Points,
    coupons: Vec<pricing::Coupon>,
) -> AppResult<PricedCart> {
    let (points, spent) = match points {
        Points::Asked(Some(points)) if !(0..=MAX_POINTS).contains(&points) => {
            return Err(DomainError::OutOfRange { field: "points", min: 0, max: MAX_POINTS }.into());
        }
        Points::Asked(points) => (points, false),
        Points::Redeemed(points) => (Some(points), true),
    };
    let price_channel = match cart.channel {
        OrderChannel::Delivery | OrderChannel::Pickup | OrderChannel::Appointment => Channel::Online,
        _ => Channel::Store,
    };
    let parents: HashMap<CategoryId, Option<CategoryId>> =
        tx.all_categories().await?.into_iter().map(|c| (c.id, c.parent_id)).collect();
    let mut lines = Vec::with_capacity(cart.lines.len());
    let mut items = Vec::with_capacity(cart.lines.len());
    for (index, &(sku_id, quantity, activity)) in cart.lines.iter().enumerate() {
        let (mut line, sku, product) =
            cart_line(tx, cart.store_id, price_channel, sku_id, quantity, index, &parents).await?;
        line.activity_price = activity;
        lines.push(line);
        items.push((sku, product));
    }
    let tiers = tx.list_tiers().await?;
    let free_delivery =
        cart.member.and_then(|m| m.tier_id).is_some_and(|tier| tiers.iter().any(|t| t.id == tier && t.free_delivery));
    let points = match (cart.member, points.filter(|p| *p > 0)) {
        (Some(member), Some(points)) => {
            let balance = tx.points_balance(member.id).await?;
            if !spent && points > balance {
                return Err(AppError::InsufficientPoints { balance, requested: points });
            }
            Some(PointsRedemption {
                points,
                rate: PointsRate { points: POINTS_PER_YUAN, fen: 100 },
                max_share_bp: POINTS_MAX_SHARE_BP,
            })
        }
        (None, Some(_)) => return Err(DomainError::Required { field: "customer_id" }.into()),
        _ => None,
    };
    let first_order = match cart.member {
        Some(member) => tx.customer_paid_orders(member.id).await? == 0,
        None => false,
    };
    let at = now();
    let request = PriceRequest {
        lines,
        customer: pricing::Customer { is_member: cart.member.is_some() || cart.member_prices, first_order },
        channel: price_channel,
        store_id: cart.store_id,
        at,
        promotions: crate::promotions::running(tx, cart.store_id, price_channel, at).await?,
        coupons,
        points,
        // A tier with free delivery pays no fee at all.
        delivery: (cart.channel == OrderChannel::Delivery).then_some(Delivery {
            fee: if free_delivery { Money::ZERO } else { DELIVERY_FEE },
            free_threshold: Some(FREE_DELIVERY_FROM),
        }),
    };
    Ok(PricedCart { breakdown: pricing::quote(&request)?, items })
}

/// One cart line as the engine needs it (prices in this store and channel, and the category
/// with its ancestors, so category-scoped rules reach it), with its SKU and product.
async fn cart_line(
    tx: &mut dyn Tx,
    store_id: StoreId,
    channel: Channel,
    sku_id: SkuId,
    quantity: i64,
    index: usize,
    parents: &HashMap<CategoryId, Option<CategoryId>>,
) -> AppResult<(CartLine, Sku, Product)> {
    let sku = tx.get_sku(sku_id).await?.ok_or(AppError::UnknownReference { field: "sku_id", entity: "sku" })?;
    let settings = tx.get_store_sku(store_id, sku_id).await?;
    let price = effective_price(&sku, channel, settings.as_ref());
    if !price.available || sku.status != ListingStatus::Active {
        return Err(AppError::SkuUnavailable { sku_id });
    }
    let product = tx.get_product(sku.product_id).await?.ok_or(AppError::NotFound { entity: "product" })?;
    let mut ancestors = Vec::new();
    let mut next = parents.get(&product.category_id).copied().flatten();
    while let Some(parent) = next.filter(|p| !ancestors.contains(p) && ancestors.len() < 32) {
        ancestors.push(parent);
        next = parents.get(&parent).copied().flatten();
    }
    let line = CartLine {
        line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
        sku_id,
        category_id: product.category_id,
        ancestor_category_ids: ancestors,
        quantity,
        sold_by_weight: sku.sold_by_weight,
        unit_price: price.regular,
        member_unit_price: (price.member < price.regular).then_some(price.member),
        activity_price: None,
    };
    Ok((line, sku, product))
}
