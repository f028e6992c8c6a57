//! Inventory (`/admin/inventory`): one store's stock SKU by SKU with low stock marked against
//! the reorder point, its reorder suggestions, recording a receipt or a loss, the reconcile
//! check, and one SKU's ledger at one store.

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use minijinja::Value;
use quanyu_app::{AppResult, StockOutlook};
use quanyu_domain::{
    authz::Permission,
    catalog::Sku,
    ids::{SkuId, StoreId},
    inventory::MovementKind,
    org::{Store, StoreKind},
};
use quanyu_store::StockRow;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    catalog::{named_skus, sku_label, sku_of},
    export::{self, EXPORT_PAGE},
    failed, guard,
    paging::{PageParams, pager, query_string},
    places::{Places, staff_names},
    uuid_param,
};
use crate::{
    AppState,
    routes::{
        documents::OutlookOut,
        inventory::{StockEntryOut, StockOut},
        org::StoreOut,
    },
    ui::{
        admin::page,
        page::{Staff, UiError},
    },
};

/// Movements a person records by hand on this page (the others come from documents and orders).
const MANUAL_MOVEMENTS: [MovementKind; 2] = [MovementKind::PurchaseReceipt, MovementKind::Loss];

#[derive(Debug, Default, Deserialize)]
pub struct StockQuery {
    store_id: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// The store a page shows: the one asked for, else the viewer's first selling store.
fn chosen_store(places: &Places, raw: Option<&str>) -> AppResult<Option<Store>> {
    let wanted = uuid_param(raw, "store_id")?;
    Ok(match wanted {
        Some(id) => match places.stores.iter().find(|s| s.id.as_uuid() == id) {
            Some(store) => Some(store.clone()),
            None => return Err(quanyu_app::AppError::OutOfScope),
        },
        None => places.stores.iter().find(|s| s.kind == StoreKind::Store).or(places.stores.first()).cloned(),
    })
}

/// A stock row as the table shows it.
fn stock_row(row: &StockRow, skus: &HashMap<SkuId, (Sku, String)>, outlook: Option<&StockOutlook>) -> Value {
    minijinja::context! {
        sku => sku_of(skus, row.sku_id),
        stock => Value::from_serialize(StockOut::from(row)),
        policy => outlook.map(|o| Value::from_serialize(OutlookOut::from(o))),
    }
}

/// `/admin/inventory?store_id=…`: a store's stock.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<StockQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "inventory")?;
    let (app, ctx) = (&state.app, &staff.ctx);
    let places = Places::load(app, ctx).await.map_err(failed(&staff))?;
    let store = chosen_store(&places, query.store_id.as_deref()).map_err(failed(&staff))?;
    let mut context = minijinja::context! {
        can_manage_stock => ctx.actor.can(Permission::ManageStock),
        can_reconcile => ctx.actor.can(Permission::ReadAudit),
        movement_kinds => MANUAL_MOVEMENTS.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        ..places.context()
    };
    if let Some(store) = store {
        let order = quanyu_app::parse_sort(query.page.sort()).map_err(failed(&staff))?;
        let listing =
            app.stock_levels(ctx, store.id, order, query.page.cursor(), None).await.map_err(failed(&staff))?;
        let outlook = app.stock_outlook(ctx, store.id, false).await.map_err(failed(&staff))?;
        let by_sku: HashMap<SkuId, &StockOutlook> = outlook.iter().map(|o| (o.policy.sku_id, o)).collect();
        let ids = listing.items.iter().map(|r| r.sku_id).chain(outlook.iter().map(|o| o.policy.sku_id));
        let skus = named_skus(app, ctx, ids).await.map_err(failed(&staff))?;
        let rows: Vec<Value> =
            listing.items.iter().map(|row| stock_row(row, &skus, by_sku.get(&row.sku_id).copied())).collect();
        let suggestions: Vec<Value> = outlook
            .iter()
            .filter(|o| o.low)
            .map(|o| {
                minijinja::context! {
                    sku => sku_of(&skus, o.policy.sku_id),
                    outlook => Value::from_serialize(OutlookOut::from(o)),
                }
            })
            .collect();
        let store_id = store.id.to_string();
        let pairs = [("store_id", store_id.as_str())];
        let next = listing.next_cursor.as_ref().map(|c| c.0.as_str());
        context = minijinja::context! {
            store => Value::from_serialize(StoreOut::from(&store)),
            rows,
            suggestions,
            pager => Value::from_serialize(pager("/admin/inventory", &pairs, &query.page, next)),
            export_href => format!("/admin/inventory/export.csv{}", query_string(&query.page.with_sort(&pairs))),
            sorts => query.page.sort_links("/admin/inventory", &pairs, &["on_hand", "reserved", "available"]),
            ..context
        };
    }
    Ok(page(&staff, "admin/inventory.html", "inventory", context)?.into_response())
}

/// `/admin/inventory/export.csv?store_id=…`: every stock row of the store.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<StockQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "inventory")?;
    let places = Places::load(&state.app, &staff.ctx).await.map_err(failed(&staff))?;
    let store = chosen_store(&places, query.store_id.as_deref())
        .and_then(|s| s.ok_or(quanyu_app::AppError::NotFound { entity: "store" }))
        .map_err(failed(&staff))?;
    let header = [
        "store",
        "sku_code",
        "sku_name",
        "unit",
        "on_hand",
        "reserved",
        "committed",
        "unavailable",
        "in_transit",
        "available",
    ]
    .map(str::to_owned)
    .to_vec();
    let order = quanyu_app::parse_sort(query.page.sort()).map_err(failed(&staff))?;
    let (app, ctx, store_id) = (state.app.clone(), staff.ctx.clone(), store.id);
    // Each page names its SKUs in one query before its rows are written.
    let fetch = move |cursor: Option<String>| {
        let (app, ctx) = (app.clone(), ctx.clone());
        async move {
            let page = app.stock_levels(&ctx, store_id, order, cursor.as_deref(), Some(EXPORT_PAGE)).await?;
            let names = named_skus(&app, &ctx, page.items.iter().map(|r| r.sku_id)).await?;
            Ok(page.map(|row| {
                let sku = names.get(&row.sku_id).cloned();
                (row, sku)
            }))
        }
    };
    let label = format!("{} {}", store.code, store.name);
    let row = move |(row, sku): &(StockRow, Option<(Sku, String)>)| {
        let l = row.levels;
        vec![
            label.clone(),
            export::cell(sku.as_ref().map(|(s, _)| s.code.clone())),
            export::cell(sku.as_ref().map(|(s, product)| sku_label(s, product))),
            export::cell(sku.as_ref().map(|(s, _)| if s.sold_by_weight { "g".to_owned() } else { s.unit.clone() })),
            l.on_hand.get().to_string(),
            l.reserved.get().to_string(),
            l.committed.get().to_string(),
            l.unavailable.get().to_string(),
            l.in_transit.get().to_string(),
            l.available().get().to_string(),
        ]
    };
    export::csv(&format!("stock-{}.csv", store.code), header, fetch, row).await.map_err(failed(&staff))
}

/// `/admin/inventory/{store_id}/{sku_id}`: one SKU at one store, and its ledger.
pub async fn ledger(
    State(state): State<AppState>,
    staff: Staff,
    Path((store_id, sku_id)): Path<(Uuid, Uuid)>,
    Query(page_params): Query<PageParams>,
) -> Result<Response, UiError> {
    guard(&staff, "inventory")?;
    let (app, ctx) = (&state.app, &staff.ctx);
    let (store_id, sku_id) = (StoreId::from_uuid(store_id), SkuId::from_uuid(sku_id));
    let store = app.get_store(ctx, store_id).await.map_err(failed(&staff))?;
    let stock = app.stock_of(ctx, store_id, sku_id).await.map_err(failed(&staff))?;
    let named = named_skus(app, ctx, std::iter::once(sku_id)).await.map_err(failed(&staff))?;
    let sku = sku_of(&named, sku_id)
        .ok_or_else(|| UiError::api(quanyu_app::AppError::NotFound { entity: "sku" }, staff.lang))?;
    let listing = app.stock_ledger(ctx, store_id, sku_id, page_params.cursor(), None).await.map_err(failed(&staff))?;
    let outlook = app.stock_outlook(ctx, store_id, false).await.map_err(failed(&staff))?;
    let policy = outlook.iter().find(|o| o.policy.sku_id == sku_id);
    let actors = staff_names(app, ctx, listing.items.iter().filter_map(|e| e.actor_id)).await;
    let entries: Vec<Value> = listing
        .items
        .iter()
        .map(|e| {
            let actor = e.actor_id.and_then(|a| actors.get(&a).cloned());
            minijinja::context! { actor, ..Value::from_serialize(StockEntryOut::from(e)) }
        })
        .collect();
    let path = format!("/admin/inventory/{store_id}/{sku_id}");
    let next = listing.next_cursor.as_ref().map(|c| c.0.as_str());
    let context = minijinja::context! {
        store => Value::from_serialize(StoreOut::from(&store)),
        sku,
        stock => Value::from_serialize(StockOut::from(&stock)),
        policy => policy.map(|o| Value::from_serialize(OutlookOut::from(o))),
        entries,
        pager => Value::from_serialize(pager(&path, &[], &page_params, next)),
        can_manage_stock => ctx.actor.can(Permission::ManageStock),
        movement_kinds => MANUAL_MOVEMENTS.iter().map(|k| k.as_str()).collect::<Vec<_>>(),
        known_changes => known_changes(),
    };
    Ok(page(&staff, "admin/inventory_ledger.html", "inventory", context)?.into_response())
}

/// Ledger changes with a translated name (`ops-change-<change>`); others show as recorded.
pub fn known_changes() -> Vec<&'static str> {
    let mut known: Vec<&str> = MovementKind::ALL.iter().map(|k| k.as_str()).collect();
    known.extend(["reserve", "release", "commit", "uncommit", "sell", "in_transit"]);
    known
}
