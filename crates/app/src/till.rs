//! Use cases of the till (收银台): finding what a cashier scanned or typed, with the store's
//! prices and stock; today's sales of a store for reprints and refunds; the store's open table
//! bills; and everything a receipt (or a table's pre-settlement bill) prints. Selling, paying
//! and refunding go through the order use cases.

use chrono::Duration;
use quanyu_domain::{
    DomainError, Expected,
    authz::Permission,
    catalog::{Barcode, Channel, EffectivePrice, ListingStatus, Product, Sku, effective_price},
    customer::{Identity, IdentityKind},
    ids::{OrderId, StoreId},
    marketing::CouponState,
    order::{Order, OrderChannel},
    org::Store,
    text,
    till::{day_start, mask_phone, parse_receipt_no, receipt_no},
};
use quanyu_store::{OrderPoints, Page, SkuFilter};

use crate::{
    App, AppError, AppResult, Ctx, CustomerProfile, OrderDetail, WalletCoupon, org::store_in_scope, write::now,
};

/// The most SKUs one till search answers with.
pub const TILL_SEARCH_LIMIT: u32 = 20;
/// The most sales the till lists for a day.
pub const TILL_DAY_LIMIT: u32 = 200;
/// How far back a receipt number is looked for, and among how many sales.
pub const RECEIPT_SEARCH_DAYS: i64 = 7;
pub const RECEIPT_SEARCH_LIMIT: u32 = 2_000;

/// What a cashier looks for: a scanned barcode, or words of a name or merchant code.
#[derive(Debug, Clone)]
pub enum TillSearch {
    Barcode(String),
    Words(String),
}

/// An SKU as the till sells it in one store.
#[derive(Debug, Clone)]
pub struct TillItem {
    pub sku: Sku,
    pub product: Product,
    /// In the store channel: regular and member price, and whether it may be sold here.
    pub price: EffectivePrice,
    /// What the store can sell now (on hand less held and committed); grams when by weight.
    pub stock_available: i64,
}

/// The most coupons the till shows of a member's wallet.
pub const TILL_COUPONS_LIMIT: u32 = 200;

/// A member as the till serves them: who, their tier, points and the coupons usable now.
#[derive(Debug, Clone)]
pub struct TillMember {
    pub profile: CustomerProfile,
    pub tier_name: Option<String>,
    pub points_balance: i64,
    pub usable_coupons: Vec<WalletCoupon>,
}

/// Everything a receipt prints.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub detail: OrderDetail,
    pub store: Store,
    pub receipt_no: String,
    pub member: Option<ReceiptMember>,
    pub points: OrderPoints,
}

/// The member on a receipt, with the phone masked.
#[derive(Debug, Clone)]
pub struct ReceiptMember {
    pub display_name: Option<String>,
    pub masked_phone: Option<String>,
    pub tier_name: Option<String>,
}

impl App {
    /// The SKUs a barcode or a few words find, priced for the store's till.
    pub async fn till_items(&self, ctx: &Ctx, store_id: StoreId, search: TillSearch) -> AppResult<Vec<TillItem>> {
        ctx.require(Permission::ReadCatalog)?;
        let filter = match search {
            TillSearch::Barcode(raw) => {
                SkuFilter { barcode: Some(Barcode::parse(&raw)?.as_str().to_owned()), ..SkuFilter::default() }
            }
            TillSearch::Words(raw) => {
                SkuFilter { search: Some(text::required("q", &raw, 64)?), ..SkuFilter::default() }
            }
        };
        read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            let skus = tx.list_skus(&filter, Page::first(TILL_SEARCH_LIMIT)).await?;
            let mut items = Vec::with_capacity(skus.len());
            for sku in skus {
                let product = tx.get_product(sku.product_id).await?.ok_or(AppError::NotFound { entity: "product" })?;
                let settings = tx.get_store_sku(store_id, sku.id).await?;
                let mut price = effective_price(&sku, Channel::Store, settings.as_ref());
                price.available &= product.status == ListingStatus::Active;
                let stock_available =
                    tx.get_stock(store_id, sku.id).await?.map_or(0, |row| row.levels.available().get());
                items.push(TillItem { sku, product, price, stock_available });
            }
            // Sellable first, then by name, so a search shows what can be rung up on top.
            items.sort_by(|a, b| {
                b.price.available.cmp(&a.price.available).then_with(|| a.product.name.cmp(&b.product.name))
            });
            Ok(items)
        })
    }

    /// The member an identifier (phone, member card…) belongs to, with what they can spend at
    /// this store's till. A member of any store shops anywhere, so the till finds them by an
    /// identifier they present, wherever their home store is.
    pub async fn till_member(&self, ctx: &Ctx, store_id: StoreId, kind: &str, value: &str) -> AppResult<TillMember> {
        ctx.require(Permission::ReadCustomers)?;
        ctx.require(Permission::SellOrders)?;
        let identity = Identity::parse(kind, value)?;
        let at = now();
        read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            let id = tx.customer_by_identity(&identity).await?.ok_or(AppError::NotFound { entity: "customer" })?;
            let customer = crate::customers::resolve(tx, id).await?;
            let tier_name = match customer.tier_id {
                Some(tier) => tx.list_tiers().await?.into_iter().find(|t| t.id == tier).map(|t| t.name),
                None => None,
            };
            let points_balance = tx.points_balance(customer.id).await?;
            let coupons = tx.customer_coupons(customer.id, Page::first(TILL_COUPONS_LIMIT)).await?;
            let usable_coupons = crate::coupons::with_templates(tx, coupons)
                .await?
                .into_iter()
                .filter(|w| w.coupon.state_at(at) == CouponState::Usable)
                .collect();
            let profile = crate::customers::profile(tx, customer).await?;
            Ok(TillMember { profile, tier_name, points_balance, usable_coupons })
        })
    }

    /// A store's sales in the store of today (the till's, the tables' and scan-to-buy's:
    /// [`OrderChannel::sold_in_store`]), newest first; or, with a receipt number, the sale of the
    /// last week that carries it.
    pub async fn till_orders(&self, ctx: &Ctx, store_id: StoreId, receipt: Option<&str>) -> AppResult<Vec<Order>> {
        ctx.require(Permission::ReadOrders)?;
        let wanted = receipt
            .map(|raw| {
                parse_receipt_no(raw)
                    .ok_or(DomainError::Malformed { field: "receipt_no", expected: Expected::ReceiptNo })
            })
            .transpose()?;
        let at = now();
        let in_store: Vec<OrderChannel> = OrderChannel::ALL.iter().copied().filter(|c| c.sold_in_store()).collect();
        read_tx!(self, |tx| {
            let store = store_in_scope(ctx, tx, store_id).await?;
            match &wanted {
                None => {
                    let since = day_start(store.time_zone, at);
                    Ok(tx.store_orders_since(store_id, &in_store, since, TILL_DAY_LIMIT).await?)
                }
                Some(wanted) => {
                    let since = at - Duration::days(RECEIPT_SEARCH_DAYS);
                    let orders = tx.store_orders_since(store_id, &in_store, since, RECEIPT_SEARCH_LIMIT).await?;
                    Ok(orders.into_iter().filter(|o| receipt_no(o.id) == *wanted).collect())
                }
            }
        })
    }

    /// A store's open eat-first bills (桌台), by table: what each table has ordered so far and
    /// owes, for the till to add to, print the pre-settlement bill of, settle or void.
    pub async fn till_tables(&self, ctx: &Ctx, store_id: StoreId) -> AppResult<Vec<Order>> {
        ctx.require(Permission::ReadOrders)?;
        read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            Ok(tx.open_table_bills(store_id, None).await?)
        })
    }

    /// An order as its receipt prints it: the store, the lines and money, the member and the
    /// points the sale earned and spent.
    pub async fn receipt(&self, ctx: &Ctx, id: OrderId) -> AppResult<Receipt> {
        let detail = self.get_order(ctx, id).await?;
        read_tx!(self, |tx| {
            let store = tx.get_store(detail.order.store_id).await?.ok_or(AppError::NotFound { entity: "store" })?;
            let member = match detail.order.customer_id {
                Some(customer_id) => {
                    let customer =
                        tx.get_customer(customer_id).await?.ok_or(AppError::NotFound { entity: "customer" })?;
                    let phone = tx
                        .identities_of(customer.id)
                        .await?
                        .into_iter()
                        .find(|i| i.kind() == IdentityKind::Phone)
                        .map(|i| mask_phone(i.value()));
                    let tier_name = match customer.tier_id {
                        Some(tier) => tx.list_tiers().await?.into_iter().find(|t| t.id == tier).map(|t| t.name),
                        None => None,
                    };
                    Some(ReceiptMember { display_name: customer.display_name, masked_phone: phone, tier_name })
                }
                None => None,
            };
            let points = tx.order_points(id).await?;
            Ok(Receipt { receipt_no: receipt_no(id), store, member, points, detail })
        })
    }
}
