//! Stock documents (purchase orders, requisitions, transfers, stocktakes, loss reports), their
//! steps, and the reorder policies behind low-stock alerts and reorder suggestions.

use axum::{extract::State, http::StatusCode, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{Ctx, DocumentDetail, DocumentDraft, DocumentLineDraft, DocumentStepDraft, StockOutlook};
use quanyu_domain::{
    documents::{DocumentLine, StockDocument},
    ids::{DocumentId, RegionId, SkuId, StoreId},
};
use quanyu_store::{DocumentStep, PlaceFilter, StockPolicy};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, StepOut, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create, JsonBody},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentLineOut {
    line_no: i32,
    sku_id: Uuid,
    /// Ordered (purchase), asked for (requisition, transfer) or lost (loss). Units, or grams
    /// for goods sold by weight.
    quantity: i64,
    approved: Option<i64>,
    shipped: Option<i64>,
    /// Received so far.
    received: i64,
    /// Received less shipped (negative: missing on arrival).
    difference: Option<i64>,
    /// Stocktake: what was counted, what the books said at submission, and the difference.
    counted: Option<i64>,
    book: Option<i64>,
    variance: Option<i64>,
    reason: Option<String>,
}

impl From<&DocumentLine> for DocumentLineOut {
    fn from(l: &DocumentLine) -> Self {
        DocumentLineOut {
            line_no: l.line_no,
            sku_id: l.sku_id.as_uuid(),
            quantity: l.quantity,
            approved: l.approved,
            shipped: l.shipped,
            received: l.received,
            difference: l.difference(),
            counted: l.counted,
            book: l.book,
            variance: l.variance(),
            reason: l.reason.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DocumentOut {
    id: Uuid,
    /// purchase, requisition, transfer, stocktake or loss.
    kind: String,
    /// e.g. `RQ-20261202-0F3A9C11`.
    number: String,
    /// Where goods arrive, are counted or are lost.
    store_id: Uuid,
    /// Where shipped goods come from (requisition, transfer).
    source_store_id: Option<Uuid>,
    supplier: Option<String>,
    /// open, partially_received, counting, submitted, approved, shipped, received, closed,
    /// posted, rejected or cancelled.
    status: String,
    note: Option<String>,
    lines: Vec<DocumentLineOut>,
    created_by: Option<Uuid>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    /// Present on single-document reads and steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    timeline: Option<Vec<StepOut>>,
}

impl DocumentOut {
    pub(crate) fn new(d: &StockDocument, steps: Option<&[DocumentStep]>) -> DocumentOut {
        DocumentOut {
            id: d.id.as_uuid(),
            kind: d.kind.as_str().to_owned(),
            number: d.number.clone(),
            store_id: d.store_id.as_uuid(),
            source_store_id: d.source_store_id.map(|s| s.as_uuid()),
            supplier: d.supplier.clone(),
            status: d.status.as_str().to_owned(),
            note: d.note.clone(),
            lines: d.lines.iter().map(DocumentLineOut::from).collect(),
            created_by: d.created_by.map(|s| s.as_uuid()),
            created_at: d.created_at,
            updated_at: d.updated_at,
            timeline: steps.map(|s| s.iter().map(StepOut::from).collect()),
        }
    }

    pub(crate) fn detail(d: &DocumentDetail) -> DocumentOut {
        DocumentOut::new(&d.document, Some(&d.steps))
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentLineIn {
    sku_id: Uuid,
    /// Ordered, asked for or lost; omit on a stocktake.
    #[serde(default)]
    quantity: i64,
    /// Required on a loss report: damaged, expired…
    reason: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentIn {
    /// purchase, requisition, transfer, stocktake or loss.
    kind: String,
    /// Where goods arrive (purchase, requisition, transfer), are counted or are lost.
    store_id: Uuid,
    /// Where goods come from: required for a transfer; a requisition may leave it to the approver.
    source_store_id: Option<Uuid>,
    /// Required for a purchase order.
    supplier: Option<String>,
    note: Option<String>,
    /// A stocktake without lines counts every SKU the store holds.
    #[serde(default)]
    lines: Vec<DocumentLineIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepLineIn {
    line_no: i32,
    quantity: i64,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DocumentStepIn {
    /// receive, close (purchase); approve, reject, ship, receive, cancel (requisition,
    /// transfer); count, submit, approve, reject, cancel (stocktake); approve, reject, cancel
    /// (loss).
    step: String,
    /// Quantities per line: received, approved, shipped or counted. Omitted: everything
    /// outstanding, as asked, as approved or as shipped; on a receipt of a shipment, lines not
    /// named arrived in full.
    lines: Option<Vec<StepLineIn>>,
    /// Approving a requisition that named no source: where the goods come from.
    source_store_id: Option<Uuid>,
    note: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DocumentQuery {
    /// Documents arriving at or leaving this store.
    store_id: Option<Uuid>,
    region_id: Option<Uuid>,
    kind: Option<String>,
    status: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// Raises a stock document. `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/stock-documents", tag = "inventory", request_body = DocumentIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = DocumentOut), (status = 422, description = "required, unknown_reference…")))]
pub async fn create_document(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    create: Create<DocumentIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = DocumentDraft {
        kind: input.kind,
        store_id: Some(StoreId::from_uuid(input.store_id)),
        source_store_id: input.source_store_id.map(StoreId::from_uuid),
        supplier: input.supplier,
        note: input.note,
        lines: input
            .lines
            .into_iter()
            .map(|l| DocumentLineDraft {
                sku_id: Some(SkuId::from_uuid(l.sku_id)),
                quantity: l.quantity,
                reason: l.reason,
            })
            .collect(),
    };
    let reply = json_reply(DocumentOut::detail);
    Ok(created(state.app.create_document(&ctx, draft, &reply).await?, &reply))
}

/// Stock documents touching the caller's stores, oldest first.
#[utoipa::path(get, path = "/api/v1/stock-documents", tag = "inventory", params(DocumentQuery),
    responses((status = 200, body = ListOut<DocumentOut>)))]
pub async fn list_documents(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiQuery(query): ApiQuery<DocumentQuery>,
) -> Result<Response, ApiError> {
    let place = PlaceFilter {
        region_id: query.region_id.map(RegionId::from_uuid),
        store_id: query.store_id.map(StoreId::from_uuid),
    };
    let listing = state
        .app
        .documents(&ctx, place, query.kind.as_deref(), query.status.as_deref(), query.cursor.as_deref(), query.limit)
        .await?;
    Ok(ok(ListOut::from_listing(listing, |d| DocumentOut::new(&d, None))))
}

/// One stock document with its timeline.
#[utoipa::path(get, path = "/api/v1/stock-documents/{id}", tag = "inventory",
    responses((status = 200, body = DocumentOut)))]
pub async fn get_document(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    Ok(ok(DocumentOut::detail(&state.app.document(&ctx, DocumentId::from_uuid(id)).await?)))
}

/// Takes a step on a stock document: receive, approve, ship, count, submit… `Idempotency-Key`
/// is required.
#[utoipa::path(post, path = "/api/v1/stock-documents/{id}/steps", tag = "inventory", request_body = DocumentStepIn,
    params(("Idempotency-Key" = String, Header, description = "Required")),
    responses((status = 201, body = DocumentOut),
              (status = 409, description = "illegal_document_transition, insufficient_stock, changed_meanwhile"),
              (status = 422, description = "document_lines")))]
pub async fn document_step(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(id): ApiPath<Uuid>,
    create: Create<DocumentStepIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = DocumentStepDraft {
        step: input.step,
        lines: input.lines.map(|lines| lines.iter().map(|l| (l.line_no, l.quantity)).collect()),
        source_store_id: input.source_store_id.map(StoreId::from_uuid),
        note: input.note,
    };
    let reply = json_reply(DocumentOut::detail);
    Ok(created(state.app.document_step(&ctx, DocumentId::from_uuid(id), draft, &reply).await?, &reply))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockPolicyOut {
    sku_id: Uuid,
    /// Low stock at or below this (available + in transit + expected).
    reorder_point: i64,
    /// Reorder up to this.
    target: i64,
    updated_at: DateTime<Utc>,
}

impl From<&StockPolicy> for StockPolicyOut {
    fn from(p: &StockPolicy) -> Self {
        StockPolicyOut {
            sku_id: p.sku_id.as_uuid(),
            reorder_point: p.reorder_point,
            target: p.target,
            updated_at: p.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutlookOut {
    sku_id: Uuid,
    reorder_point: i64,
    target: i64,
    available: i64,
    in_transit: i64,
    /// Still to arrive on open purchase orders and on requisitions or transfers not yet shipped.
    expected: i64,
    low: bool,
    /// What to order to be back at the target.
    suggested: i64,
}

impl From<&StockOutlook> for OutlookOut {
    fn from(o: &StockOutlook) -> Self {
        OutlookOut {
            sku_id: o.policy.sku_id.as_uuid(),
            reorder_point: o.policy.reorder_point,
            target: o.policy.target,
            available: o.levels.available().get(),
            in_transit: o.levels.in_transit.get(),
            expected: o.expected,
            low: o.low,
            suggested: o.suggested,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct OutlookListOut {
    items: Vec<OutlookOut>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StockPolicyIn {
    reorder_point: i64,
    target: i64,
}

/// Sets a store's reorder point and target for an SKU (store manager and above).
#[utoipa::path(put, path = "/api/v1/stores/{store_id}/stock-policies/{sku_id}", tag = "inventory",
    request_body = StockPolicyIn, responses((status = 200, body = StockPolicyOut)))]
pub async fn put_stock_policy(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath((store_id, sku_id)): ApiPath<(Uuid, Uuid)>,
    JsonBody(input): JsonBody<StockPolicyIn>,
) -> Result<Response, ApiError> {
    let (store_id, sku_id) = (StoreId::from_uuid(store_id), SkuId::from_uuid(sku_id));
    let policy = state.app.set_stock_policy(&ctx, store_id, sku_id, input.reorder_point, input.target).await?;
    Ok(ok(StockPolicyOut::from(&policy)))
}

/// Removes a store's reorder policy for an SKU.
#[utoipa::path(delete, path = "/api/v1/stores/{store_id}/stock-policies/{sku_id}", tag = "inventory",
    responses((status = 204, description = "Removed")))]
pub async fn delete_stock_policy(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath((store_id, sku_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<StatusCode, ApiError> {
    state.app.delete_stock_policy(&ctx, StoreId::from_uuid(store_id), SkuId::from_uuid(sku_id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Every SKU the store keeps a reorder policy for, with its stock outlook.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/stock-policies", tag = "inventory",
    responses((status = 200, body = OutlookListOut)))]
pub async fn list_stock_policies(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let outlook = state.app.stock_outlook(&ctx, StoreId::from_uuid(store_id), false).await?;
    Ok(ok(OutlookListOut { items: outlook.iter().map(OutlookOut::from).collect() }))
}

/// Low-stock SKUs of a store and how much to reorder of each (补货建议).
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/reorder-suggestions", tag = "inventory",
    responses((status = 200, body = OutlookListOut)))]
pub async fn reorder_suggestions(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
) -> Result<Response, ApiError> {
    let outlook = state.app.stock_outlook(&ctx, StoreId::from_uuid(store_id), true).await?;
    Ok(ok(OutlookListOut { items: outlook.iter().map(OutlookOut::from).collect() }))
}
