//! Regions and stores (`/admin/stores`): the filtered store list with the scatter of store
//! coordinates, the regions, a store's detail and edit form, and opening a store (HQ).

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use minijinja::Value;
use quanyu_domain::{
    authz::Permission,
    ids::{RegionId, StoreId},
    org::{StoreKind, StoreStatus},
};
use quanyu_store::{PlaceFilter, StoreFilter};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    export::{self, EXPORT_PAGE},
    failed, guard,
    paging::{PageParams, pager, query_string},
    places::Places,
    scatter::{self, Dot},
    text_param, uuid_param,
};
use crate::{
    AppState,
    routes::org::StoreOut,
    ui::{
        admin::page,
        page::{Staff, UiError, templates},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct StoreQuery {
    q: Option<String>,
    region_id: Option<String>,
    status: Option<String>,
    kind: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

impl StoreQuery {
    fn filter(&self) -> quanyu_app::AppResult<StoreFilter> {
        Ok(StoreFilter {
            place: PlaceFilter {
                region_id: uuid_param(self.region_id.as_deref(), "region_id")?.map(RegionId::from_uuid),
                store_id: None,
            },
            status: text_param(&self.status),
            search: text_param(&self.q),
            kind: text_param(&self.kind).as_deref().map(StoreKind::parse).transpose()?,
            sort: quanyu_app::parse_sort(self.page.sort())?.into(),
        })
    }

    fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            ("q", self.q.as_deref().unwrap_or("")),
            ("region_id", self.region_id.as_deref().unwrap_or("")),
            ("status", self.status.as_deref().unwrap_or("")),
            ("kind", self.kind.as_deref().unwrap_or("")),
        ]
    }
}

/// `/admin/stores`: the list, the scatter and the regions.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<StoreQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "stores")?;
    let ctx = &staff.ctx;
    let filter = query.filter().map_err(failed(&staff))?;
    let listing = state.app.list_stores(ctx, filter, query.page.cursor(), None).await.map_err(failed(&staff))?;
    let places = Places::load(&state.app, ctx).await.map_err(failed(&staff))?;
    let pairs = query.pairs();
    let pager = pager("/admin/stores", &pairs, &query.page, listing.next_cursor.as_ref().map(|c| c.0.as_str()));
    let title = templates().text(staff.lang, "ops-stores-map");
    let regions: Vec<Value> = places
        .regions
        .iter()
        .enumerate()
        .map(|(index, region)| {
            let stores = places.stores.iter().filter(|s| s.region_id == region.id).count();
            minijinja::context! {
                id => region.id.to_string(), code => region.code.clone(), name => region.name.clone(),
                stores, colour => scatter::PALETTE[index % scatter::PALETTE.len()],
            }
        })
        .collect();
    let dots: Vec<Dot> = places
        .stores
        .iter()
        .map(|store| Dot {
            lat: store.location.lat(),
            lng: store.location.lng(),
            code: store.code.clone(),
            label: format!("{} {} · {}", store.code, store.name, places.region_label(store.region_id.as_uuid())),
            href: format!("/admin/stores/{}", store.id),
            group: places.regions.iter().position(|r| r.id == store.region_id).unwrap_or(0),
            hollow: store.kind == StoreKind::Warehouse || store.status != StoreStatus::Open,
        })
        .collect();
    let context = minijinja::context! {
        items => Value::from_serialize(listing.items.iter().map(StoreOut::from).collect::<Vec<_>>()),
        pager => Value::from_serialize(&pager),
        query => minijinja::context! {
            q => query.q, region_id => query.region_id, status => query.status, kind => query.kind,
        },
        export_href => format!("/admin/stores/export.csv{}", query_string(&query.page.with_sort(&pairs))),
        sorts => query.page.sort_links("/admin/stores", &pairs, &["code", "name", "area_m2"]),
        region_rows => regions,
        scatter => Value::from_safe_string(scatter::svg(&dots, &title)),
        statuses => StoreStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        kinds => StoreKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        can_manage_chain => ctx.actor.can(Permission::ManageChain),
        ..places.context()
    };
    Ok(page(&staff, "admin/stores.html", "stores", context)?.into_response())
}

/// `/admin/stores/export.csv`: every store the filters match.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<StoreQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "stores")?;
    let filter = query.filter().map_err(failed(&staff))?;
    let places = Places::load(&state.app, &staff.ctx).await.map_err(failed(&staff))?;
    let header = [
        "code",
        "name",
        "region",
        "kind",
        "status",
        "address",
        "lat",
        "lng",
        "opening_hours",
        "area_m2",
        "delivery_radius_m",
        "phone",
    ]
    .map(str::to_owned)
    .to_vec();
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    let fetch = move |cursor: Option<String>| {
        let (app, ctx, filter) = (app.clone(), ctx.clone(), filter.clone());
        async move { app.list_stores(&ctx, filter, cursor.as_deref(), Some(EXPORT_PAGE)).await }
    };
    let row = move |s: &quanyu_domain::org::Store| {
        vec![
            s.code.clone(),
            s.name.clone(),
            places.region_label(s.region_id.as_uuid()),
            s.kind.as_str().to_owned(),
            s.status.as_str().to_owned(),
            s.address.clone(),
            format!("{:.6}", s.location.lat()),
            format!("{:.6}", s.location.lng()),
            s.opening_hours.to_string(),
            s.area_m2.to_string(),
            s.delivery_radius_m.to_string(),
            export::cell(s.phone.clone()),
        ]
    };
    export::csv("stores.csv", header, fetch, row).await.map_err(failed(&staff))
}

/// `/admin/stores/{id}`: one store, editable by whoever may edit it.
pub async fn detail(State(state): State<AppState>, staff: Staff, Path(id): Path<Uuid>) -> Result<Response, UiError> {
    guard(&staff, "stores")?;
    let ctx = &staff.ctx;
    let store = state.app.get_store(ctx, StoreId::from_uuid(id)).await.map_err(failed(&staff))?;
    let places = Places::load(&state.app, ctx).await.map_err(failed(&staff))?;
    let context = minijinja::context! {
        store => Value::from_serialize(StoreOut::from(&store)),
        region_name => places.region_label(store.region_id.as_uuid()),
        statuses => StoreStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        can_manage_chain => ctx.actor.can(Permission::ManageChain),
        can_edit => ctx.actor.can(Permission::EditStore),
        can_read_stock => ctx.actor.can(Permission::ReadStock),
        ..places.context()
    };
    Ok(page(&staff, "admin/stores_detail.html", "stores", context)?.into_response())
}

/// `/admin/stores/new`: the form that opens a store (HQ).
pub async fn new_store(State(state): State<AppState>, staff: Staff) -> Result<Response, UiError> {
    guard(&staff, "stores")?;
    if !staff.ctx.actor.can(Permission::ManageChain) {
        return Err(UiError::api(quanyu_app::AppError::Forbidden, staff.lang));
    }
    let places = Places::load(&state.app, &staff.ctx).await.map_err(failed(&staff))?;
    let context = minijinja::context! {
        statuses => StoreStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        kinds => StoreKind::ALL.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        ..places.context()
    };
    Ok(page(&staff, "admin/stores_new.html", "stores", context)?.into_response())
}
