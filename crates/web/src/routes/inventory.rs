//! Inventory: stock levels per store, the stock ledger, direct movements and reconciliation.

use axum::{extract::State, response::Response};
use chrono::{DateTime, Utc};
use quanyu_app::{Ctx, MovementDraft, StockMovement};
use quanyu_domain::ids::{SkuId, StoreId};
use quanyu_store::{StockEntry, StockRow};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{ListOut, PageQuery, created, json_reply, ok};
use crate::{
    ApiError, AppState,
    extract::{ApiPath, ApiQuery, Auth, Create},
};

#[derive(Debug, Serialize, ToSchema)]
pub struct StockOut {
    sku_id: Uuid,
    /// Physically in the store. Units, or grams for goods sold by weight.
    on_hand: i64,
    /// Held for unpaid orders and open bills.
    reserved: i64,
    /// Paid, not yet picked.
    committed: i64,
    /// Damaged or frozen by a stocktake.
    unavailable: i64,
    /// On its way from another location.
    in_transit: i64,
    /// What can still be sold: on hand less reserved, committed and unavailable.
    available: i64,
    updated_at: DateTime<Utc>,
}

impl From<&StockRow> for StockOut {
    fn from(row: &StockRow) -> Self {
        let l = row.levels;
        StockOut {
            sku_id: row.sku_id.as_uuid(),
            on_hand: l.on_hand.get(),
            reserved: l.reserved.get(),
            committed: l.committed.get(),
            unavailable: l.unavailable.get(),
            in_transit: l.in_transit.get(),
            available: l.available().get(),
            updated_at: row.updated_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StockEntryOut {
    id: Uuid,
    sku_id: Uuid,
    /// purchase_receipt, loss, stocktake_adjustment, return, reserve, commit…
    change: String,
    delta_on_hand: i64,
    delta_reserved: i64,
    delta_committed: i64,
    delta_unavailable: i64,
    delta_in_transit: i64,
    reason: Option<String>,
    reference: Option<String>,
    actor_id: Option<Uuid>,
    at: DateTime<Utc>,
}

impl From<&StockEntry> for StockEntryOut {
    fn from(e: &StockEntry) -> Self {
        StockEntryOut {
            id: e.id.as_uuid(),
            sku_id: e.sku_id.as_uuid(),
            change: e.change.clone(),
            delta_on_hand: e.deltas.on_hand,
            delta_reserved: e.deltas.reserved,
            delta_committed: e.deltas.committed,
            delta_unavailable: e.deltas.unavailable,
            delta_in_transit: e.deltas.in_transit,
            reason: e.reason.clone(),
            reference: e.reference.clone(),
            actor_id: e.actor_id.map(|a| a.as_uuid()),
            at: e.at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MovementOut {
    entry: StockEntryOut,
    stock: StockOut,
}

impl From<&StockMovement> for MovementOut {
    fn from(m: &StockMovement) -> Self {
        let row =
            StockRow { store_id: m.entry.store_id, sku_id: m.entry.sku_id, levels: m.levels, updated_at: m.entry.at };
        MovementOut { entry: StockEntryOut::from(&m.entry), stock: StockOut::from(&row) }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MovementIn {
    sku_id: Uuid,
    /// purchase_receipt, return, stocktake_adjustment or loss.
    kind: String,
    /// Positive units (grams when sold by weight); a stocktake adjustment carries its sign.
    quantity: i64,
    /// Required for a loss.
    reason: Option<String>,
    /// A supplier delivery note, a count sheet…
    reference: Option<String>,
}

/// Records a stock movement (store manager and above). `Idempotency-Key` is required.
#[utoipa::path(post, path = "/api/v1/stores/{store_id}/stock/movements", tag = "inventory", request_body = MovementIn,
    params(("Idempotency-Key" = String, Header, description = "Required: a retry moves nothing")),
    responses((status = 201, body = MovementOut), (status = 400, description = "idempotency_key_required"),
              (status = 409, description = "insufficient_stock")))]
pub async fn record_movement(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
    create: Create<MovementIn>,
) -> Result<Response, ApiError> {
    let ctx = Ctx { idempotency: create.idempotency, ..ctx };
    let input = create.body;
    let draft = MovementDraft {
        sku_id: Some(SkuId::from_uuid(input.sku_id)),
        kind: input.kind,
        quantity: input.quantity,
        reason: input.reason,
        reference: input.reference,
    };
    let reply = json_reply(|movement: &StockMovement| MovementOut::from(movement));
    Ok(created(state.app.record_movement(&ctx, StoreId::from_uuid(store_id), draft, &reply).await?, &reply))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StockQuery {
    /// `on_hand`, `available`, `reserved` or `created_at` (the default: the order SKUs were
    /// created in); `-` first for descending.
    sort: Option<String>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// A store's stock, SKU by SKU.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/stock", tag = "inventory", params(StockQuery),
    responses((status = 200, body = ListOut<StockOut>)))]
pub async fn list_stock(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath(store_id): ApiPath<Uuid>,
    ApiQuery(query): ApiQuery<StockQuery>,
) -> Result<Response, ApiError> {
    let order = quanyu_app::parse_sort(query.sort.as_deref())?;
    let listing =
        state.app.stock_levels(&ctx, StoreId::from_uuid(store_id), order, query.cursor.as_deref(), query.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |row| StockOut::from(&row))))
}

/// A store's stock of one SKU.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/stock/{sku_id}", tag = "inventory",
    responses((status = 200, body = StockOut)))]
pub async fn get_stock(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath((store_id, sku_id)): ApiPath<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let row = state.app.stock_of(&ctx, StoreId::from_uuid(store_id), SkuId::from_uuid(sku_id)).await?;
    Ok(ok(StockOut::from(&row)))
}

/// The stock ledger of one SKU in a store, newest first.
#[utoipa::path(get, path = "/api/v1/stores/{store_id}/stock/{sku_id}/ledger", tag = "inventory", params(PageQuery),
    responses((status = 200, body = ListOut<StockEntryOut>)))]
pub async fn stock_ledger(
    State(state): State<AppState>,
    Auth(ctx): Auth,
    ApiPath((store_id, sku_id)): ApiPath<(Uuid, Uuid)>,
    ApiQuery(page): ApiQuery<PageQuery>,
) -> Result<Response, ApiError> {
    let (store_id, sku_id) = (StoreId::from_uuid(store_id), SkuId::from_uuid(sku_id));
    let listing = state.app.stock_ledger(&ctx, store_id, sku_id, page.cursor.as_deref(), page.limit).await?;
    Ok(ok(ListOut::from_listing(listing, |entry| StockEntryOut::from(&entry))))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct MismatchOut {
    store_id: Uuid,
    stock: StockOut,
    /// The sums of the ledger, bucket by bucket.
    ledger_on_hand: i64,
    ledger_reserved: i64,
    ledger_committed: i64,
    ledger_unavailable: i64,
    ledger_in_transit: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReconcileOut {
    /// True when every stock level equals the sum of its ledger.
    sound: bool,
    mismatches: Vec<MismatchOut>,
}

/// Proves the books: every stock level against the sum of its ledger (HQ).
#[utoipa::path(get, path = "/api/v1/inventory/reconcile", tag = "inventory", responses((status = 200, body = ReconcileOut)))]
pub async fn reconcile(State(state): State<AppState>, Auth(ctx): Auth) -> Result<Response, ApiError> {
    let mismatches: Vec<MismatchOut> = state
        .app
        .reconcile_stock(&ctx)
        .await?
        .iter()
        .map(|m| MismatchOut {
            store_id: m.row.store_id.as_uuid(),
            stock: StockOut::from(&m.row),
            ledger_on_hand: m.ledger.on_hand,
            ledger_reserved: m.ledger.reserved,
            ledger_committed: m.ledger.committed,
            ledger_unavailable: m.ledger.unavailable,
            ledger_in_transit: m.ledger.in_transit,
        })
        .collect();
    Ok(ok(ReconcileOut { sound: mismatches.is_empty(), mismatches }))
}
