//! The mall's use cases for a signed-in customer ([`Shopper`]) and for visitors: the catalog as
//! a store sells it online, "me" (tier, points, coupons, stored value), quotes, orders for
//! oneself, paying them with stored value, coupons and their claim, the invite profile and
//! flash-sale reservations.
//!
//! These are entry points, not rules: each fixes the buyer to the signed-in customer, checks that
//! what is named (an order, a reservation) is the customer's own, and calls the chain's use case
//! (`create_order`, `pay_order`, `quote`, `issue_coupon`…) under [`Shopper::ctx`]. Someone
//! else's order reads as not found.

use quanyu_domain::{
    DomainError, Money,
    catalog::{Category, Channel, EffectivePrice, ListingStatus, Product, Sku, effective_price},
    customer::Customer,
    ids::{CouponId, CouponTemplateId, OrderId, SkuId, StoreId},
    loyalty::Tier,
    marketing::{CouponState, CouponTemplate, IssueSource},
    order::{Order, OrderChannel},
    pricing::PriceBreakdown,
    referral::{Promoter, PromoterOwner},
};
use quanyu_store::{FlashReservation, FlashSale, Page, SkuFilter};

use crate::{
    App, AppError, AppResult, Datum, LineDraft, Listing, OrderDetail, OrderDraft, PaymentDraft, QuoteDraft, Reply,
    Shopper, WalletCoupon, Written, listing::Cursor, write::now,
};

/// What the mall shows of the signed-in customer.
#[derive(Debug, Clone)]
pub struct ShopperSummary {
    pub customer: Customer,
    pub phone: Option<String>,
    pub tier: Option<Tier>,
    pub points: i64,
    /// Coupons usable now.
    pub coupons_usable: i64,
    pub stored_value: Money,
}

/// An SKU as one store sells it online.
#[derive(Debug, Clone)]
pub struct ShopItem {
    pub sku: Sku,
    pub product: Product,
    pub price: EffectivePrice,
    /// Units (grams when sold by weight) the store can sell now.
    pub available: i64,
}

/// An order a customer places for themself.
#[derive(Debug, Clone, Default)]
pub struct ShopOrderDraft {
    /// With none, a delivery goes to the nearest store that delivers to `delivery_location`
    /// and has every line in stock; a pickup needs one.
    pub store_id: Option<StoreId>,
    /// `delivery` or `pickup`.
    pub channel: String,
    pub lines: Vec<LineDraft>,
    pub delivery_address: Option<String>,
    pub delivery_location: Option<(f64, f64, Datum)>,
    /// When the shopper wants the delivery or pickup, within the store's opening hours; none
    /// takes the channel's usual time (see `OrderDraft::promised_at`).
    pub promised_at: Option<quanyu_domain::time::Timestamp>,
    pub note: Option<String>,
    /// One of the customer's held flash-sale reservations (then no `lines`).
    pub flash_reservation: Option<uuid::Uuid>,
    pub coupon_ids: Vec<CouponId>,
    pub points: Option<i64>,
    /// The invite code of the share link the customer came through; ignored when it names no
    /// promoter (a stale link must not stop a purchase).
    pub promoter_code: Option<String>,
}

/// How many of a store's flash sales the mall shows at once.
const MAX_FLASH_SHOWN: u32 = 5;
/// How many coupon templates the claim list looks through.
const CLAIMABLE_SCAN: u32 = 500;

impl App {
    /// The signed-in customer with their tier, points, usable coupons and stored value.
    pub async fn shopper_summary(&self, shopper: &Shopper) -> AppResult<ShopperSummary> {
        let id = shopper.customer_id;
        let at = now();
        read_tx!(self, |tx| {
            let customer = crate::customers::resolve(tx, id).await?;
            let phone = tx
                .identities_of(customer.id)
                .await?
                .into_iter()
                .find(|i| i.kind().as_str() == "phone")
                .map(|i| i.value().to_owned());
            let tier = match customer.tier_id {
                Some(tier_id) => tx.list_tiers().await?.into_iter().find(|t| t.id == tier_id),
                None => None,
            };
            let points = tx.points_balance(customer.id).await?;
            let mut coupons_usable = 0;
            let mut page = Page::first(Page::MAX_LIMIT);
            loop {
                let coupons = tx.customer_coupons(customer.id, page).await?;
                coupons_usable += coupons.iter().filter(|c| c.state_at(at) == CouponState::Usable).count() as i64;
                match coupons.last() {
                    Some(last) if coupons.len() as i64 >= page.sql_limit() => {
                        page = Page { after: Some(last.id.as_uuid()), ..page }
                    }
                    _ => break,
                }
            }
            let stored_value = tx.stored_value_balance(customer.id).await?;
            Ok(ShopperSummary { customer, phone, tier, points, coupons_usable, stored_value })
        })
    }

    /// The catalog's categories (public).
    pub async fn shop_categories(&self) -> AppResult<Vec<Category>> {
        read_tx!(self, |tx| Ok(tx.all_categories().await?))
    }

    /// What `store_id` sells online, in SKU order, filtered by category or search (public).
    pub async fn shop_catalog(
        &self,
        store_id: StoreId,
        filter: SkuFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<ShopItem>> {
        let page = Cursor::page(cursor, limit)?;
        read_tx!(self, |tx| {
            open_store(tx, store_id).await?;
            let skus = tx.list_skus(&filter, page).await?;
            let listing = Listing::from_rows(skus, page, |s| s.id.as_uuid());
            let mut items = Vec::with_capacity(listing.items.len());
            for sku in listing.items {
                if let Some(item) = item_in(tx, store_id, sku).await? {
                    items.push(item);
                }
            }
            Ok(Listing { items, next_cursor: listing.next_cursor })
        })
    }

    /// One SKU as `store_id` sells it online (public); not found when it does not.
    pub async fn shop_item(&self, store_id: StoreId, sku_id: SkuId) -> AppResult<ShopItem> {
        read_tx!(self, |tx| {
            open_store(tx, store_id).await?;
            let sku = tx.get_sku(sku_id).await?.ok_or(AppError::NotFound { entity: "sku" })?;
            item_in(tx, store_id, sku).await?.ok_or(AppError::NotFound { entity: "sku" })
        })
    }

    /// A store as the mall shows it (public); warehouses are not stores to shop at.
    pub async fn shop_store(&self, id: StoreId) -> AppResult<quanyu_domain::org::Store> {
        let store = read_tx!(self, |tx| Ok(tx.get_store(id).await?))?;
        store.filter(|s| s.kind == quanyu_domain::org::StoreKind::Store).ok_or(AppError::NotFound { entity: "store" })
    }

    /// The promoter behind an invite code, if any (public: codes travel in links).
    pub async fn promoter_by_invite_code(&self, code: &str) -> AppResult<Option<Promoter>> {
        let Ok(code) = quanyu_domain::referral::parse_invite_code(code) else { return Ok(None) };
        read_tx!(self, |tx| Ok(tx.promoter_by_code(&code).await?))
    }

    /// Prices the customer's cart as an order would be priced (member prices, their coupons and
    /// points).
    pub async fn shop_quote(&self, shopper: &Shopper, draft: QuoteDraft) -> AppResult<PriceBreakdown> {
        online_channel(&draft.channel)?;
        self.quote(&shopper.ctx(), QuoteDraft { customer_id: Some(shopper.customer_id), ..draft }).await
    }

    /// Places an order for the signed-in customer. Requires an idempotency key.
    pub async fn shop_create_order(
        &self,
        shopper: &Shopper,
        draft: ShopOrderDraft,
        reply: Reply<'_, OrderDetail>,
    ) -> AppResult<Written<OrderDetail>> {
        online_channel(&draft.channel)?;
        if let Some(reservation) = draft.flash_reservation {
            self.own_reservation(shopper, reservation).await?;
        }
        let promoter_code = match draft.promoter_code.as_deref() {
            Some(code) => self.promoter_by_invite_code(code).await?.map(|p| p.code),
            None => None,
        };
        let order = OrderDraft {
            store_id: draft.store_id,
            channel: draft.channel,
            lines: draft.lines,
            member: true,
            customer_id: Some(shopper.customer_id),
            customer_phone: None,
            delivery_address: draft.delivery_address,
            delivery_location: draft.delivery_location,
            promised_at: draft.promised_at,
            note: draft.note,
            table: None,
            flash_reservation: draft.flash_reservation,
            coupon_ids: draft.coupon_ids,
            points: draft.points,
            promoter_code,
            group_buy: None,
        };
        self.create_order(&shopper.ctx(), order, reply).await
    }

    /// Pays one of the customer's orders from their stored value (the mall's one online method
    /// until WeChat Pay arrives). `amount` must be what is due. Requires an idempotency key.
    pub async fn shop_pay_order(
        &self,
        shopper: &Shopper,
        id: OrderId,
        amount: i64,
        reply: Reply<'_, OrderDetail>,
    ) -> AppResult<Written<OrderDetail>> {
        self.own_order(shopper, id).await?;
        let payment = PaymentDraft { method: "stored_value".to_owned(), amount, reference: None, tendered: None };
        self.pay_order(&shopper.ctx(), id, payment, reply).await
    }

    /// The customer's orders, newest first.
    pub async fn shop_orders(
        &self,
        shopper: &Shopper,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Order>> {
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| Ok(tx.customer_orders(shopper.customer_id, page).await?))?;
        Ok(Listing::from_rows(rows, page, |o| o.id.as_uuid()))
    }

    /// One of the customer's orders with its timeline and payments.
    pub async fn shop_order(&self, shopper: &Shopper, id: OrderId) -> AppResult<OrderDetail> {
        self.own_order(shopper, id).await?;
        self.get_order(&shopper.ctx(), id).await
    }

    /// The customer's coupons, newest first.
    pub async fn shop_coupons(
        &self,
        shopper: &Shopper,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<WalletCoupon>> {
        self.customer_coupons(&shopper.ctx(), shopper.customer_id, cursor, limit).await
    }

    /// Coupon templates a customer may claim now (public).
    pub async fn claimable_coupons(&self) -> AppResult<Vec<CouponTemplate>> {
        let at = now();
        let templates = read_tx!(self, |tx| Ok(tx
            .list_coupon_templates(&Default::default(), Page::first(CLAIMABLE_SCAN))
            .await?))?;
        Ok(templates.into_iter().filter(|t| t.issuable(IssueSource::Claim, at).is_ok()).collect())
    }

    /// A claimable coupon template (public); not found when it cannot be claimed.
    pub async fn claimable_coupon(&self, id: CouponTemplateId) -> AppResult<CouponTemplate> {
        let template = read_tx!(self, |tx| crate::coupons::template(tx, id).await)?;
        if template.rules.claimable { Ok(template) } else { Err(AppError::NotFound { entity: "coupon_template" }) }
    }

    /// Claims a coupon of a claimable template into the customer's wallet (领券). Requires an
    /// idempotency key: a retried tap claims once.
    pub async fn shop_claim_coupon(
        &self,
        shopper: &Shopper,
        template_id: CouponTemplateId,
        reply: Reply<'_, WalletCoupon>,
    ) -> AppResult<Written<WalletCoupon>> {
        self.issue_coupon(&shopper.ctx(), template_id, shopper.customer_id, true, reply).await
    }

    /// The customer's invite profile (code, link, QR payload), made on first ask.
    pub async fn shop_invite(&self, shopper: &Shopper) -> AppResult<Promoter> {
        self.invite_profile(&shopper.ctx(), PromoterOwner::Customer(shopper.customer_id)).await
    }

    /// A flash sale (public).
    pub async fn shop_flash_sale(&self, id: uuid::Uuid) -> AppResult<FlashSale> {
        read_tx!(self, |tx| tx.get_flash_sale(id).await?.ok_or(AppError::NotFound { entity: "flash_sale" }))
    }

    /// A store's flash sales on now or still to come (public), each with its goods, soonest
    /// first.
    pub async fn shop_flash_sales(&self, store_id: StoreId) -> AppResult<Vec<(FlashSale, ShopItem)>> {
        let at = now();
        read_tx!(self, |tx| {
            let mut out = Vec::new();
            for sale in tx.current_flash_sales(store_id, at, MAX_FLASH_SHOWN).await? {
                if let Some(sku) = tx.get_sku(sale.sku_id).await?
                    && let Some(item) = item_in(tx, store_id, sku).await?
                {
                    out.push((sale, item));
                }
            }
            Ok(out)
        })
    }

    /// Reserves units of a flash sale for the customer. Requires an idempotency key.
    pub async fn shop_reserve_flash(
        &self,
        shopper: &Shopper,
        sale_id: uuid::Uuid,
        quantity: i64,
    ) -> AppResult<FlashReservation> {
        self.reserve_flash_for(&shopper.ctx(), sale_id, shopper.customer_id, quantity).await
    }

    async fn own_order(&self, shopper: &Shopper, id: OrderId) -> AppResult<Order> {
        let order = read_tx!(self, |tx| Ok(tx.get_order(id).await?))?;
        order.filter(|o| o.customer_id == Some(shopper.customer_id)).ok_or(AppError::NotFound { entity: "order" })
    }

    async fn own_reservation(&self, shopper: &Shopper, id: uuid::Uuid) -> AppResult<FlashReservation> {
        let held = self.flash_reservation(id).await?;
        Some(held)
            .filter(|r| r.buyer.member() == Some(shopper.customer_id))
            .ok_or(AppError::NotFound { entity: "flash_reservation" })
    }
}

/// The mall takes delivery and pickup orders only.
fn online_channel(raw: &str) -> AppResult<OrderChannel> {
    match OrderChannel::parse(raw.trim())? {
        channel @ (OrderChannel::Delivery | OrderChannel::Pickup) => Ok(channel),
        _ => Err(DomainError::UnknownValue { field: "channel", value: raw.to_owned() }.into()),
    }
}

async fn open_store(tx: &mut dyn quanyu_store::Tx, store_id: StoreId) -> AppResult<()> {
    match tx.get_store(store_id).await? {
        Some(store) if store.status == quanyu_domain::org::StoreStatus::Open => Ok(()),
        Some(_) => Err(AppError::StoreNotTrading),
        None => Err(AppError::NotFound { entity: "store" }),
    }
}

/// The SKU as the store sells it online, or `None` when it does not (delisted, switched off).
async fn item_in(tx: &mut dyn quanyu_store::Tx, store_id: StoreId, sku: Sku) -> AppResult<Option<ShopItem>> {
    if sku.status != ListingStatus::Active {
        return Ok(None);
    }
    let settings = tx.get_store_sku(store_id, sku.id).await?;
    let price = effective_price(&sku, Channel::Online, settings.as_ref());
    if !price.available {
        return Ok(None);
    }
    let Some(product) = tx.get_product(sku.product_id).await? else { return Ok(None) };
    if product.status != ListingStatus::Active {
        return Ok(None);
    }
    let available = tx.get_stock(store_id, sku.id).await?.map_or(0, |row| row.levels.available().get());
    Ok(Some(ShopItem { sku, product, price, available }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mall_sells_for_delivery_and_pickup_only() {
        assert_eq!(online_channel("pickup").unwrap(), OrderChannel::Pickup);
        assert_eq!(online_channel(" delivery ").unwrap(), OrderChannel::Delivery);
        assert!(online_channel("pos").is_err());
    }
}
