//! The catalog: categories, brands, products (SPU), SKUs, and each store's prices.

use std::collections::BTreeMap;

use axum::{
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use chrono::{DateTime, Utc};
use quanyu_app::{
    BrandDraft, BrandPatch, CategoryDraft, CategoryPatch, Ctx, PriceDraft, ProductDraft, ProductPatch, SkuDraft,
    SkuPatch, StorePricing, StoreSkuDraft,
};
use quanyu_domain::{
    Money,
    catalog::{Brand, Category, EffectivePrice, Product, Sku, StoreSku},
    ids::{BrandId, CategoryId, ProductId, SkuId, StoreId},
};
use quanyu_store::{ProductFilter, SkuFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, PageQuery, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create, JsonBody, double_option},
};

// --- Categories ----------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryOut {
    id: Uuid,
    parent_id: Option<Uuid>,
    name: String,
    sort_order: i32,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&Category> for CategoryOut {
    fn from(c: &Category) -> Self {
        CategoryOut {
            id: c.id.as_uuid(),
            parent_id: c.parent_id.map(|p| p.as_uuid()),
            name: c.name.clone(),
            sort_order: c.sort_order,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryIn {
    parent_id: Option<Uuid>,
    name: String,
    sort_order: Option<i32>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CategoryPatchIn {
    /// `null` makes it a root category.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    parent_id: Option<Option<Uuid>>,
    name: Option<String>,
    sort_order: Option<i32>,
}

/// The whole category tree, flat (each with its `parent_id`), by sort order. One page.
#[utoipa::path(get, path = "/api/v1/categories", tag = "catalog", responses((status = 200, body = ListOut<CategoryOut>)))]
pub async fn list_categories(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    let categories = state.app.list_categories(&ctx).await?;
    Ok(ok(ListOut { items: categories.iter().map(CategoryOut::from).collect(), next_cursor: None }))
}

/// Creates a category (HQ). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/categories", tag = "catalog", request_body = CategoryIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = CategoryOut)))]
pub async fn create_category(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<CategoryIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = CategoryDraft {
        parent_id: input.parent_id.map(CategoryId::from_uuid),
        name: input.name,
        sort_order: input.sort_order,
    };
    let reply = json_reply(|value| CategoryOut::from(value));
    Ok(created(state.app.create_category(&ctx, draft, &reply).await?, &reply))
}

#[utoipa::path(get, path = "/api/v1/categories/{id}", tag = "catalog", responses((status = 200, body = CategoryOut)))]
pub async fn get_category(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(CategoryOut::from(&state.app.get_category(&ctx, CategoryId::from_uuid(id)).await?)))
}

/// Renames, reorders or moves a category (no cycles, at most five levels).
#[utoipa::path(patch, path = "/api/v1/categories/{id}", tag = "catalog", request_body = CategoryPatchIn,
    responses((status = 200, body = CategoryOut)))]
pub async fn update_category(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<CategoryPatchIn>,
) -> Result<Response, ApiError> {
    let patch = CategoryPatch {
        parent_id: input.parent_id.map(|p| p.map(CategoryId::from_uuid)),
        name: input.name,
        sort_order: input.sort_order,
    };
    Ok(ok(CategoryOut::from(&state.app.update_category(&ctx, CategoryId::from_uuid(id), patch).await?)))
}

// --- Brands --------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct BrandOut {
    id: Uuid,
    name: String,
    logo_url: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&Brand> for BrandOut {
    fn from(b: &Brand) -> Self {
        BrandOut {
            id: b.id.as_uuid(),
            name: b.name.clone(),
            logo_url: b.logo_url.as_ref().map(|u| u.as_str().to_owned()),
            created_at: b.created_at,
            updated_at: b.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandIn {
    name: String,
    logo_url: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BrandPatchIn {
    name: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    logo_url: Option<Option<String>>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct BrandQuery {
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/brands", tag = "catalog", params(BrandQuery), responses((status = 200, body = ListOut<BrandOut>)))]
pub async fn list_brands(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<BrandQuery>,
) -> Result<Response, ApiError> {
    let listing = state.app.list_brands(&ctx, query.q.as_deref(), query.cursor.as_deref(), query.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |b| BrandOut::from(&b))))
}

#[utoipa::path(post, path = "/api/v1/brands", tag = "catalog", request_body = BrandIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = BrandOut), (status = 409, description = "duplicate_brand_name")))]
pub async fn create_brand(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<BrandIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let draft = BrandDraft { name: create.body.name, logo_url: create.body.logo_url };
    let reply = json_reply(|value| BrandOut::from(value));
    Ok(created(state.app.create_brand(&ctx, draft, &reply).await?, &reply))
}

#[utoipa::path(get, path = "/api/v1/brands/{id}", tag = "catalog", responses((status = 200, body = BrandOut)))]
pub async fn get_brand(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(BrandOut::from(&state.app.get_brand(&ctx, BrandId::from_uuid(id)).await?)))
}

#[utoipa::path(patch, path = "/api/v1/brands/{id}", tag = "catalog", request_body = BrandPatchIn, responses((status = 200, body = BrandOut)))]
pub async fn update_brand(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<BrandPatchIn>,
) -> Result<Response, ApiError> {
    let patch = BrandPatch { name: input.name, logo_url: input.logo_url };
    Ok(ok(BrandOut::from(&state.app.update_brand(&ctx, BrandId::from_uuid(id), patch).await?)))
}

// --- SKUs ----------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct PricesOut {
    /// All money is an integer number of 分 (1/100 CNY). Per kg when sold by weight.
    base: i64,
    store: Option<i64>,
    online: Option<i64>,
    member: Option<i64>,
    cost: Option<i64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SkuOut {
    id: Uuid,
    product_id: Uuid,
    code: String,
    barcode: Option<String>,
    name: String,
    unit: String,
    /// Quantities in grams, prices per kilogram.
    sold_by_weight: bool,
    attributes: BTreeMap<String, String>,
    images: Vec<String>,
    prices: PricesOut,
    online_only: bool,
    /// `active` or `inactive`.
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

fn fen(m: Option<Money>) -> Option<i64> {
    m.map(Money::fen)
}

impl From<&Sku> for SkuOut {
    fn from(s: &Sku) -> Self {
        SkuOut {
            id: s.id.as_uuid(),
            product_id: s.product_id.as_uuid(),
            code: s.code.clone(),
            barcode: s.barcode.as_ref().map(|b| b.as_str().to_owned()),
            name: s.name.clone(),
            unit: s.unit.clone(),
            sold_by_weight: s.sold_by_weight,
            attributes: s.attributes.clone(),
            images: s.images.iter().map(|i| i.as_str().to_owned()).collect(),
            prices: PricesOut {
                base: s.prices.base.fen(),
                store: fen(s.prices.store),
                online: fen(s.prices.online),
                member: fen(s.prices.member),
                cost: fen(s.prices.cost),
            },
            online_only: s.online_only,
            status: s.status.as_str().to_owned(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuIn {
    /// Required when creating an SKU on its own; omitted inside a product.
    product_id: Option<Uuid>,
    /// Unique merchant code (货号).
    code: String,
    /// GTIN (check digit verified) or an internal code; unique.
    barcode: Option<String>,
    name: String,
    unit: String,
    #[serde(default)]
    sold_by_weight: bool,
    #[serde(default)]
    attributes: BTreeMap<String, String>,
    #[serde(default)]
    images: Vec<String>,
    /// 分, non-negative.
    base_price: i64,
    store_price: Option<i64>,
    online_price: Option<i64>,
    member_price: Option<i64>,
    cost_price: Option<i64>,
    #[serde(default)]
    online_only: bool,
}

impl From<SkuIn> for SkuDraft {
    fn from(s: SkuIn) -> Self {
        SkuDraft {
            product_id: s.product_id.map(ProductId::from_uuid),
            code: s.code,
            barcode: s.barcode,
            name: s.name,
            unit: s.unit,
            sold_by_weight: s.sold_by_weight,
            attributes: s.attributes,
            images: s.images,
            prices: PriceDraft {
                base: s.base_price,
                store: s.store_price,
                online: s.online_price,
                member: s.member_price,
                cost: s.cost_price,
            },
            online_only: s.online_only,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkuPatchIn {
    code: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    barcode: Option<Option<String>>,
    name: Option<String>,
    unit: Option<String>,
    sold_by_weight: Option<bool>,
    attributes: Option<BTreeMap<String, String>>,
    images: Option<Vec<String>>,
    base_price: Option<i64>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    store_price: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    online_price: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    member_price: Option<Option<i64>>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<i64>)]
    cost_price: Option<Option<i64>>,
    online_only: Option<bool>,
    status: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SkuQuery {
    product_id: Option<Uuid>,
    /// SKUs of products in this category or any below it.
    category_id: Option<Uuid>,
    barcode: Option<String>,
    /// Substring of SKU code, SKU name or product name.
    q: Option<String>,
    /// `code`, `name`, `base_price` or `created_at` (the default); `-` first for descending.
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/skus", tag = "catalog", params(SkuQuery), responses((status = 200, body = ListOut<SkuOut>)))]
pub async fn list_skus(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<SkuQuery>,
) -> Result<Response, ApiError> {
    let filter = SkuFilter {
        product_id: query.product_id.map(ProductId::from_uuid),
        category_id: query.category_id.map(CategoryId::from_uuid),
        barcode: query.barcode,
        search: query.q,
        sort: quanyu_app::parse_sort(query.sort.as_deref())?.into(),
    };
    let listing = state.app.list_skus(&ctx, filter, query.cursor.as_deref(), query.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |s| SkuOut::from(&s))))
}

/// Adds an SKU to a product (HQ). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/skus", tag = "catalog", request_body = SkuIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = SkuOut), (status = 409, description = "duplicate_barcode, duplicate_sku_code"),
              (status = 422, description = "negative_money, money_overflow, malformed…")))]
pub async fn create_sku(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<SkuIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let reply = json_reply(|value| SkuOut::from(value));
    Ok(created(state.app.create_sku(&ctx, create.body.into(), &reply).await?, &reply))
}

#[utoipa::path(get, path = "/api/v1/skus/{id}", tag = "catalog", responses((status = 200, body = SkuOut)))]
pub async fn get_sku(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(SkuOut::from(&state.app.get_sku(&ctx, SkuId::from_uuid(id)).await?)))
}

#[utoipa::path(patch, path = "/api/v1/skus/{id}", tag = "catalog", request_body = SkuPatchIn, responses((status = 200, body = SkuOut)))]
pub async fn update_sku(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<SkuPatchIn>,
) -> Result<Response, ApiError> {
    let patch = SkuPatch {
        code: input.code,
        barcode: input.barcode,
        name: input.name,
        unit: input.unit,
        sold_by_weight: input.sold_by_weight,
        attributes: input.attributes,
        images: input.images,
        base_price: input.base_price,
        store_price: input.store_price,
        online_price: input.online_price,
        member_price: input.member_price,
        cost_price: input.cost_price,
        online_only: input.online_only,
        status: input.status,
    };
    Ok(ok(SkuOut::from(&state.app.update_sku(&ctx, SkuId::from_uuid(id), patch).await?)))
}

// --- Products ------------------------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct ProductOut {
    id: Uuid,
    name: String,
    category_id: Uuid,
    brand_id: Option<Uuid>,
    /// standard, fresh, made_to_order or service.
    kind: String,
    description: Option<String>,
    images: Vec<String>,
    status: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Present on single-product reads and creates.
    #[serde(skip_serializing_if = "Option::is_none")]
    skus: Option<Vec<SkuOut>>,
}

impl ProductOut {
    pub(crate) fn new(p: &Product, skus: Option<&[Sku]>) -> ProductOut {
        ProductOut {
            id: p.id.as_uuid(),
            name: p.name.clone(),
            category_id: p.category_id.as_uuid(),
            brand_id: p.brand_id.map(|b| b.as_uuid()),
            kind: p.kind.as_str().to_owned(),
            description: p.description.clone(),
            images: p.images.iter().map(|i| i.as_str().to_owned()).collect(),
            status: p.status.as_str().to_owned(),
            created_at: p.created_at,
            updated_at: p.updated_at,
            skus: skus.map(|skus| skus.iter().map(SkuOut::from).collect()),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductIn {
    name: String,
    category_id: Uuid,
    brand_id: Option<Uuid>,
    /// standard (default), fresh, made_to_order or service.
    kind: Option<String>,
    description: Option<String>,
    #[serde(default)]
    images: Vec<String>,
    /// Variants created with the product, in one transaction.
    #[serde(default)]
    skus: Vec<SkuIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProductPatchIn {
    name: Option<String>,
    category_id: Option<Uuid>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<Uuid>)]
    brand_id: Option<Option<Uuid>>,
    kind: Option<String>,
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    description: Option<Option<String>>,
    images: Option<Vec<String>>,
    status: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProductQuery {
    /// Products in this category or any below it.
    category_id: Option<Uuid>,
    brand_id: Option<Uuid>,
    q: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

#[utoipa::path(get, path = "/api/v1/products", tag = "catalog", params(ProductQuery), responses((status = 200, body = ListOut<ProductOut>)))]
pub async fn list_products(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<ProductQuery>,
) -> Result<Response, ApiError> {
    let filter = ProductFilter {
        category_id: query.category_id.map(CategoryId::from_uuid),
        brand_id: query.brand_id.map(BrandId::from_uuid),
        search: query.q,
    };
    let listing = state.app.list_products(&ctx, filter, query.cursor.as_deref(), query.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |p| ProductOut::new(&p, None))))
}

/// Creates a product (SPU) with its SKUs (HQ). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/products", tag = "catalog", request_body = ProductIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = ProductOut)))]
pub async fn create_product(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<ProductIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = ProductDraft {
        name: input.name,
        category_id: Some(CategoryId::from_uuid(input.category_id)),
        brand_id: input.brand_id.map(BrandId::from_uuid),
        kind: input.kind,
        description: input.description,
        images: input.images,
        skus: input.skus.into_iter().map(SkuDraft::from).collect(),
    };
    let reply = json_reply(|(product, skus): &(Product, Vec<Sku>)| ProductOut::new(product, Some(skus)));
    Ok(created(state.app.create_product(&ctx, draft, &reply).await?, &reply))
}

/// A product with its SKUs.
#[utoipa::path(get, path = "/api/v1/products/{id}", tag = "catalog", responses((status = 200, body = ProductOut)))]
pub async fn get_product(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let (product, skus) = state.app.get_product(&ctx, ProductId::from_uuid(id)).await?;
    Ok(ok(ProductOut::new(&product, Some(&skus))))
}

#[utoipa::path(patch, path = "/api/v1/products/{id}", tag = "catalog", request_body = ProductPatchIn, responses((status = 200, body = ProductOut)))]
pub async fn update_product(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<ProductPatchIn>,
) -> Result<Response, ApiError> {
    let patch = ProductPatch {
        name: input.name,
        category_id: input.category_id.map(CategoryId::from_uuid),
        brand_id: input.brand_id.map(|b| b.map(BrandId::from_uuid)),
        kind: input.kind,
        description: input.description,
        images: input.images,
        status: input.status,
    };
    Ok(ok(ProductOut::new(&state.app.update_product(&ctx, ProductId::from_uuid(id), patch).await?, None)))
}

// --- Store prices and availability ---------------------------------------------------------

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreSkuOut {
    sku_id: Uuid,
    /// Store override price in 分 (both channels), if any.
    price: Option<i64>,
    member_price: Option<i64>,
    available_in_store: bool,
    available_online: bool,
    updated_at: DateTime<Utc>,
}

impl From<&StoreSku> for StoreSkuOut {
    fn from(s: &StoreSku) -> Self {
        StoreSkuOut {
            sku_id: s.sku_id.as_uuid(),
            price: fen(s.price),
            member_price: fen(s.member_price),
            available_in_store: s.available_in_store,
            available_online: s.available_online,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct EffectivePriceOut {
    /// What a customer pays, in 分.
    regular: i64,
    /// base, channel or store_override.
    regular_source: String,
    /// What a member pays, in 分.
    member: i64,
    available: bool,
}

impl From<&EffectivePrice> for EffectivePriceOut {
    fn from(p: &EffectivePrice) -> Self {
        EffectivePriceOut {
            regular: p.regular.fen(),
            regular_source: p.regular_source.as_str().to_owned(),
            member: p.member.fen(),
            available: p.available,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StorePricingOut {
    store_id: Uuid,
    sku: SkuOut,
    /// The store's own settings, if it has any.
    settings: Option<StoreSkuOut>,
    /// POS, scan-to-buy, table ordering.
    in_store: EffectivePriceOut,
    /// Delivery and pickup.
    online: EffectivePriceOut,
}

impl From<&StorePricing> for StorePricingOut {
    fn from(p: &StorePricing) -> Self {
        StorePricingOut {
            store_id: p.store_id.as_uuid(),
            sku: SkuOut::from(&p.sku),
            settings: p.settings.as_ref().map(StoreSkuOut::from),
            in_store: EffectivePriceOut::from(&p.in_store),
            online: EffectivePriceOut::from(&p.online),
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreSkuIn {
    /// Override price in 分 for this store (both channels); omit to use chain prices.
    price: Option<i64>,
    member_price: Option<i64>,
    /// Default true.
    available_in_store: Option<bool>,
    /// Default true.
    available_online: Option<bool>,
}

/// The SKUs a store has its own prices or availability for.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/skus", tag = "catalog", params(PageQuery),
    responses((status = 200, body = ListOut<StoreSkuOut>)))]
pub async fn list_store_skus(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let listing =
        state.app.list_store_skus(&ctx, StoreId::from_uuid(store_id), page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |s| StoreSkuOut::from(&s))))
}

/// What an SKU costs in a store, in both channels, and why.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/skus/{sku_id}", tag = "catalog",
    responses((status = 200, body = StorePricingOut)))]
pub async fn get_store_sku(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath((store_id, sku_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let pricing = state.app.store_pricing(&ctx, StoreId::from_uuid(store_id), SkuId::from_uuid(sku_id)).await?;
    Ok(ok(StorePricingOut::from(&pricing)))
}

/// Sets a store's price override and availability for an SKU (store manager and above).
#[utoipa::path(put, path = "/api/v1/stores/{store_id}/skus/{sku_id}", tag = "catalog", request_body = StoreSkuIn,
    responses((status = 200, body = StorePricingOut)))]
pub async fn put_store_sku(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath((store_id, sku_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(input): JsonBody<StoreSkuIn>,
) -> Result<Response, ApiError> {
    let draft = StoreSkuDraft {
        price: input.price,
        member_price: input.member_price,
        available_in_store: input.available_in_store.unwrap_or(true),
        available_online: input.available_online.unwrap_or(true),
    };
    let pricing = state.app.set_store_sku(&ctx, StoreId::from_uuid(store_id), SkuId::from_uuid(sku_id), draft).await?;
    Ok(ok(StorePricingOut::from(&pricing)))
}

/// Removes a store's settings for an SKU.
#[utoipa::path(delete, path = "/api/v1/stores/{store_id}/skus/{sku_id}", tag = "catalog", responses((status = 204)))]
pub async fn delete_store_sku(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath((store_id, sku_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    state.app.clear_store_sku(&ctx, StoreId::from_uuid(store_id), SkuId::from_uuid(sku_id)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
