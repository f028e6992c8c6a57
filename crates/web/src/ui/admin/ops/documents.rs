//! Stock documents (`/admin/documents`): purchase orders and their partial receipts,
//! requisitions, transfers, stocktakes and loss reports. The list filters by kind, status and
//! store; the detail page shows the lines and timeline and offers the steps the viewer may take
//! now (from the same rules the use case applies).

use std::collections::HashMap;

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use minijinja::Value;
use quanyu_domain::{
    authz::Permission,
    documents::{DocumentEvent, DocumentKind, DocumentLine, DocumentStatus, StockDocument},
    ids::{DocumentId, RegionId, StoreId},
};
use quanyu_store::PlaceFilter;
use serde::Deserialize;
use uuid::Uuid;

use super::{
    catalog::{named_skus, sku_of},
    export::{self, EXPORT_PAGE},
    failed, guard,
    paging::{PageParams, pager, query_string},
    places::{Places, staff_names},
    text_param, uuid_param,
};
use crate::{
    AppState,
    routes::documents::DocumentOut,
    ui::{
        admin::page,
        page::{Staff, UiError},
    },
};

#[derive(Debug, Default, Deserialize)]
pub struct DocumentQuery {
    kind: Option<String>,
    status: Option<String>,
    store_id: Option<String>,
    region_id: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

impl DocumentQuery {
    fn place(&self) -> quanyu_app::AppResult<PlaceFilter> {
        Ok(PlaceFilter {
            region_id: uuid_param(self.region_id.as_deref(), "region_id")?.map(RegionId::from_uuid),
            store_id: uuid_param(self.store_id.as_deref(), "store_id")?.map(StoreId::from_uuid),
        })
    }

    fn pairs(&self) -> [(&'static str, &str); 4] {
        [
            ("kind", self.kind.as_deref().unwrap_or("")),
            ("status", self.status.as_deref().unwrap_or("")),
            ("store_id", self.store_id.as_deref().unwrap_or("")),
            ("region_id", self.region_id.as_deref().unwrap_or("")),
        ]
    }
}

fn kinds() -> Vec<&'static str> {
    DocumentKind::ALL.iter().map(|k| k.as_str()).collect()
}

fn statuses() -> Vec<&'static str> {
    DocumentStatus::ALL.iter().map(|s| s.as_str()).collect()
}

/// A document row as the list shows it.
fn row(places: &Places, d: &StockDocument) -> Value {
    minijinja::context! {
        store_name => places.store_label(d.store_id.as_uuid()),
        source_name => d.source_store_id.map(|s| places.store_label(s.as_uuid())),
        line_count => d.lines.len(),
        ..Value::from_serialize(DocumentOut::new(d, None))
    }
}

/// `/admin/documents`: the list and the form that raises a document.
pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<DocumentQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "documents")?;
    let ctx = &staff.ctx;
    let place = query.place().map_err(failed(&staff))?;
    let (kind, status) = (text_param(&query.kind), text_param(&query.status));
    let listing = state
        .app
        .documents(ctx, place, kind.as_deref(), status.as_deref(), query.page.cursor(), None)
        .await
        .map_err(failed(&staff))?;
    let places = Places::load(&state.app, ctx).await.map_err(failed(&staff))?;
    let pairs = query.pairs();
    let pager = pager("/admin/documents", &pairs, &query.page, listing.next_cursor.as_ref().map(|c| c.0.as_str()));
    let context = minijinja::context! {
        items => listing.items.iter().map(|d| row(&places, d)).collect::<Vec<_>>(),
        pager => Value::from_serialize(&pager),
        query => minijinja::context! {
            kind => query.kind, status => query.status, store_id => query.store_id, region_id => query.region_id,
        },
        export_href => format!("/admin/documents/export.csv{}", query_string(&pairs)),
        kinds => kinds(),
        statuses => statuses(),
        can_manage_stock => ctx.actor.can(Permission::ManageStock),
        ..places.context()
    };
    Ok(page(&staff, "admin/documents.html", "documents", context)?.into_response())
}

/// `/admin/documents/export.csv`: one row per document line.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<DocumentQuery>,
) -> Result<Response, UiError> {
    guard(&staff, "documents")?;
    let place = query.place().map_err(failed(&staff))?;
    let (kind, status) = (text_param(&query.kind), text_param(&query.status));
    let places = Places::load(&state.app, &staff.ctx).await.map_err(failed(&staff))?;
    let header = [
        "number",
        "kind",
        "status",
        "store",
        "source",
        "supplier",
        "created_at",
        "line_no",
        "sku_id",
        "quantity",
        "approved",
        "shipped",
        "received",
        "counted",
        "variance",
        "reason",
    ]
    .map(str::to_owned)
    .to_vec();
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    let fetch = move |cursor: Option<String>| {
        let (app, ctx, place, kind, status) = (app.clone(), ctx.clone(), place, kind.clone(), status.clone());
        async move {
            let page = app
                .documents(&ctx, place, kind.as_deref(), status.as_deref(), cursor.as_deref(), Some(EXPORT_PAGE))
                .await?;
            // One row per line: a document is as many rows as it has lines.
            let next_cursor = page.next_cursor;
            let items =
                page.items.into_iter().flat_map(|d| d.lines.clone().into_iter().map(move |l| (d.clone(), l))).collect();
            Ok(quanyu_app::Listing { items, next_cursor })
        }
    };
    let row = move |(d, l): &(StockDocument, DocumentLine)| {
        vec![
            d.number.clone(),
            d.kind.as_str().to_owned(),
            d.status.as_str().to_owned(),
            places.store_label(d.store_id.as_uuid()),
            export::cell(d.source_store_id.map(|s| places.store_label(s.as_uuid()))),
            export::cell(d.supplier.clone()),
            d.created_at.to_rfc3339(),
            l.line_no.to_string(),
            l.sku_id.to_string(),
            l.quantity.to_string(),
            export::cell(l.approved),
            export::cell(l.shipped),
            l.received.to_string(),
            export::cell(l.counted),
            export::cell(l.variance()),
            export::cell(l.reason.clone()),
        ]
    };
    export::csv("stock-documents.csv", header, fetch, row).await.map_err(failed(&staff))
}

/// The step among `steps` that carries a quantity per line, if any (at most one is open at a
/// time), and each line's default for it.
fn quantity_step(document: &StockDocument, steps: &[DocumentEvent]) -> Option<(&'static str, HashMap<i32, i64>)> {
    let step = steps.iter().copied().find(|s| {
        matches!(s, DocumentEvent::Approve | DocumentEvent::Ship | DocumentEvent::Receive { .. } | DocumentEvent::Count)
    })?;
    // A stocktake's approval posts the variances; loss approval posts the lines as they are.
    if step == DocumentEvent::Approve && !document.kind.ships() {
        return None;
    }
    let defaults = document
        .lines
        .iter()
        .filter_map(|l| {
            let value = match step {
                DocumentEvent::Approve => Some(l.quantity),
                DocumentEvent::Ship => Some(l.approved.unwrap_or(l.quantity)),
                DocumentEvent::Receive { .. } if document.kind == DocumentKind::Purchase => {
                    Some((l.quantity - l.received).max(0))
                }
                DocumentEvent::Receive { .. } => l.shipped,
                _ => l.counted,
            };
            value.map(|v| (l.line_no, v))
        })
        .collect();
    Some((step.as_str(), defaults))
}

/// `/admin/documents/{id}`: lines, timeline and the viewer's steps.
pub async fn detail(State(state): State<AppState>, staff: Staff, Path(id): Path<Uuid>) -> Result<Response, UiError> {
    guard(&staff, "documents")?;
    let (app, ctx) = (&state.app, &staff.ctx);
    let detail = app.document(ctx, DocumentId::from_uuid(id)).await.map_err(failed(&staff))?;
    let document = &detail.document;
    let steps = app.steps_open_to(ctx, document).await.map_err(failed(&staff))?;
    let places = Places::load(app, ctx).await.map_err(failed(&staff))?;
    let skus = named_skus(app, ctx, document.lines.iter().map(|l| l.sku_id)).await.map_err(failed(&staff))?;
    let quantity_step = quantity_step(document, &steps);
    let lines: Vec<Value> = document
        .lines
        .iter()
        .map(|l| {
            minijinja::context! {
                sku => sku_of(&skus, l.sku_id),
                step_default => quantity_step.as_ref().and_then(|(_, d)| d.get(&l.line_no).copied()),
                ..Value::from_serialize(crate::routes::documents::DocumentLineOut::from(l))
            }
        })
        .collect();
    let actors = staff_names(app, ctx, detail.steps.iter().filter_map(|s| s.actor_id)).await;
    let timeline: Vec<Value> = detail
        .steps
        .iter()
        .map(|s| {
            minijinja::context! {
                event => s.event.clone(), from_status => s.from_status.clone(), to_status => s.to_status.clone(),
                note => s.note.clone(), at => s.at.to_rfc3339(),
                actor => s.actor_id.and_then(|a| actors.get(&a).cloned()),
            }
        })
        .collect();
    let needs_source =
        document.kind.ships() && document.source_store_id.is_none() && steps.contains(&DocumentEvent::Approve);
    let context = minijinja::context! {
        document => Value::from_serialize(DocumentOut::new(document, None)),
        store_name => places.store_label(document.store_id.as_uuid()),
        source_name => document.source_store_id.map(|s| places.store_label(s.as_uuid())),
        lines,
        timeline,
        steps => steps.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        quantity_step => quantity_step.map(|(step, _)| step),
        needs_source,
        ..places.context()
    };
    Ok(page(&staff, "admin/documents_detail.html", "documents", context)?.into_response())
}
