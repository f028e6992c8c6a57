//! An eat-first table bill (预结单) takes more items while it is open (加菜).
//!
//! The added lines hold their stock as an order's lines do (one keyed ledger batch, demand
//! summed per SKU, SKUs locked in id order), and the whole bill is priced again as one cart: its
//! lines old and new, in line order, for the same store, channel and member, with the coupons
//! and points it already used. So the bill always costs what a fresh order of all its lines
//! would (a second-item discount or a 满减 reached by the added items applies), and a coupon or
//! the points used at the start stay with it. Member prices without a known member (a card shown
//! at the till) are not stored on an order: they carry on when an existing line has one.

use quanyu_domain::{
    DomainError, Money,
    authz::Permission,
    catalog::ProductKind,
    ids::{OrderId, SkuId},
    inventory::{Qty, StockChange},
    order::{Order, OrderEvent, OrderLine, transition},
    pricing::ActivityPrice,
};
use quanyu_store::Tx;

use super::{MAX_ORDER_LINES, detail, line_name, merge_holds, order_in_scope, step};
use crate::{
    App, AppError, AppResult, Ctx, LineDraft, Reply, Written,
    change::Change,
    inventory::{apply_batch, batch_entries},
    quotes::{Cart, Points, PricedCart, price_cart},
    write::now,
};

/// How many times an add that lost the race to another add on the same bill runs again: each
/// round lets at least one of the racing adds through, so a table's worth of waiters adding at
/// once all get through.
const ADD_LINES_RETRIES: usize = 32;

impl App {
    /// Adds lines to an open eat-first bill: holds their stock and prices the bill again (see
    /// the module's doc). Other channels, and a bill settled or voided, are refused as an
    /// illegal transition. Requires an idempotency key.
    pub async fn add_order_lines(
        &self,
        ctx: &Ctx,
        id: OrderId,
        lines: Vec<LineDraft>,
        reply: Reply<'_, super::OrderDetail>,
    ) -> AppResult<Written<super::OrderDetail>> {
        ctx.require(Permission::SellOrders)?;
        ctx.require_idempotency_key()?;
        let added = crate::quotes::cart_lines(&lines)?;
        // Adds to one bill do not depend on each other: one that lost the race to another (the
        // bill changed between its read and its write, which PostgreSQL's concurrent writers
        // meet) runs again on the bill as it now is, rather than sending the waiter back with
        // concurrent_change. A bill settled or voided meanwhile is then refused as such.
        let mut retries = 0;
        loop {
            match self.add_lines_once(ctx, id, &added, reply).await {
                Err(AppError::StatusChanged) if retries < ADD_LINES_RETRIES => retries += 1,
                result => return result,
            }
        }
    }

    async fn add_lines_once(
        &self,
        ctx: &Ctx,
        id: OrderId,
        added: &[(SkuId, i64, Option<ActivityPrice>)],
        reply: Reply<'_, super::OrderDetail>,
    ) -> AppResult<Written<super::OrderDetail>> {
        write_idempotent!(self, ctx, reply, |tx| {
            let mut order = order_in_scope(ctx, tx, id).await?;
            let (before, last_updated) = (order.status, order.updated_at);
            transition(order.channel, before, OrderEvent::AddLines)?;
            let room = MAX_ORDER_LINES.saturating_sub(order.lines.len());
            if added.len() > room {
                return Err(DomainError::OutOfRange { field: "lines", min: 1, max: room as i64 }.into());
            }
            let activity = activity_price(tx, &order).await?;
            let mut cart_lines: Vec<_> = order
                .lines
                .iter()
                .map(|l| (l.sku_id, l.breakdown.quantity, activity.filter(|_| l.line_no == 1)))
                .collect();
            cart_lines.extend(added.iter().copied());
            let member = match order.customer_id {
                Some(customer) => Some(crate::customers::resolve(tx, customer).await?),
                None => None,
            };
            let member_prices =
                order.lines.iter().any(|l| l.breakdown.adjustments.iter().any(|a| a.source == "member_price"));
            let coupons = crate::coupons::used_by_order(tx, id).await?;
            let redeemed = tx.order_points(id).await?.redeemed;
            let cart = Cart {
                store_id: order.store_id,
                channel: order.channel,
                lines: &cart_lines,
                member: member.as_ref(),
                member_prices,
            };
            let PricedCart { breakdown: priced, items } =
                price_cart(tx, &cart, Points::Redeemed(redeemed), coupons).await?;
            if let Some(rejected) = priced.rejected_coupons.first() {
                return Err(AppError::CouponNotApplicable {
                    coupon_id: quanyu_domain::ids::CouponId::from_uuid(rejected.coupon_id),
                    reason: rejected.reason,
                });
            }
            if priced.points_used != redeemed {
                return Err(DomainError::OutOfRange { field: "points", min: 0, max: priced.points_used }.into());
            }
            let kept = order.lines.len();
            let mut holds = Vec::new();
            let mut repriced = Vec::with_capacity(priced.lines.len());
            for (index, (line, (sku, product))) in priced.lines.iter().zip(&items).enumerate() {
                let (sku_id, quantity, _) = cart_lines[index];
                let (sku_name, refunded_quantity, refunded_amount) = match order.lines.get(index) {
                    Some(old) => (old.sku_name.clone(), old.refunded_quantity, old.refunded_amount),
                    None => (line_name(Some(product), sku), 0, Money::ZERO),
                };
                if index >= kept && product.kind != ProductKind::Service {
                    holds.push((sku_id, StockChange::Reserve(Qty::new(quantity))));
                }
                repriced.push(OrderLine {
                    line_no: line.line_no,
                    sku_id,
                    sku_name,
                    breakdown: line.to_line_breakdown(),
                    refunded_quantity,
                    refunded_amount,
                });
            }
            let (subtotal, discount, total) =
                Order::totals(&repriced, priced.delivery_fee).ok_or(DomainError::MoneyOverflow { field: "lines" })?;
            let holds = merge_holds(holds)?;
            let batch = uuid::Uuid::now_v7();
            let key = format!("order:{id}:add:{batch}");
            let entries = batch_entries(ctx, order.store_id, "reserve", &holds, &key, Some(&id.to_string()))?;
            apply_batch(tx, order.store_id, &entries).await?;
            let before_total = order.total;
            order.lines = repriced;
            order.subtotal = subtotal;
            order.discount = discount;
            order.delivery_fee = priced.delivery_fee;
            order.total = total;
            order.updated_at = now();
            if !tx.reprice_order(&order, before, last_updated).await? {
                return Err(AppError::StatusChanged);
            }
            step(tx, ctx, &order, "add_lines", Some(before)).await?;
            Change::new("order.lines_added", "order", id)
                .in_store(order.store_id)
                .set("lines", &added.len())
                .diff("total", &before_total.fen(), &total.fen())
                .record(tx, Some(ctx))
                .await?;
            detail(tx, id).await
        })
    }
}

/// The activity price of the bill's first line when it came from a flash-sale reservation or
/// a group buy (such an order starts as that one line), so pricing again keeps it.
async fn activity_price(tx: &mut dyn Tx, order: &Order) -> AppResult<Option<ActivityPrice>> {
    if let Some(reservation) = tx.flash_reservation_of_order(order.id).await? {
        let sale = tx.get_flash_sale(reservation.sale_id).await?.ok_or(AppError::NotFound { entity: "flash_sale" })?;
        return Ok(Some(ActivityPrice { activity_id: sale.id, unit_price: sale.price }));
    }
    if let Some(group) = tx.group_of_order(order.id).await? {
        let offer = crate::group_buys::offer(tx, group.offer_id).await?;
        return Ok(Some(ActivityPrice { activity_id: offer.id, unit_price: offer.group_price }));
    }
    Ok(None)
}
