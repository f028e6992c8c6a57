//! Price quotes: what a cart would cost in a store and channel for a customer, explained line by
//! line by the price engine (`quanyu_domain::pricing`), without creating an order.
//!
//! Regular and member prices come from the catalog and the store's overrides; points redeem at
//! 100 points to ¥1 for at most half the goods; a delivery costs ¥5, free from ¥39 or for a
//! member whose tier delivers free. Promotions
//! and coupons enter the same request as they are stored (none yet: they arrive with their own
//! use cases), so the breakdown already shows every step in its place.

use std::collections::HashMap;

use quanyu_domain::{
    DomainError, Money,
    authz::Permission,
    catalog::{Channel, ListingStatus, effective_price},
    ids::{CategoryId, CustomerId, SkuId, StoreId},
    inventory::Qty,
    order::OrderChannel,
    pricing::{self, CartLine, Delivery, PointsRate, PointsRedemption, PriceBreakdown, PriceRequest},
};
use quanyu_store::Tx;

use crate::{App, AppError, AppResult, Ctx, LineDraft, org::store_in_scope, write::now};

/// What a delivery costs, and from what order value it is free.
pub const DELIVERY_FEE: Money = Money::from_fen(500);
pub const FREE_DELIVERY_FROM: Money = Money::from_fen(3_900);
/// Points per yuan when redeemed, and the most of the goods they may pay (basis points).
pub const POINTS_PER_YUAN: i64 = 100;
pub const POINTS_MAX_SHARE_BP: u32 = 5_000;

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
}

impl App {
    /// Prices a cart without creating an order.
    pub async fn quote(&self, ctx: &Ctx, draft: QuoteDraft) -> AppResult<PriceBreakdown> {
        ctx.require(Permission::ReadCatalog)?;
        let store_id = draft.store_id.ok_or(DomainError::Required { field: "store_id" })?;
        let channel = OrderChannel::parse(draft.channel.trim())?;
        if draft.lines.is_empty() || draft.lines.len() > 200 {
            return Err(DomainError::OutOfRange { field: "lines", min: 1, max: 200 }.into());
        }
        let price_channel = match channel {
            OrderChannel::Delivery | OrderChannel::Pickup | OrderChannel::Appointment => Channel::Online,
            _ => Channel::Store,
        };
        let member = match draft.customer_id {
            Some(id) => Some(self.customer(ctx, id).await?.customer),
            None => None,
        };
        let free_delivery = match member.as_ref().and_then(|m| m.tier_id) {
            Some(tier) => self.tiers(ctx).await?.iter().any(|t| t.id == tier && t.free_delivery),
            None => false,
        };
        let member = member.map(|m| m.id);
        let request = read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            let parents: HashMap<CategoryId, Option<CategoryId>> =
                tx.all_categories().await?.into_iter().map(|c| (c.id, c.parent_id)).collect();
            let mut lines = Vec::with_capacity(draft.lines.len());
            for (index, line) in draft.lines.iter().enumerate() {
                let sku_id = line.sku_id.ok_or(DomainError::Required { field: "sku_id" })?;
                let quantity = Qty::positive("quantity", line.quantity)?.get();
                lines.push(cart_line(tx, store_id, price_channel, sku_id, quantity, index, &parents).await?);
            }
            let points = match (member, draft.points.filter(|p| *p > 0)) {
                (Some(customer), Some(points)) => {
                    let balance = tx.points_balance(customer).await?;
                    if points > balance {
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
            Ok(PriceRequest {
                lines,
                customer: pricing::Customer { is_member: member.is_some(), first_order: false },
                channel: price_channel,
                at: now(),
                promotions: Vec::new(),
                coupons: Vec::new(),
                points,
                // A tier with free delivery pays no fee at all.
                delivery: (channel == OrderChannel::Delivery).then_some(Delivery {
                    fee: if free_delivery { Money::ZERO } else { DELIVERY_FEE },
                    free_threshold: Some(FREE_DELIVERY_FROM),
                }),
            })
        })?;
        Ok(pricing::quote(&request)?)
    }
}

/// One cart line as the engine needs it: prices in this store and channel, and the category
/// with its ancestors (so category-scoped rules reach it).
async fn cart_line(
    tx: &mut dyn Tx,
    store_id: StoreId,
    channel: Channel,
    sku_id: SkuId,
    quantity: i64,
    index: usize,
    parents: &HashMap<CategoryId, Option<CategoryId>>,
) -> AppResult<CartLine> {
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
    Ok(CartLine {
        line_no: i32::try_from(index + 1).unwrap_or(i32::MAX),
        sku_id,
        category_id: product.category_id,
        ancestor_category_ids: ancestors,
        quantity,
        sold_by_weight: sku.sold_by_weight,
        unit_price: price.regular,
        member_unit_price: (price.member < price.regular).then_some(price.member),
        activity_price: None,
    })
}
