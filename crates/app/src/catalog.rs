//! Use cases of the catalog: the category tree, brands, products (SPU) with their SKUs, and each
//! store's prices and availability. HQ edits the catalog; stores edit only their own settings.

use quanyu_domain::{
    DomainError, Money,
    authz::Permission,
    catalog::{
        Attributes, Barcode, Brand, Category, Channel, EffectivePrice, ImageUrl, ListingStatus, Product, ProductKind,
        Sku, SkuPrices, StoreSku, effective_price, validate_attributes,
    },
    ids::{BrandId, CategoryId, ProductId, SkuId, StoreId},
    text,
};
use quanyu_store::{ProductFilter, SkuFilter, Tx};

use crate::{
    App, AppError, AppResult, Ctx, Listing, Reply, Written,
    change::{Change, Field, opt},
    listing::{Cursor, searchable},
    org::store_in_scope,
    write::now,
};

#[derive(Debug, Clone, Default)]
pub struct CategoryDraft {
    pub parent_id: Option<CategoryId>,
    pub name: String,
    pub sort_order: Option<i32>,
}

#[derive(Debug, Clone, Default)]
pub struct CategoryPatch {
    /// `Some(None)` makes it a root.
    pub parent_id: Option<Option<CategoryId>>,
    pub name: Option<String>,
    pub sort_order: Option<i32>,
}

#[derive(Debug, Clone, Default)]
pub struct BrandDraft {
    pub name: String,
    pub logo_url: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct BrandPatch {
    pub name: Option<String>,
    pub logo_url: Option<Option<String>>,
}

#[derive(Debug, Clone, Default)]
pub struct ProductDraft {
    pub name: String,
    pub category_id: Option<CategoryId>,
    pub brand_id: Option<BrandId>,
    pub kind: Option<String>,
    pub description: Option<String>,
    pub images: Vec<String>,
    /// Variants created with the product, in the same transaction.
    pub skus: Vec<SkuDraft>,
}

#[derive(Debug, Clone, Default)]
pub struct ProductPatch {
    pub name: Option<String>,
    pub category_id: Option<CategoryId>,
    pub brand_id: Option<Option<BrandId>>,
    pub kind: Option<String>,
    pub description: Option<Option<String>>,
    pub images: Option<Vec<String>>,
    pub status: Option<String>,
}

/// Prices in 分 as a caller gives them (checked: non-negative, bounded).
#[derive(Debug, Clone, Copy, Default)]
pub struct PriceDraft {
    pub base: i64,
    pub store: Option<i64>,
    pub online: Option<i64>,
    pub member: Option<i64>,
    pub cost: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct SkuDraft {
    /// Required when the SKU is created on its own; taken from the product otherwise.
    pub product_id: Option<ProductId>,
    pub code: String,
    pub barcode: Option<String>,
    pub name: String,
    pub unit: String,
    pub sold_by_weight: bool,
    pub attributes: Attributes,
    pub images: Vec<String>,
    pub prices: PriceDraft,
    pub online_only: bool,
}

#[derive(Debug, Clone, Default)]
pub struct SkuPatch {
    pub code: Option<String>,
    pub barcode: Option<Option<String>>,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub sold_by_weight: Option<bool>,
    pub attributes: Option<Attributes>,
    pub images: Option<Vec<String>>,
    pub base_price: Option<i64>,
    pub store_price: Option<Option<i64>>,
    pub online_price: Option<Option<i64>>,
    pub member_price: Option<Option<i64>>,
    pub cost_price: Option<Option<i64>>,
    pub online_only: Option<bool>,
    pub status: Option<String>,
}

/// A store's settings for an SKU as a caller gives them.
#[derive(Debug, Clone, Copy)]
pub struct StoreSkuDraft {
    pub price: Option<i64>,
    pub member_price: Option<i64>,
    pub available_in_store: bool,
    pub available_online: bool,
}

impl Default for StoreSkuDraft {
    fn default() -> Self {
        StoreSkuDraft { price: None, member_price: None, available_in_store: true, available_online: true }
    }
}

/// What an SKU costs in one store, per channel, with the store's own settings.
#[derive(Debug, Clone)]
pub struct StorePricing {
    pub store_id: StoreId,
    pub sku: Sku,
    pub settings: Option<StoreSku>,
    pub in_store: EffectivePrice,
    pub online: EffectivePrice,
}

impl App {
    pub async fn list_categories(&self, ctx: &Ctx) -> AppResult<Vec<Category>> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| Ok(tx.all_categories().await?))
    }

    pub async fn get_category(&self, ctx: &Ctx, id: CategoryId) -> AppResult<Category> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| category_in(tx, id).await)
    }

    pub async fn create_category(
        &self,
        ctx: &Ctx,
        draft: CategoryDraft,
        reply: Reply<'_, Category>,
    ) -> AppResult<Written<Category>> {
        ctx.require(Permission::ManageCatalog)?;
        let at = now();
        let category = Category {
            id: CategoryId::new(),
            parent_id: draft.parent_id,
            name: Category::validate_name(&draft.name)?,
            sort_order: draft.sort_order.unwrap_or(0),
            created_at: at,
            updated_at: at,
        };
        write_idempotent!(self, ctx, reply, |tx| {
            check_placement(tx, category.id, category.parent_id).await?;
            tx.insert_category(&category).await?;
            category_changes("category.created", None, &category).record(tx, Some(ctx)).await?;
            Ok(category)
        })
    }

    pub async fn update_category(&self, ctx: &Ctx, id: CategoryId, patch: CategoryPatch) -> AppResult<Category> {
        ctx.require(Permission::ManageCatalog)?;
        let name = patch.name.as_deref().map(Category::validate_name).transpose()?;
        write_tx!(self, |tx| {
            let before = category_in(tx, id).await?;
            let mut after = before.clone();
            if let Some(parent_id) = patch.parent_id {
                check_placement(tx, id, parent_id).await?;
                after.parent_id = parent_id;
            }
            after.name = name.unwrap_or(after.name);
            after.sort_order = patch.sort_order.unwrap_or(after.sort_order);
            after.updated_at = now();
            tx.update_category(&after).await?;
            category_changes("category.updated", Some(&before), &after).record(tx, Some(ctx)).await?;
            Ok(after)
        })
    }

    pub async fn list_brands(
        &self,
        ctx: &Ctx,
        search: Option<&str>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Brand>> {
        ctx.require(Permission::ReadCatalog)?;
        searchable("q", search)?;
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| Ok(tx.list_brands(search, page).await?))?;
        Ok(Listing::from_rows(rows, page, |b| b.id.as_uuid()))
    }

    pub async fn get_brand(&self, ctx: &Ctx, id: BrandId) -> AppResult<Brand> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| tx.get_brand(id).await?.ok_or(AppError::NotFound { entity: "brand" }))
    }

    pub async fn create_brand(
        &self,
        ctx: &Ctx,
        draft: BrandDraft,
        reply: Reply<'_, Brand>,
    ) -> AppResult<Written<Brand>> {
        ctx.require(Permission::ManageCatalog)?;
        let at = now();
        let brand = Brand {
            id: BrandId::new(),
            name: Brand::validate_name(&draft.name)?,
            logo_url: optional_url("logo_url", draft.logo_url.as_deref())?,
            created_at: at,
            updated_at: at,
        };
        write_idempotent!(self, ctx, reply, |tx| {
            tx.insert_brand(&brand).await?;
            brand_changes("brand.created", None, &brand).record(tx, Some(ctx)).await?;
            Ok(brand)
        })
    }

    pub async fn update_brand(&self, ctx: &Ctx, id: BrandId, patch: BrandPatch) -> AppResult<Brand> {
        ctx.require(Permission::ManageCatalog)?;
        let name = patch.name.as_deref().map(Brand::validate_name).transpose()?;
        let logo_url = patch.logo_url.as_ref().map(|u| optional_url("logo_url", u.as_deref())).transpose()?;
        write_tx!(self, |tx| {
            let before = tx.get_brand(id).await?.ok_or(AppError::NotFound { entity: "brand" })?;
            let mut after = before.clone();
            after.name = name.unwrap_or(after.name);
            after.logo_url = logo_url.unwrap_or(after.logo_url);
            after.updated_at = now();
            tx.update_brand(&after).await?;
            brand_changes("brand.updated", Some(&before), &after).record(tx, Some(ctx)).await?;
            Ok(after)
        })
    }

    pub async fn list_products(
        &self,
        ctx: &Ctx,
        filter: ProductFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Product>> {
        ctx.require(Permission::ReadCatalog)?;
        searchable("q", filter.search.as_deref())?;
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| Ok(tx.list_products(&filter, page).await?))?;
        Ok(Listing::from_rows(rows, page, |p| p.id.as_uuid()))
    }

    /// A product with its SKUs.
    pub async fn get_product(&self, ctx: &Ctx, id: ProductId) -> AppResult<(Product, Vec<Sku>)> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| {
            let product = tx.get_product(id).await?.ok_or(AppError::NotFound { entity: "product" })?;
            let filter = SkuFilter { product_id: Some(id), ..SkuFilter::default() };
            let skus = tx.list_skus(&filter, quanyu_store::Page::first(quanyu_store::Page::MAX_LIMIT)).await?;
            Ok((product, skus))
        })
    }

    /// Creates a product and, in the same transaction, the SKUs given with it.
    pub async fn create_product(
        &self,
        ctx: &Ctx,
        draft: ProductDraft,
        reply: Reply<'_, (Product, Vec<Sku>)>,
    ) -> AppResult<Written<(Product, Vec<Sku>)>> {
        ctx.require(Permission::ManageCatalog)?;
        let (product, skus) = validate_product_draft(draft)?;
        write_idempotent!(self, ctx, reply, |tx| {
            insert_product_with_skus(tx, Some(ctx), &product, &skus).await?;
            Ok((product, skus))
        })
    }

    pub async fn update_product(&self, ctx: &Ctx, id: ProductId, patch: ProductPatch) -> AppResult<Product> {
        ctx.require(Permission::ManageCatalog)?;
        let name = patch.name.as_deref().map(Product::validate_name).transpose()?;
        let kind = patch.kind.as_deref().map(ProductKind::parse).transpose()?;
        let description =
            patch.description.as_ref().map(|d| Product::validate_description(d.as_deref())).transpose()?;
        let images = patch.images.as_deref().map(|i| ImageUrl::parse_all("images", i)).transpose()?;
        let status = patch.status.as_deref().map(ListingStatus::parse).transpose()?;
        write_tx!(self, |tx| {
            let before = tx.get_product(id).await?.ok_or(AppError::NotFound { entity: "product" })?;
            let mut after = before.clone();
            if let Some(category_id) = patch.category_id {
                category_exists(tx, category_id).await?;
                after.category_id = category_id;
            }
            if let Some(brand_id) = patch.brand_id {
                if let Some(brand_id) = brand_id {
                    brand_exists(tx, brand_id).await?;
                }
                after.brand_id = brand_id;
            }
            after.name = name.unwrap_or(after.name);
            after.kind = kind.unwrap_or(after.kind);
            after.description = description.unwrap_or(after.description);
            after.images = images.unwrap_or(after.images);
            after.status = status.unwrap_or(after.status);
            after.updated_at = now();
            tx.update_product(&after).await?;
            product_changes("product.updated", Some(&before), &after).record(tx, Some(ctx)).await?;
            Ok(after)
        })
    }

    pub async fn list_skus(
        &self,
        ctx: &Ctx,
        filter: SkuFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Sku>> {
        ctx.require(Permission::ReadCatalog)?;
        searchable("q", filter.search.as_deref())?;
        searchable("barcode", filter.barcode.as_deref())?;
        let mut filter = filter;
        let page = Cursor::sorted_page(cursor, limit, &mut filter.sort)?;
        let order = filter.sort.order;
        let rows = read_tx!(self, |tx| Ok(tx.list_skus(&filter, page).await?))?;
        Ok(Listing::from_sorted_rows(rows, page, order, |s| s.id.as_uuid()))
    }

    pub async fn get_sku(&self, ctx: &Ctx, id: SkuId) -> AppResult<Sku> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| sku_in(tx, id).await)
    }

    /// The SKUs among `ids` that exist, each with its product's name, in no particular order:
    /// one query to name the SKUs on a page of stock rows or document lines.
    pub async fn skus_by_id(&self, ctx: &Ctx, ids: &[SkuId]) -> AppResult<Vec<(Sku, String)>> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| Ok(tx.get_skus(ids).await?))
    }

    pub async fn create_sku(&self, ctx: &Ctx, draft: SkuDraft, reply: Reply<'_, Sku>) -> AppResult<Written<Sku>> {
        ctx.require(Permission::ManageCatalog)?;
        let product_id = draft.product_id.ok_or(DomainError::Required { field: "product_id" })?;
        let sku = validate_sku_draft(product_id, draft)?;
        write_idempotent!(self, ctx, reply, |tx| {
            if tx.get_product(product_id).await?.is_none() {
                return Err(AppError::UnknownReference { field: "product_id", entity: "product" });
            }
            tx.insert_sku(&sku).await?;
            sku_changes("sku.created", None, &sku).record(tx, Some(ctx)).await?;
            Ok(sku)
        })
    }

    pub async fn update_sku(&self, ctx: &Ctx, id: SkuId, patch: SkuPatch) -> AppResult<Sku> {
        ctx.require(Permission::ManageCatalog)?;
        let code = patch.code.as_deref().map(Sku::validate_code).transpose()?;
        let barcode = patch.barcode.as_ref().map(|b| optional_barcode(b.as_deref())).transpose()?;
        let name = patch.name.as_deref().map(Sku::validate_name).transpose()?;
        let unit = patch.unit.as_deref().map(Sku::validate_unit).transpose()?;
        if let Some(attributes) = &patch.attributes {
            validate_attributes(attributes)?;
        }
        let images = patch.images.as_deref().map(|i| ImageUrl::parse_all("images", i)).transpose()?;
        let base = patch.base_price.map(|p| Money::price("base_price", p)).transpose()?;
        let store = patch.store_price.map(|p| optional_price("store_price", p)).transpose()?;
        let online = patch.online_price.map(|p| optional_price("online_price", p)).transpose()?;
        let member = patch.member_price.map(|p| optional_price("member_price", p)).transpose()?;
        let cost = patch.cost_price.map(|p| optional_price("cost_price", p)).transpose()?;
        let status = patch.status.as_deref().map(ListingStatus::parse).transpose()?;
        write_tx!(self, |tx| {
            let before = sku_in(tx, id).await?;
            let mut after = before.clone();
            after.code = code.unwrap_or(after.code);
            after.barcode = barcode.unwrap_or(after.barcode);
            after.name = name.unwrap_or(after.name);
            after.unit = unit.unwrap_or(after.unit);
            after.sold_by_weight = patch.sold_by_weight.unwrap_or(after.sold_by_weight);
            after.attributes = patch.attributes.unwrap_or(after.attributes);
            after.images = images.unwrap_or(after.images);
            after.prices = SkuPrices {
                base: base.unwrap_or(before.prices.base),
                store: store.unwrap_or(before.prices.store),
                online: online.unwrap_or(before.prices.online),
                member: member.unwrap_or(before.prices.member),
                cost: cost.unwrap_or(before.prices.cost),
            };
            after.online_only = patch.online_only.unwrap_or(after.online_only);
            after.status = status.unwrap_or(after.status);
            after.updated_at = now();
            tx.update_sku(&after).await?;
            sku_changes("sku.updated", Some(&before), &after).record(tx, Some(ctx)).await?;
            Ok(after)
        })
    }

    /// An SKU's price and availability in a store, in both channels.
    pub async fn store_pricing(&self, ctx: &Ctx, store_id: StoreId, sku_id: SkuId) -> AppResult<StorePricing> {
        ctx.require(Permission::ReadCatalog)?;
        read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            pricing_in(tx, store_id, sku_id).await
        })
    }

    /// The SKUs a store has its own settings for.
    pub async fn list_store_skus(
        &self,
        ctx: &Ctx,
        store_id: StoreId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<StoreSku>> {
        ctx.require(Permission::ReadCatalog)?;
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            Ok(tx.list_store_skus(store_id, page).await?)
        })?;
        Ok(Listing::from_rows(rows, page, |s| s.sku_id.as_uuid()))
    }

    /// Sets a store's price override and availability for an SKU.
    pub async fn set_store_sku(
        &self,
        ctx: &Ctx,
        store_id: StoreId,
        sku_id: SkuId,
        draft: StoreSkuDraft,
    ) -> AppResult<StorePricing> {
        ctx.require(Permission::ManageStorePrices)?;
        let price = draft.price.map(|p| Money::price("price", p)).transpose()?;
        let member_price = draft.member_price.map(|p| Money::price("member_price", p)).transpose()?;
        write_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            sku_in(tx, sku_id).await?;
            let before = tx.get_store_sku(store_id, sku_id).await?;
            let after = StoreSku {
                store_id,
                sku_id,
                price,
                member_price,
                available_in_store: draft.available_in_store,
                available_online: draft.available_online,
                updated_at: now(),
            };
            tx.put_store_sku(&after).await?;
            store_sku_changes(before.as_ref(), Some(&after), store_id, sku_id).record(tx, Some(ctx)).await?;
            pricing_in(tx, store_id, sku_id).await
        })
    }

    /// Removes a store's settings for an SKU: it sells at chain prices again.
    pub async fn clear_store_sku(&self, ctx: &Ctx, store_id: StoreId, sku_id: SkuId) -> AppResult<()> {
        ctx.require(Permission::ManageStorePrices)?;
        write_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            let before = tx.get_store_sku(store_id, sku_id).await?;
            if before.is_none() || !tx.delete_store_sku(store_id, sku_id).await? {
                return Err(AppError::NotFound { entity: "store_sku" });
            }
            store_sku_changes(before.as_ref(), None, store_id, sku_id).record(tx, Some(ctx)).await
        })
    }
}

/// Validates a product draft and its SKUs.
pub fn validate_product_draft(draft: ProductDraft) -> AppResult<(Product, Vec<Sku>)> {
    let at = now();
    let product = Product {
        id: ProductId::new(),
        name: Product::validate_name(&draft.name)?,
        category_id: draft.category_id.ok_or(DomainError::Required { field: "category_id" })?,
        brand_id: draft.brand_id,
        kind: draft.kind.as_deref().map(ProductKind::parse).transpose()?.unwrap_or(ProductKind::Standard),
        description: Product::validate_description(draft.description.as_deref())?,
        images: ImageUrl::parse_all("images", &draft.images)?,
        status: ListingStatus::Active,
        created_at: at,
        updated_at: at,
    };
    let skus = draft
        .skus
        .into_iter()
        .enumerate()
        .map(|(row, sku)| validate_sku_draft(product.id, sku).map_err(|e| AppError::Row { row, source: Box::new(e) }))
        .collect::<AppResult<Vec<_>>>()?;
    Ok((product, skus))
}

/// Validates an SKU draft for `product_id`.
pub fn validate_sku_draft(product_id: ProductId, draft: SkuDraft) -> AppResult<Sku> {
    validate_attributes(&draft.attributes)?;
    let at = now();
    Ok(Sku {
        id: SkuId::new(),
        product_id,
        code: Sku::validate_code(&draft.code)?,
        barcode: optional_barcode(draft.barcode.as_deref())?,
        name: Sku::validate_name(&draft.name)?,
        unit: Sku::validate_unit(&draft.unit)?,
        sold_by_weight: draft.sold_by_weight,
        attributes: draft.attributes,
        images: ImageUrl::parse_all("images", &draft.images)?,
        prices: SkuPrices {
            base: Money::price("base_price", draft.prices.base)?,
            store: optional_price("store_price", draft.prices.store)?,
            online: optional_price("online_price", draft.prices.online)?,
            member: optional_price("member_price", draft.prices.member)?,
            cost: optional_price("cost_price", draft.prices.cost)?,
        },
        online_only: draft.online_only,
        status: ListingStatus::Active,
        created_at: at,
        updated_at: at,
    })
}

/// Inserts a product and its SKUs, checking references, with audit entries.
pub(crate) async fn insert_product_with_skus(
    tx: &mut dyn Tx,
    ctx: Option<&Ctx>,
    product: &Product,
    skus: &[Sku],
) -> AppResult<()> {
    category_exists(tx, product.category_id).await?;
    if let Some(brand_id) = product.brand_id {
        brand_exists(tx, brand_id).await?;
    }
    tx.insert_product(product).await?;
    product_changes("product.created", None, product).record(tx, ctx).await?;
    for sku in skus {
        tx.insert_sku(sku).await?;
        sku_changes("sku.created", None, sku).record(tx, ctx).await?;
    }
    Ok(())
}

async fn pricing_in(tx: &mut dyn Tx, store_id: StoreId, sku_id: SkuId) -> AppResult<StorePricing> {
    let sku = sku_in(tx, sku_id).await?;
    let settings = tx.get_store_sku(store_id, sku_id).await?;
    Ok(StorePricing {
        store_id,
        in_store: effective_price(&sku, Channel::Store, settings.as_ref()),
        online: effective_price(&sku, Channel::Online, settings.as_ref()),
        sku,
        settings,
    })
}

async fn category_in(tx: &mut dyn Tx, id: CategoryId) -> AppResult<Category> {
    tx.get_category(id).await?.ok_or(AppError::NotFound { entity: "category" })
}

async fn sku_in(tx: &mut dyn Tx, id: SkuId) -> AppResult<Sku> {
    tx.get_sku(id).await?.ok_or(AppError::NotFound { entity: "sku" })
}

async fn category_exists(tx: &mut dyn Tx, id: CategoryId) -> AppResult<()> {
    match tx.get_category(id).await? {
        Some(_) => Ok(()),
        None => Err(AppError::UnknownReference { field: "category_id", entity: "category" }),
    }
}

async fn brand_exists(tx: &mut dyn Tx, id: BrandId) -> AppResult<()> {
    match tx.get_brand(id).await? {
        Some(_) => Ok(()),
        None => Err(AppError::UnknownReference { field: "brand_id", entity: "brand" }),
    }
}

/// Checks that `category` may sit under `parent`: the parent exists, no cycle, depth bounded.
async fn check_placement(tx: &mut dyn Tx, category: CategoryId, parent: Option<CategoryId>) -> AppResult<()> {
    let Some(parent) = parent else { return Ok(()) };
    let all = tx.all_categories().await?;
    let parent_of = |id: CategoryId| all.iter().find(|c| c.id == id).map(|c| c.parent_id);
    if parent_of(parent).is_none() {
        return Err(AppError::UnknownReference { field: "parent_id", entity: "category" });
    }
    let mut chain = vec![parent];
    while let Some(Some(next)) = chain.last().and_then(|&id| parent_of(id)) {
        if chain.contains(&next) || chain.len() > Category::MAX_DEPTH {
            break;
        }
        chain.push(next);
    }
    let height = subtree_height(&all, category);
    Ok(Category::check_placement(category, &chain, height)?)
}

/// The height of the subtree under `root` (1 for a leaf or a category not yet stored).
fn subtree_height(all: &[Category], root: CategoryId) -> usize {
    let mut height = 1;
    let mut level = vec![root];
    while !level.is_empty() && height <= Category::MAX_DEPTH {
        level = all.iter().filter(|c| c.parent_id.is_some_and(|p| level.contains(&p))).map(|c| c.id).collect();
        if !level.is_empty() {
            height += 1;
        }
    }
    height
}

fn optional_price(field: &'static str, fen: Option<i64>) -> AppResult<Option<Money>> {
    Ok(fen.map(|f| Money::price(field, f)).transpose()?)
}

fn optional_barcode(raw: Option<&str>) -> AppResult<Option<Barcode>> {
    Ok(raw.map(str::trim).filter(|b| !b.is_empty()).map(Barcode::parse).transpose()?)
}

fn optional_url(field: &'static str, raw: Option<&str>) -> AppResult<Option<ImageUrl>> {
    Ok(text::optional(field, raw, 1024)?.map(|u| ImageUrl::parse(field, &u)).transpose()?)
}

fn money(amount: Option<Money>) -> String {
    amount.map_or_else(String::new, |m| m.fen().to_string())
}

fn image_list(images: &[ImageUrl]) -> String {
    images.iter().map(ImageUrl::as_str).collect::<Vec<_>>().join(" ")
}

const CATEGORY_FIELDS: &[Field<Category>] =
    &[("name", |c| c.name.clone()), ("parent_id", |c| opt(&c.parent_id)), ("sort_order", |c| c.sort_order.to_string())];

const BRAND_FIELDS: &[Field<Brand>] = &[
    ("name", |b| b.name.clone()),
    ("logo_url", |b| b.logo_url.as_ref().map_or_else(String::new, |u| u.as_str().to_owned())),
];

const PRODUCT_FIELDS: &[Field<Product>] = &[
    ("name", |p| p.name.clone()),
    ("category_id", |p| p.category_id.to_string()),
    ("brand_id", |p| opt(&p.brand_id)),
    ("kind", |p| p.kind.as_str().to_owned()),
    ("description", |p| opt(&p.description)),
    ("images", |p| image_list(&p.images)),
    ("status", |p| p.status.as_str().to_owned()),
];

const SKU_FIELDS: &[Field<Sku>] = &[
    ("product_id", |s| s.product_id.to_string()),
    ("code", |s| s.code.clone()),
    ("barcode", |s| s.barcode.as_ref().map_or_else(String::new, |b| b.as_str().to_owned())),
    ("name", |s| s.name.clone()),
    ("unit", |s| s.unit.clone()),
    ("sold_by_weight", |s| s.sold_by_weight.to_string()),
    ("attributes", |s| s.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("; ")),
    ("images", |s| image_list(&s.images)),
    ("base_price", |s| money(Some(s.prices.base))),
    ("store_price", |s| money(s.prices.store)),
    ("online_price", |s| money(s.prices.online)),
    ("member_price", |s| money(s.prices.member)),
    ("cost_price", |s| money(s.prices.cost)),
    ("online_only", |s| s.online_only.to_string()),
    ("status", |s| s.status.as_str().to_owned()),
];

const STORE_SKU_FIELDS: &[Field<StoreSku>] = &[
    ("price", |s| money(s.price)),
    ("member_price", |s| money(s.member_price)),
    ("available_in_store", |s| s.available_in_store.to_string()),
    ("available_online", |s| s.available_online.to_string()),
];

pub(crate) fn category_changes(action: &'static str, before: Option<&Category>, after: &Category) -> Change {
    Change::new(action, "category", after.id).fields(CATEGORY_FIELDS, before, Some(after))
}

pub(crate) fn brand_changes(action: &'static str, before: Option<&Brand>, after: &Brand) -> Change {
    Change::new(action, "brand", after.id).fields(BRAND_FIELDS, before, Some(after))
}

pub(crate) fn product_changes(action: &'static str, before: Option<&Product>, after: &Product) -> Change {
    Change::new(action, "product", after.id).fields(PRODUCT_FIELDS, before, Some(after))
}

pub(crate) fn sku_changes(action: &'static str, before: Option<&Sku>, after: &Sku) -> Change {
    Change::new(action, "sku", after.id).fields(SKU_FIELDS, before, Some(after))
}

fn store_sku_changes(before: Option<&StoreSku>, after: Option<&StoreSku>, store_id: StoreId, sku_id: SkuId) -> Change {
    let action = if after.is_some() { "store_sku.set" } else { "store_sku.cleared" };
    Change::new(action, "store_sku", format!("{store_id}/{sku_id}")).in_store(store_id).fields(
        STORE_SKU_FIELDS,
        before,
        after,
    )
}
