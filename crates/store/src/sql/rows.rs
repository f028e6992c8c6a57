//! Reading rows back into domain types. A value the domain refuses is `StoreError::Corrupt`:
//! the database holds something no use case could have written.

use quanyu_domain::{
    Money,
    catalog::{Barcode, Brand, Category, ImageUrl, ListingStatus, Product, ProductKind, Sku, SkuPrices, StoreSku},
    geo::Coordinates,
    ids::{BrandId, CategoryId, ProductId, RegionId, SkuId, StaffId, StoreId, TokenId},
    org::{
        Assignment, OpeningHours, Region, Role, Scope, ScopeLevel, Staff, StaffStatus, Store, StoreKind, StoreStatus,
    },
    text::Phone,
    time::TimeZone,
};
use sqlx::{Row as _, types::Json};
use uuid::Uuid;

use super::super::Db;
use crate::{AuditEntry, FieldChange, IdempotencyRecord, OutboxEvent, StoreError, StoreResult, TokenKind, TokenRecord};

pub(super) type Row = <Db as sqlx::Database>::Row;

fn corrupt(what: &str, err: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("{what}: {err}"))
}

fn get<'r, T>(row: &'r Row, column: &str) -> StoreResult<T>
where
    T: sqlx::Decode<'r, Db> + sqlx::Type<Db>,
{
    Ok(row.try_get(column)?)
}

fn uint(row: &Row, column: &str) -> StoreResult<u32> {
    let value: i64 = get(row, column)?;
    u32::try_from(value).map_err(|e| corrupt(column, e))
}

fn money(row: &Row, column: &str) -> StoreResult<Option<Money>> {
    Ok(get::<Option<i64>>(row, column)?.map(Money::from_fen))
}

fn images(row: &Row) -> StoreResult<Vec<ImageUrl>> {
    let Json(urls): Json<Vec<String>> = get(row, "images")?;
    urls.iter().map(|u| ImageUrl::parse("images", u).map_err(|e| corrupt("images", e))).collect()
}

pub(super) fn region(row: &Row) -> StoreResult<Region> {
    Ok(Region {
        id: RegionId::from_uuid(get(row, "id")?),
        code: get(row, "code")?,
        name: get(row, "name")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn store(row: &Row) -> StoreResult<Store> {
    let status: String = get(row, "status")?;
    let kind: String = get(row, "kind")?;
    let hours: String = get(row, "opening_hours")?;
    let zone: String = get(row, "time_zone")?;
    Ok(Store {
        id: StoreId::from_uuid(get(row, "id")?),
        region_id: RegionId::from_uuid(get(row, "region_id")?),
        code: get(row, "code")?,
        name: get(row, "name")?,
        address: get(row, "address")?,
        location: Coordinates::new(get(row, "lat")?, get(row, "lng")?).map_err(|e| corrupt("location", e))?,
        opening_hours: OpeningHours::parse(&hours).map_err(|e| corrupt("opening_hours", e))?,
        time_zone: TimeZone::parse(&zone).map_err(|e| corrupt("time_zone", e))?,
        area_m2: uint(row, "area_m2")?,
        delivery_radius_m: uint(row, "delivery_radius_m")?,
        phone: get(row, "phone")?,
        kind: StoreKind::parse(&kind).map_err(|e| corrupt("kind", e))?,
        status: StoreStatus::parse(&status).map_err(|e| corrupt("status", e))?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn staff(row: &Row) -> StoreResult<Staff> {
    let role: String = get(row, "role")?;
    let role = Role::parse(&role).map_err(|e| corrupt("role", e))?;
    let region: Option<Uuid> = get(row, "scope_region_id")?;
    let store: Option<Uuid> = get(row, "scope_store_id")?;
    let scope = match role.level() {
        ScopeLevel::All => Some(Scope::All),
        ScopeLevel::Region => region.map(|r| Scope::Region(RegionId::from_uuid(r))),
        ScopeLevel::Store => store.map(|s| Scope::Store(StoreId::from_uuid(s))),
    }
    .ok_or_else(|| corrupt("scope", "missing for the role"))?;
    let phone: Option<String> = get(row, "phone")?;
    let status: String = get(row, "status")?;
    Ok(Staff {
        id: StaffId::from_uuid(get(row, "id")?),
        username: get(row, "username")?,
        display_name: get(row, "display_name")?,
        phone: phone.map(|p| Phone::parse(&p).map_err(|e| corrupt("phone", e))).transpose()?,
        assignment: Assignment::new(role, scope).map_err(|e| corrupt("scope", e))?,
        status: StaffStatus::parse(&status).map_err(|e| corrupt("status", e))?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

/// The scope columns of a staff row: (region id, store id).
pub(super) fn scope_columns(staff: &Staff) -> (Option<Uuid>, Option<Uuid>) {
    match staff.assignment.scope() {
        Scope::All => (None, None),
        Scope::Region(region) => (Some(region.as_uuid()), None),
        Scope::Store(store) => (None, Some(store.as_uuid())),
    }
}

pub(super) fn token(row: &Row) -> StoreResult<TokenRecord> {
    let kind: String = get(row, "kind")?;
    Ok(TokenRecord {
        id: TokenId::from_uuid(get(row, "id")?),
        staff_id: StaffId::from_uuid(get(row, "staff_id")?),
        kind: TokenKind::parse(&kind).ok_or_else(|| corrupt("kind", &kind))?,
        name: get(row, "name")?,
        secret_hash: get(row, "secret_hash")?,
        created_at: get(row, "created_at")?,
        expires_at: get(row, "expires_at")?,
        revoked_at: get(row, "revoked_at")?,
    })
}

pub(super) fn category(row: &Row) -> StoreResult<Category> {
    let parent: Option<Uuid> = get(row, "parent_id")?;
    Ok(Category {
        id: CategoryId::from_uuid(get(row, "id")?),
        parent_id: parent.map(CategoryId::from_uuid),
        name: get(row, "name")?,
        sort_order: get(row, "sort_order")?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn brand(row: &Row) -> StoreResult<Brand> {
    let logo: Option<String> = get(row, "logo_url")?;
    Ok(Brand {
        id: BrandId::from_uuid(get(row, "id")?),
        name: get(row, "name")?,
        logo_url: logo.map(|u| ImageUrl::parse("logo_url", &u).map_err(|e| corrupt("logo_url", e))).transpose()?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn product(row: &Row) -> StoreResult<Product> {
    let kind: String = get(row, "kind")?;
    let status: String = get(row, "status")?;
    let brand: Option<Uuid> = get(row, "brand_id")?;
    Ok(Product {
        id: ProductId::from_uuid(get(row, "id")?),
        name: get(row, "name")?,
        category_id: CategoryId::from_uuid(get(row, "category_id")?),
        brand_id: brand.map(BrandId::from_uuid),
        kind: ProductKind::parse(&kind).map_err(|e| corrupt("kind", e))?,
        description: get(row, "description")?,
        images: images(row)?,
        status: ListingStatus::parse(&status).map_err(|e| corrupt("status", e))?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn sku(row: &Row) -> StoreResult<Sku> {
    let barcode: Option<String> = get(row, "barcode")?;
    let status: String = get(row, "status")?;
    let Json(attributes) = get(row, "attributes")?;
    Ok(Sku {
        id: SkuId::from_uuid(get(row, "id")?),
        product_id: ProductId::from_uuid(get(row, "product_id")?),
        code: get(row, "code")?,
        barcode: barcode.map(|b| Barcode::parse(&b).map_err(|e| corrupt("barcode", e))).transpose()?,
        name: get(row, "name")?,
        unit: get(row, "unit")?,
        sold_by_weight: get(row, "sold_by_weight")?,
        attributes,
        images: images(row)?,
        prices: SkuPrices {
            base: Money::from_fen(get(row, "base_price")?),
            store: money(row, "store_price")?,
            online: money(row, "online_price")?,
            member: money(row, "member_price")?,
            cost: money(row, "cost_price")?,
        },
        online_only: get(row, "online_only")?,
        status: ListingStatus::parse(&status).map_err(|e| corrupt("status", e))?,
        created_at: get(row, "created_at")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn store_sku(row: &Row) -> StoreResult<StoreSku> {
    Ok(StoreSku {
        store_id: StoreId::from_uuid(get(row, "store_id")?),
        sku_id: SkuId::from_uuid(get(row, "sku_id")?),
        price: money(row, "price")?,
        member_price: money(row, "member_price")?,
        available_in_store: get(row, "available_in_store")?,
        available_online: get(row, "available_online")?,
        updated_at: get(row, "updated_at")?,
    })
}

pub(super) fn audit(row: &Row) -> StoreResult<AuditEntry> {
    let actor: Option<Uuid> = get(row, "actor_id")?;
    let store: Option<Uuid> = get(row, "store_id")?;
    let Json(changes): Json<Vec<FieldChange>> = get(row, "changes")?;
    Ok(AuditEntry {
        id: quanyu_domain::ids::AuditId::from_uuid(get(row, "id")?),
        at: get(row, "at")?,
        actor_id: actor.map(StaffId::from_uuid),
        actor_name: get(row, "actor_name")?,
        action: get(row, "action")?,
        entity_type: get(row, "entity_type")?,
        entity_id: get(row, "entity_id")?,
        store_id: store.map(StoreId::from_uuid),
        ip: get(row, "ip")?,
        user_agent: get(row, "user_agent")?,
        changes,
    })
}

pub(super) fn event(row: &Row) -> StoreResult<OutboxEvent> {
    let Json(payload) = get(row, "payload")?;
    Ok(OutboxEvent {
        id: quanyu_domain::ids::EventId::from_uuid(get(row, "id")?),
        seq: get(row, "seq")?,
        at: get(row, "at")?,
        kind: get(row, "kind")?,
        entity_type: get(row, "entity_type")?,
        entity_id: get(row, "entity_id")?,
        payload,
    })
}

pub(super) fn idempotency(row: &Row) -> StoreResult<IdempotencyRecord> {
    let status: i32 = get(row, "status")?;
    Ok(IdempotencyRecord {
        actor_id: StaffId::from_uuid(get(row, "actor_id")?),
        key: get(row, "idem_key")?,
        fingerprint: get(row, "fingerprint")?,
        status: u16::try_from(status).map_err(|e| corrupt("status", e))?,
        body: get(row, "body")?,
        created_at: get(row, "created_at")?,
    })
}
