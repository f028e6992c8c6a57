//! The till's reads (收银台): what a scanned barcode or a typed name finds in a store, priced
//! for the till with the stock it can sell, a store's sales in the store of today for reprints and
//! refunds, and its open table bills (桌台). Selling, adding to a bill, paying, voiding and
//! refunding use the order routes.

use axum::{extract::State, response::Response};
use quanyu_app::{TillItem, TillMember, TillSearch};
use quanyu_domain::{DomainError, ids::StoreId, till::receipt_no};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, customers::CustomerOut, marketing::CouponOut, ok, orders::OrderOut};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct TillItemOut {
    sku_id: Uuid,
    product_id: Uuid,
    /// The product and variant as a receipt names them, e.g. "烟台苹果 500g 盒装".
    name: String,
    product_name: String,
    sku_name: String,
    code: String,
    barcode: Option<String>,
    unit: String,
    /// standard, fresh, made_to_order or service.
    kind: String,
    /// Quantities in grams and prices per kilogram.
    sold_by_weight: bool,
    /// What a customer pays at the till, per unit (per kg when by weight), 分.
    price: i64,
    /// What a member pays, 分 (equal to `price` when there is no member price).
    member_price: i64,
    /// Listed, sold in stores and not switched off by this store.
    available: bool,
    /// What the store can sell now: on hand less held and committed (grams when by weight).
    stock_available: i64,
}

impl From<&TillItem> for TillItemOut {
    fn from(item: &TillItem) -> Self {
        let (product, sku) = (&item.product, &item.sku);
        TillItemOut {
            sku_id: sku.id.as_uuid(),
            product_id: product.id.as_uuid(),
            name: if product.name == sku.name { sku.name.clone() } else { format!("{} {}", product.name, sku.name) },
            product_name: product.name.clone(),
            sku_name: sku.name.clone(),
            code: sku.code.clone(),
            barcode: sku.barcode.as_ref().map(|b| b.as_str().to_owned()),
            unit: sku.unit.clone(),
            kind: product.kind.as_str().to_owned(),
            sold_by_weight: sku.sold_by_weight,
            price: item.price.regular.fen(),
            member_price: item.price.member.fen(),
            available: item.price.available,
            stock_available: item.stock_available,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TillItemQuery {
    /// A scanned or typed barcode: finds the SKU that carries it exactly.
    barcode: Option<String>,
    /// Otherwise words of the product or variant name or the merchant code.
    q: Option<String>,
}

/// What a barcode or a name finds in a store, priced for its till (at most 20, sellable first).
/// An unknown barcode answers an empty list.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/till-items", tag = "till", params(TillItemQuery),
    responses((status = 200, body = ListOut<TillItemOut>), (status = 422, description = "required, malformed")))]
pub async fn till_items(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<TillItemQuery>,
) -> Result<Response, ApiError> {
    let search = match (query.barcode, query.q) {
        (Some(barcode), _) => TillSearch::Barcode(barcode),
        (None, Some(words)) => TillSearch::Words(words),
        (None, None) => return Err(DomainError::Required { field: "barcode" }.into()),
    };
    let items = state.app.till_items(&ctx, StoreId::from_uuid(store_id), search).await?;
    Ok(ok(ListOut { items: items.iter().map(TillItemOut::from).collect(), next_cursor: None }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TillOrderOut {
    /// The short number printed on the receipt: the id's last 8 hex digits.
    receipt_no: String,
    order: OrderOut,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TillOrderQuery {
    /// The 8 characters printed on a receipt: finds that sale within the last 7 days.
    receipt_no: Option<String>,
}

/// A store's till sales (channel `pos`) of today, newest first; or the one sale of the last 7
/// days with a receipt number.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/till-orders", tag = "till", params(TillOrderQuery),
    responses((status = 200, body = ListOut<TillOrderOut>), (status = 422, description = "malformed receipt_no")))]
pub async fn till_orders(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<TillOrderQuery>,
) -> Result<Response, ApiError> {
    let orders = state.app.till_orders(&ctx, StoreId::from_uuid(store_id), query.receipt_no.as_deref()).await?;
    let items =
        orders.iter().map(|o| TillOrderOut { receipt_no: receipt_no(o.id), order: OrderOut::summary(o) }).collect();
    Ok(ok(ListOut { items, next_cursor: None }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TillTableOut {
    /// The table's label, e.g. "A3".
    table: String,
    /// The bill's number as its pre-settlement bill and receipt print it.
    receipt_no: String,
    /// Units ordered, counting a line sold by weight once.
    item_count: i64,
    /// What the bill comes to so far (分).
    total: i64,
    /// When the bill was opened.
    opened_at: chrono::DateTime<chrono::Utc>,
    order: OrderOut,
}

/// A store's open eat-first bills (桌台), by table: each with its items so far and running
/// total. Add items with `POST /orders/{id}/lines`, settle with `POST /orders/{id}/payments`,
/// void with `POST /orders/{id}/cancel`.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/till-tables", tag = "till",
    responses((status = 200, body = ListOut<TillTableOut>), (status = 404, description = "not_found")))]
pub async fn till_tables(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let bills = state.app.till_tables(&ctx, StoreId::from_uuid(store_id)).await?;
    let items = bills
        .iter()
        .map(|o| TillTableOut {
            table: o.table.as_ref().map_or_else(String::new, |t| t.as_str().to_owned()),
            receipt_no: receipt_no(o.id),
            item_count: quanyu_domain::table::item_count(o),
            total: o.total.fen(),
            opened_at: o.created_at,
            order: OrderOut::summary(o),
        })
        .collect();
    Ok(ok(ListOut { items, next_cursor: None }))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TillMemberOut {
    customer: CustomerOut,
    tier_name: Option<String>,
    points_balance: i64,
    /// The coupons of the wallet usable now (the quote says which apply to the cart).
    coupons: Vec<CouponOut>,
}

impl From<&TillMember> for TillMemberOut {
    fn from(m: &TillMember) -> Self {
        TillMemberOut {
            customer: CustomerOut::profile(&m.profile),
            tier_name: m.tier_name.clone(),
            points_balance: m.points_balance,
            coupons: m.usable_coupons.iter().map(CouponOut::from).collect(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TillMemberQuery {
    /// phone or member_card (any identifier kind is accepted).
    kind: String,
    value: String,
}

/// The member an identifier belongs to, from any store, with their tier, points and usable
/// coupons, for this store's till (cashiers, store managers and above).
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/till-member", tag = "till", params(TillMemberQuery),
    responses((status = 200, body = TillMemberOut), (status = 404, description = "not_found")))]
pub async fn till_member(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<TillMemberQuery>,
) -> Result<Response, ApiError> {
    let member = state.app.till_member(&ctx, StoreId::from_uuid(store_id), &query.kind, &query.value).await?;
    Ok(ok(TillMemberOut::from(&member)))
}
