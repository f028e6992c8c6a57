//! Use cases of the organisation: the chain's settings, regions and stores.

use quanyu_domain::{
    DomainError,
    authz::{Permission, StorePlace},
    geo::Coordinates,
    ids::{RegionId, StoreId},
    org::{Chain, OpeningHours, Region, Scope, Store, StoreKind, StoreStatus},
    text,
    time::TimeZone,
};
use quanyu_store::{PlaceFilter, StoreFilter, Tx};

use crate::{
    App, AppError, AppResult, Ctx, Listing, Reply, Written,
    change::{Change, Field, opt},
    listing::Cursor,
    write::now,
};

#[derive(Debug, Clone, Default)]
pub struct ChainPatch {
    pub name: Option<String>,
    pub time_zone: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RegionDraft {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Default)]
pub struct RegionPatch {
    pub code: Option<String>,
    pub name: Option<String>,
}

/// A store as a caller describes it, before validation.
#[derive(Debug, Clone, Default)]
pub struct StoreDraft {
    pub code: String,
    pub name: String,
    pub region_id: Option<RegionId>,
    pub address: String,
    pub lat: f64,
    pub lng: f64,
    /// `HH:MM-HH:MM`; defaults to `08:00-22:00`.
    pub opening_hours: Option<String>,
    /// IANA zone; defaults to the chain's.
    pub time_zone: Option<String>,
    pub area_m2: i64,
    /// Defaults to 3 km.
    pub delivery_radius_m: Option<i64>,
    pub phone: Option<String>,
    /// Defaults to `open`.
    pub status: Option<String>,
    /// `store` (the default) or `warehouse`.
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct StorePatch {
    pub code: Option<String>,
    pub name: Option<String>,
    pub region_id: Option<RegionId>,
    pub address: Option<String>,
    /// Both or neither.
    pub location: Option<(f64, f64)>,
    pub opening_hours: Option<String>,
    pub time_zone: Option<String>,
    pub area_m2: Option<i64>,
    pub delivery_radius_m: Option<i64>,
    /// `Some(None)` clears the phone.
    pub phone: Option<Option<String>>,
    pub status: Option<String>,
}

pub const DEFAULT_DELIVERY_RADIUS_M: i64 = 3_000;
const DEFAULT_OPENING_HOURS: &str = "08:00-22:00";

impl App {
    /// The chain's settings; a chain that was never set up reads as "Quanyu" in Asia/Shanghai.
    pub async fn chain(&self) -> AppResult<Chain> {
        read_tx!(self, |tx| chain_in(tx).await)
    }

    pub async fn update_chain(&self, ctx: &Ctx, patch: ChainPatch) -> AppResult<Chain> {
        ctx.require(Permission::ManageChain)?;
        let name = patch.name.as_deref().map(|n| text::required("name", n, 64)).transpose()?;
        let time_zone = patch.time_zone.as_deref().map(TimeZone::parse).transpose()?;
        write_tx!(self, |tx| {
            let before = chain_in(tx).await?;
            let mut after = before.clone();
            if let Some(name) = name {
                after.name = name;
            }
            if let Some(time_zone) = time_zone {
                after.time_zone = time_zone;
            }
            after.updated_at = now();
            tx.put_chain(&after).await?;
            Change::new("chain.updated", "chain", "chain")
                .diff("name", &before.name, &after.name)
                .diff("time_zone", &before.time_zone.name(), &after.time_zone.name())
                .record(tx, Some(ctx))
                .await?;
            Ok(after)
        })
    }

    pub async fn list_regions(
        &self,
        ctx: &Ctx,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Region>> {
        ctx.require(Permission::ReadOrg)?;
        let page = Cursor::page(cursor, limit)?;
        let only = match ctx.actor.scope() {
            Scope::All => None,
            // Store staff see the region of their store.
            Scope::Region(_) | Scope::Store(_) => Some(ctx.actor.home_region.ok_or(AppError::OutOfScope)?),
        };
        let rows = read_tx!(self, |tx| Ok(tx.list_regions(only, page).await?))?;
        Ok(Listing::from_rows(rows, page, |r| r.id.as_uuid()))
    }

    pub async fn get_region(&self, ctx: &Ctx, id: RegionId) -> AppResult<Region> {
        ctx.require(Permission::ReadOrg)?;
        let region = read_tx!(self, |tx| region_in(tx, id).await)?;
        if ctx.actor.covers_region(region.id) { Ok(region) } else { Err(AppError::OutOfScope) }
    }

    pub async fn create_region(
        &self,
        ctx: &Ctx,
        draft: RegionDraft,
        reply: Reply<'_, Region>,
    ) -> AppResult<Written<Region>> {
        ctx.require(Permission::ManageChain)?;
        let at = now();
        let region = Region {
            id: RegionId::new(),
            code: Region::validate_code(&draft.code)?,
            name: Region::validate_name(&draft.name)?,
            created_at: at,
            updated_at: at,
        };
        write_idempotent!(self, ctx, reply, |tx| {
            tx.insert_region(&region).await?;
            region_changes("region.created", None, &region).record(tx, Some(ctx)).await?;
            Ok(region)
        })
    }

    pub async fn update_region(&self, ctx: &Ctx, id: RegionId, patch: RegionPatch) -> AppResult<Region> {
        ctx.require(Permission::ManageChain)?;
        let code = patch.code.as_deref().map(Region::validate_code).transpose()?;
        let name = patch.name.as_deref().map(Region::validate_name).transpose()?;
        let recoded = code.is_some();
        let updated = write_tx!(self, |tx| {
            let before = region_in(tx, id).await?;
            let mut after = before.clone();
            after.code = code.unwrap_or(after.code);
            after.name = name.unwrap_or(after.name);
            after.updated_at = now();
            tx.update_region(&after).await?;
            region_changes("region.updated", Some(&before), &after).record(tx, Some(ctx)).await?;
            Ok(after)
        });
        if recoded && updated.is_ok() {
            // Its members' `region`: counted at once here.
            self.audience_changed();
        }
        updated
    }

    pub async fn list_stores(
        &self,
        ctx: &Ctx,
        filter: StoreFilter,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<Store>> {
        ctx.require(Permission::ReadOrg)?;
        crate::listing::searchable("q", filter.search.as_deref())?;
        let mut filter = filter;
        let page = Cursor::sorted_page(cursor, limit, &mut filter.sort)?;
        if let Some(status) = &filter.status {
            StoreStatus::parse(status)?;
        }
        let order = filter.sort.order;
        let rows = read_tx!(self, |tx| {
            let place = scoped_place(ctx, tx, filter.place).await?;
            Ok(tx.list_stores(&StoreFilter { place, ..filter }, page).await?)
        })?;
        Ok(Listing::from_sorted_rows(rows, page, order, |s| s.id.as_uuid()))
    }

    pub async fn get_store(&self, ctx: &Ctx, id: StoreId) -> AppResult<Store> {
        ctx.require(Permission::ReadOrg)?;
        read_tx!(self, |tx| store_in_scope(ctx, tx, id).await)
    }

    pub async fn create_store(
        &self,
        ctx: &Ctx,
        draft: StoreDraft,
        reply: Reply<'_, Store>,
    ) -> AppResult<Written<Store>> {
        ctx.require(Permission::ManageChain)?;
        let store = validate_store_draft(draft, self.chain().await?.time_zone)?;
        let written = write_idempotent!(self, ctx, reply, |tx| {
            region_exists(tx, store.region_id).await?;
            tx.insert_store(&store).await?;
            store_created(&store).record(tx, Some(ctx)).await?;
            Ok(store)
        });
        self.stores_near.invalidate();
        written
    }

    pub async fn update_store(&self, ctx: &Ctx, id: StoreId, patch: StorePatch) -> AppResult<Store> {
        ctx.require(Permission::EditStore)?;
        // Moving a store or changing its code is HQ's decision, not the store's.
        if (patch.code.is_some() || patch.region_id.is_some()) && !ctx.actor.can(Permission::ManageChain) {
            return Err(AppError::Forbidden);
        }
        let code = patch.code.as_deref().map(Store::validate_code).transpose()?;
        let name = patch.name.as_deref().map(Store::validate_name).transpose()?;
        let address = patch.address.as_deref().map(Store::validate_address).transpose()?;
        let location = patch.location.map(|(lat, lng)| Coordinates::new(lat, lng)).transpose()?;
        let opening_hours = patch.opening_hours.as_deref().map(OpeningHours::parse).transpose()?;
        let time_zone = patch.time_zone.as_deref().map(TimeZone::parse).transpose()?;
        let area_m2 = patch.area_m2.map(Store::validate_area).transpose()?;
        let radius = patch.delivery_radius_m.map(Store::validate_delivery_radius).transpose()?;
        let phone = patch.phone.as_ref().map(|p| Store::validate_phone(p.as_deref())).transpose()?;
        let status = patch.status.as_deref().map(StoreStatus::parse).transpose()?;
        let moved = code.is_some() || patch.region_id.is_some();
        let updated = write_tx!(self, |tx| {
            let before = store_in_scope(ctx, tx, id).await?;
            let mut after = before.clone();
            if let Some(region_id) = patch.region_id {
                region_exists(tx, region_id).await?;
                after.region_id = region_id;
            }
            after.code = code.unwrap_or(after.code);
            after.name = name.unwrap_or(after.name);
            after.address = address.unwrap_or(after.address);
            after.location = location.unwrap_or(after.location);
            after.opening_hours = opening_hours.unwrap_or(after.opening_hours);
            after.time_zone = time_zone.unwrap_or(after.time_zone);
            after.area_m2 = area_m2.unwrap_or(after.area_m2);
            after.delivery_radius_m = radius.unwrap_or(after.delivery_radius_m);
            after.phone = phone.unwrap_or(after.phone);
            after.status = status.unwrap_or(after.status);
            after.updated_at = now();
            tx.update_store(&after).await?;
            store_changes("store.updated", Some(&before), &after).record(tx, Some(ctx)).await?;
            Ok(after)
        });
        self.stores_near.invalidate();
        if moved && updated.is_ok() {
            // Its members' `region` and `home_store`: counted at once here.
            self.audience_changed();
        }
        updated
    }
}

/// Validates a store draft into a new store; shared by the API and bulk imports.
pub fn validate_store_draft(draft: StoreDraft, default_zone: TimeZone) -> AppResult<Store> {
    let at = now();
    Ok(Store {
        id: StoreId::new(),
        region_id: draft.region_id.ok_or(DomainError::Required { field: "region_id" })?,
        code: Store::validate_code(&draft.code)?,
        name: Store::validate_name(&draft.name)?,
        address: Store::validate_address(&draft.address)?,
        location: Coordinates::new(draft.lat, draft.lng)?,
        opening_hours: OpeningHours::parse(draft.opening_hours.as_deref().unwrap_or(DEFAULT_OPENING_HOURS))?,
        time_zone: draft.time_zone.as_deref().map(TimeZone::parse).transpose()?.unwrap_or(default_zone),
        area_m2: Store::validate_area(draft.area_m2)?,
        delivery_radius_m: Store::validate_delivery_radius(
            draft.delivery_radius_m.unwrap_or(DEFAULT_DELIVERY_RADIUS_M),
        )?,
        phone: Store::validate_phone(draft.phone.as_deref())?,
        status: draft.status.as_deref().map(StoreStatus::parse).transpose()?.unwrap_or(StoreStatus::Open),
        kind: draft.kind.as_deref().map(StoreKind::parse).transpose()?.unwrap_or(StoreKind::Store),
        created_at: at,
        updated_at: at,
    })
}

const REGION_FIELDS: &[Field<Region>] = &[("code", |r| r.code.clone()), ("name", |r| r.name.clone())];

const STORE_FIELDS: &[Field<Store>] = &[
    ("code", |s| s.code.clone()),
    ("name", |s| s.name.clone()),
    ("region_id", |s| s.region_id.to_string()),
    ("address", |s| s.address.clone()),
    ("location", |s| format!("{:.6},{:.6}", s.location.lat(), s.location.lng())),
    ("opening_hours", |s| s.opening_hours.to_string()),
    ("time_zone", |s| s.time_zone.name().to_owned()),
    ("area_m2", |s| s.area_m2.to_string()),
    ("delivery_radius_m", |s| s.delivery_radius_m.to_string()),
    ("phone", |s| opt(&s.phone)),
    ("status", |s| s.status.as_str().to_owned()),
    ("kind", |s| s.kind.as_str().to_owned()),
];

pub(crate) fn region_changes(action: &'static str, before: Option<&Region>, after: &Region) -> Change {
    Change::new(action, "region", after.id).fields(REGION_FIELDS, before, Some(after))
}

pub(crate) fn store_created(store: &Store) -> Change {
    store_changes("store.created", None, store)
}

fn store_changes(action: &'static str, before: Option<&Store>, after: &Store) -> Change {
    Change::new(action, "store", after.id).in_store(after.id).fields(STORE_FIELDS, before, Some(after))
}

pub(crate) async fn chain_in(tx: &mut dyn Tx) -> AppResult<Chain> {
    Ok(tx.get_chain().await?.unwrap_or_else(|| Chain {
        name: "Quanyu".to_owned(),
        time_zone: TimeZone::default(),
        updated_at: now(),
    }))
}

async fn region_in(tx: &mut dyn Tx, id: RegionId) -> AppResult<Region> {
    tx.get_region(id).await?.ok_or(AppError::NotFound { entity: "region" })
}

pub(crate) async fn region_exists(tx: &mut dyn Tx, id: RegionId) -> AppResult<()> {
    match tx.get_region(id).await? {
        Some(_) => Ok(()),
        None => Err(AppError::UnknownReference { field: "region_id", entity: "region" }),
    }
}

/// Loads a store the actor may see, or says why not.
pub(crate) async fn store_in_scope(ctx: &Ctx, tx: &mut dyn Tx, id: StoreId) -> AppResult<Store> {
    let store = tx.get_store(id).await?.ok_or(AppError::NotFound { entity: "store" })?;
    if ctx.actor.covers_store(StorePlace { store_id: store.id, region_id: store.region_id }) {
        Ok(store)
    } else {
        Err(AppError::OutOfScope)
    }
}

/// Narrows a requested place filter to the actor's scope. Asking for a place outside the
/// scope is refused rather than silently answered with nothing.
pub(crate) async fn scoped_place(ctx: &Ctx, tx: &mut dyn Tx, requested: PlaceFilter) -> AppResult<PlaceFilter> {
    if let Some(store_id) = requested.store_id {
        store_in_scope(ctx, tx, store_id).await?;
    }
    if let Some(region_id) = requested.region_id
        && !ctx.actor.covers_region(region_id)
    {
        return Err(AppError::OutOfScope);
    }
    Ok(match ctx.actor.scope() {
        Scope::All => requested,
        Scope::Region(region_id) => PlaceFilter { region_id: Some(region_id), ..requested },
        Scope::Store(store_id) => PlaceFilter { store_id: Some(store_id), region_id: None },
    })
}
