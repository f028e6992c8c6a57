//! The organisation: the chain's settings, regions and stores.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{AppError, ChainPatch, Ctx, RegionDraft, RegionPatch, StoreDraft, StorePatch};
use quanyu_domain::{
    ids::{RegionId, StoreId},
    org::{Chain, Region, Store, StoreKind},
};
use quanyu_store::{PlaceFilter, StoreFilter};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, PageQuery, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create, JsonBody, double_option},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct ChainOut {
    name: String,
    /// IANA time zone, e.g. `Asia/Shanghai`.
    time_zone: String,
    updated_at: DateTime<Utc>,
}

impl From<&Chain> for ChainOut {
    fn from(chain: &Chain) -> Self {
        ChainOut {
            name: chain.name.clone(),
            time_zone: chain.time_zone.name().to_owned(),
            updated_at: chain.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChainPatchIn {
    name: Option<String>,
    time_zone: Option<String>,
}

/// The chain (HQ) settings.
#[utoipa::path(get, path = "/api/v1/chain", tag = "organisation", responses((status = 200, body = ChainOut)))]
pub async fn get_chain(State(state): State<AppState>, Auth(_ctx): Auth) -> Result<Response, ApiError> {
    Ok(ok(ChainOut::from(&state.app.chain().await?)))
}

/// Changes the chain's name or default time zone (HQ admin).
#[utoipa::path(patch, path = "/api/v1/chain", tag = "organisation", request_body = ChainPatchIn,
    responses((status = 200, body = ChainOut)))]
pub async fn update_chain(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    JsonBody(input): JsonBody<ChainPatchIn>,
) -> Result<Response, ApiError> {
    let chain = state.app.update_chain(&ctx, ChainPatch { name: input.name, time_zone: input.time_zone }).await?;
    Ok(ok(ChainOut::from(&chain)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RegionOut {
    id: Uuid,
    code: String,
    name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<&Region> for RegionOut {
    fn from(r: &Region) -> Self {
        RegionOut {
            id: r.id.as_uuid(),
            code: r.code.clone(),
            name: r.name.clone(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionIn {
    /// Unique, letters, digits, `-`, `_`, `.`.
    code: String,
    name: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionPatchIn {
    code: Option<String>,
    name: Option<String>,
}

/// Regions within the caller's scope.
#[utoipa::path(get, path = "/api/v1/regions", tag = "organisation", params(PageQuery),
    responses((status = 200, body = ListOut<RegionOut>)))]
pub async fn list_regions(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let listing = state.app.list_regions(&ctx, page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |r| RegionOut::from(&r))))
}

/// Creates a region (HQ admin). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/regions", tag = "organisation", request_body = RegionIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = RegionOut), (status = 409, description = "duplicate_region_code")))]
pub async fn create_region(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<RegionIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let reply = json_reply(|value| RegionOut::from(value));
    let draft = RegionDraft { code: create.body.code, name: create.body.name };
    let written = state.app.create_region(&ctx, draft, &reply).await?;
    Ok(created(written, &reply))
}

/// One region.
#[utoipa::path(get, path = "/api/v1/regions/{id}", tag = "organisation", responses((status = 200, body = RegionOut)))]
pub async fn get_region(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(RegionOut::from(&state.app.get_region(&ctx, RegionId::from_uuid(id)).await?)))
}

/// Renames or recodes a region (HQ admin).
#[utoipa::path(patch, path = "/api/v1/regions/{id}", tag = "organisation", request_body = RegionPatchIn,
    responses((status = 200, body = RegionOut)))]
pub async fn update_region(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<RegionPatchIn>,
) -> Result<Response, ApiError> {
    let patch = RegionPatch { code: input.code, name: input.name };
    Ok(ok(RegionOut::from(&state.app.update_region(&ctx, RegionId::from_uuid(id), patch).await?)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LocationOut {
    lat: f64,
    lng: f64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StoreOut {
    id: Uuid,
    region_id: Uuid,
    code: String,
    name: String,
    address: String,
    /// GCJ-02 coordinates.
    location: LocationOut,
    /// `HH:MM-HH:MM` local time.
    opening_hours: String,
    time_zone: String,
    area_m2: u32,
    delivery_radius_m: u32,
    phone: Option<String>,
    /// `open`, `paused` or `closed`.
    status: String,
    /// `store`, or `warehouse` (holds and ships stock; never offered to customers).
    kind: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl StoreOut {
    pub(crate) fn id(&self) -> Uuid {
        self.id
    }
}

impl From<&Store> for StoreOut {
    fn from(s: &Store) -> Self {
        StoreOut {
            id: s.id.as_uuid(),
            region_id: s.region_id.as_uuid(),
            code: s.code.clone(),
            name: s.name.clone(),
            address: s.address.clone(),
            location: LocationOut { lat: s.location.lat(), lng: s.location.lng() },
            opening_hours: s.opening_hours.to_string(),
            time_zone: s.time_zone.name().to_owned(),
            area_m2: s.area_m2,
            delivery_radius_m: s.delivery_radius_m,
            phone: s.phone.clone(),
            status: s.status.as_str().to_owned(),
            kind: s.kind.as_str().to_owned(),
            created_at: s.created_at,
            updated_at: s.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LocationIn {
    pub(super) lat: f64,
    pub(super) lng: f64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StoreIn {
    /// Unique store code, e.g. `SH-001`.
    code: String,
    name: String,
    region_id: Uuid,
    address: String,
    /// GCJ-02 coordinates.
    location: LocationIn,
    /// `HH:MM-HH:MM`, default `08:00-22:00`.
    opening_hours: Option<String>,
    /// IANA time zone; default the chain's.
    time_zone: Option<String>,
    /// Sales floor area in m².
    area_m2: i64,
    /// Default 3000.
    delivery_radius_m: Option<i64>,
    phone: Option<String>,
    /// `open` (default), `paused` or `closed`.
    status: Option<String>,
    /// `store` (default) or `warehouse`.
    kind: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StorePatchIn {
    code: Option<String>,
    name: Option<String>,
    region_id: Option<Uuid>,
    address: Option<String>,
    location: Option<LocationIn>,
    opening_hours: Option<String>,
    time_zone: Option<String>,
    area_m2: Option<i64>,
    delivery_radius_m: Option<i64>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    phone: Option<Option<String>>,
    status: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StoreQuery {
    region_id: Option<Uuid>,
    /// `open`, `paused` or `closed`.
    status: Option<String>,
    /// Substring of code or name.
    q: Option<String>,
    /// `store` or `warehouse`.
    kind: Option<String>,
    /// `code`, `name`, `area_m2` or `created_at` (the default); `-` first for descending.
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Stores within the caller's scope.
#[utoipa::path(get, path = "/api/v1/stores", tag = "organisation", params(StoreQuery),
    responses((status = 200, body = ListOut<StoreOut>)))]
pub async fn list_stores(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<StoreQuery>,
) -> Result<Response, ApiError> {
    let filter = StoreFilter {
        place: PlaceFilter { region_id: query.region_id.map(RegionId::from_uuid), store_id: None },
        status: query.status,
        search: query.q,
        kind: query.kind.as_deref().map(StoreKind::parse).transpose().map_err(AppError::from)?,
        sort: quanyu_app::parse_sort(query.sort.as_deref())?.into(),
    };
    let listing = state.app.list_stores(&ctx, filter, query.cursor.as_deref(), query.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |s| StoreOut::from(&s))))
}

/// Opens a store (HQ admin). Honours `Idempotency-Key`.
#[utoipa::path(post, path = "/api/v1/stores", tag = "organisation", request_body = StoreIn,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes the create safe to retry")),
    responses((status = 201, body = StoreOut), (status = 409, description = "duplicate_store_code"),
              (status = 422, description = "invalid_coordinates, out_of_range, unknown_reference…")))]
pub async fn create_store(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<StoreIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = StoreDraft {
        code: input.code,
        name: input.name,
        region_id: Some(RegionId::from_uuid(input.region_id)),
        address: input.address,
        lat: input.location.lat,
        lng: input.location.lng,
        opening_hours: input.opening_hours,
        time_zone: input.time_zone,
        area_m2: input.area_m2,
        delivery_radius_m: input.delivery_radius_m,
        phone: input.phone,
        status: input.status,
        kind: input.kind,
    };
    let reply = json_reply(|value| StoreOut::from(value));
    let written = state.app.create_store(&ctx, draft, &reply).await?;
    Ok(created(written, &reply))
}

/// One store, if within the caller's scope.
#[utoipa::path(get, path = "/api/v1/stores/{id}", tag = "organisation",
    responses((status = 200, body = StoreOut), (status = 403, description = "out_of_scope")))]
pub async fn get_store(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(StoreOut::from(&state.app.get_store(&ctx, StoreId::from_uuid(id)).await?)))
}

/// Edits a store. Store and region managers edit their own stores; code and region are HQ's.
#[utoipa::path(patch, path = "/api/v1/stores/{id}", tag = "organisation", request_body = StorePatchIn,
    responses((status = 200, body = StoreOut), (status = 403, description = "forbidden, out_of_scope")))]
pub async fn update_store(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    JsonBody(input): JsonBody<StorePatchIn>,
) -> Result<Response, ApiError> {
    let patch = StorePatch {
        code: input.code,
        name: input.name,
        region_id: input.region_id.map(RegionId::from_uuid),
        address: input.address,
        location: input.location.map(|l| (l.lat, l.lng)),
        opening_hours: input.opening_hours,
        time_zone: input.time_zone,
        area_m2: input.area_m2,
        delivery_radius_m: input.delivery_radius_m,
        phone: input.phone,
        status: input.status,
    };
    Ok(ok(StoreOut::from(&state.app.update_store(&ctx, StoreId::from_uuid(id), patch).await?)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NearestQuery {
    lat: f64,
    lng: f64,
    /// `gcj02` (default: what Chinese maps show) or `wgs84` (GPS).
    coord: Option<String>,
    /// 1–50, default 10.
    limit: Option<u32>,
    /// An SKU: each store then says how much of it is available.
    sku: Option<Uuid>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NearbyStoreOut {
    store: StoreOut,
    /// Great-circle distance from the point, in metres.
    distance_m: u32,
    /// The point is inside the store's delivery radius.
    delivers: bool,
    /// The store is inside its opening hours now.
    open_now: bool,
    /// With `sku`: how much of it the store has available.
    #[serde(skip_serializing_if = "Option::is_none")]
    available: Option<i64>,
    /// With `sku`: whether any is available.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_stock: Option<bool>,
}

/// Open stores nearest to a point, closest first (public: the mall's store finder).
#[utoipa::path(get, path = "/api/v1/stores/nearest", tag = "organisation", params(NearestQuery), security(()),
    responses((status = 200, body = ListOut<NearbyStoreOut>), (status = 422, description = "invalid_coordinates, unknown_value, unknown_reference")))]
pub async fn nearest_stores(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<NearestQuery>,
) -> Result<Response, ApiError> {
    let point = quanyu_domain::geo::Coordinates::new(query.lat, query.lng).map_err(quanyu_app::AppError::from)?;
    let datum = parse_datum(query.coord.as_deref())?;
    let limit = query.limit.unwrap_or(10);
    if !(1..=50).contains(&limit) {
        let err = quanyu_domain::DomainError::OutOfRange { field: "limit", min: 1, max: 50 };
        return Err(quanyu_app::AppError::from(err).into());
    }
    let sku = query.sku.map(quanyu_domain::ids::SkuId::from_uuid);
    let nearby = state.app.nearest_stores(point, datum, sku, limit as usize).await?;
    let items = nearby
        .iter()
        .map(|n| NearbyStoreOut {
            store: StoreOut::from(&n.store),
            distance_m: n.distance_m,
            delivers: n.delivers,
            open_now: n.open_now,
            available: n.available,
            in_stock: n.available.map(|a| a > 0),
        })
        .collect();
    Ok(ok(ListOut { items, next_cursor: None }))
}

/// `gcj02` (the default) or `wgs84`.
pub(super) fn parse_datum(raw: Option<&str>) -> Result<quanyu_app::Datum, ApiError> {
    raw.map_or(Ok(quanyu_app::Datum::default()), quanyu_app::Datum::parse)
        .map_err(|err| quanyu_app::AppError::from(err).into())
}
