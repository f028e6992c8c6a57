//! Use cases of inventory (进销存): recording stock movements, changing holds for several SKUs
//! at once, reading levels and the ledger, and proving that every level equals the sum of its
//! ledger. Stock moves only through ledger entries with idempotency keys.

use quanyu_domain::{
    DomainError,
    authz::Permission,
    ids::{SkuId, StockEntryId, StoreId},
    inventory::{MovementKind, Qty, StockChange, StockLevels},
    text,
};
use quanyu_store::{LedgerMismatch, SortOrder, Sorting, StockEntry, StockRow, StockSort, Tx};

use crate::{
    App, AppError, AppResult, Ctx, Listing, Reply, Written, change::Change, listing::Cursor, org::store_in_scope,
    write::now,
};

/// A stock movement as a caller describes it.
#[derive(Debug, Clone, Default)]
pub struct MovementDraft {
    pub sku_id: Option<SkuId>,
    /// `purchase_receipt`, `return`, `stocktake_adjustment` or `loss`. Requisitions, transfers
    /// and sales move stock through their documents and orders.
    pub kind: String,
    /// Units (grams for goods sold by weight): positive, except a stocktake adjustment, which
    /// carries its sign.
    pub quantity: i64,
    /// Required for a loss (damaged, expired…).
    pub reason: Option<String>,
    pub reference: Option<String>,
}

/// A recorded movement and the levels after it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StockMovement {
    pub entry: StockEntry,
    pub levels: StockLevels,
}

/// The kinds a person may record directly.
const DIRECT_KINDS: [MovementKind; 4] =
    [MovementKind::PurchaseReceipt, MovementKind::Return, MovementKind::StocktakeAdjustment, MovementKind::Loss];

impl App {
    /// Records a movement of one SKU in a store. Requires an idempotency key: a retry returns
    /// the first reply and moves nothing.
    pub async fn record_movement(
        &self,
        ctx: &Ctx,
        store_id: StoreId,
        draft: MovementDraft,
        reply: Reply<'_, StockMovement>,
    ) -> AppResult<Written<StockMovement>> {
        ctx.require(Permission::ManageStock)?;
        let key = ctx.idempotency.as_ref().ok_or(AppError::IdempotencyKeyRequired)?.key.clone();
        let sku_id = draft.sku_id.ok_or(DomainError::Required { field: "sku_id" })?;
        let kind = MovementKind::parse(draft.kind.trim())?;
        if !DIRECT_KINDS.contains(&kind) {
            return Err(DomainError::UnknownValue { field: "kind", value: draft.kind }.into());
        }
        let delta = movement_delta(kind, draft.quantity)?;
        let reason = text::optional("reason", draft.reason.as_deref(), 200)?;
        if kind == MovementKind::Loss && reason.is_none() {
            return Err(DomainError::Required { field: "reason" }.into());
        }
        let reference = text::optional("reference", draft.reference.as_deref(), 100)?;
        let entry = StockEntry {
            id: StockEntryId::new(),
            store_id,
            sku_id,
            change: kind.as_str().to_owned(),
            deltas: StockChange::Move { kind, delta }
                .deltas()
                .map_err(|_| DomainError::Required { field: "quantity" })?,
            reason,
            reference,
            idempotency_key: format!("api:{}:{key}", ctx.actor.staff_id),
            actor_id: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
            at: now(),
        };
        write_idempotent!(self, ctx, reply, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            if tx.get_sku(sku_id).await?.is_none() {
                return Err(AppError::UnknownReference { field: "sku_id", entity: "sku" });
            }
            let levels = apply(tx, &entry).await?;
            Change::new("stock.moved", "stock", format!("{store_id}/{sku_id}"))
                .in_store(store_id)
                .set("kind", &entry.change)
                .set("on_hand", &entry.deltas.on_hand)
                .record(tx, Some(ctx))
                .await?;
            Ok(StockMovement { entry, levels })
        })
    }

    /// Applies several stock changes in one store atomically, in SKU order so concurrent
    /// multi-SKU changes never deadlock; all or nothing. `key` makes the batch idempotent: a
    /// batch already applied under it is not applied again and its current levels are returned.
    /// Used by orders, reservations and flash sales.
    pub async fn change_stock(
        &self,
        ctx: &Ctx,
        store_id: StoreId,
        label: &str,
        changes: &[(SkuId, StockChange)],
        key: &str,
        reference: Option<&str>,
    ) -> AppResult<Vec<StockLevels>> {
        let entries = batch_entries(ctx, store_id, label, changes, key, reference)?;
        write_tx!(self, |tx| apply_batch(tx, store_id, &entries).await)
    }

    /// A store's stock rows (SKUs it has ever held).
    pub async fn stock_levels(
        &self,
        ctx: &Ctx,
        store_id: StoreId,
        order: SortOrder<StockSort>,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<StockRow>> {
        ctx.require(Permission::ReadStock)?;
        let mut sorting = Sorting::from(order);
        let page = Cursor::sorted_page(cursor, limit, &mut sorting)?;
        let rows = read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            Ok(tx.list_stock(store_id, &sorting, page).await?)
        })?;
        Ok(Listing::from_sorted_rows(rows, page, order, |r| r.sku_id.as_uuid()))
    }

    /// A store's stock of one SKU (zero when it never held any).
    pub async fn stock_of(&self, ctx: &Ctx, store_id: StoreId, sku_id: SkuId) -> AppResult<StockRow> {
        ctx.require(Permission::ReadStock)?;
        read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            if tx.get_sku(sku_id).await?.is_none() {
                return Err(AppError::NotFound { entity: "sku" });
            }
            let row = tx.get_stock(store_id, sku_id).await?;
            Ok(row.unwrap_or(StockRow { store_id, sku_id, levels: StockLevels::default(), updated_at: now() }))
        })
    }

    /// The ledger of one SKU in a store, newest first.
    pub async fn stock_ledger(
        &self,
        ctx: &Ctx,
        store_id: StoreId,
        sku_id: SkuId,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> AppResult<Listing<StockEntry>> {
        ctx.require(Permission::ReadStock)?;
        let page = Cursor::page(cursor, limit)?;
        let rows = read_tx!(self, |tx| {
            store_in_scope(ctx, tx, store_id).await?;
            Ok(tx.list_stock_entries(store_id, sku_id, page).await?)
        })?;
        Ok(Listing::from_rows(rows, page, |e| e.id.as_uuid()))
    }

    /// Every stock row that differs from the sums of its ledger: empty when the books are sound.
    pub async fn reconcile_stock(&self, ctx: &Ctx) -> AppResult<Vec<LedgerMismatch>> {
        ctx.require(Permission::ReadAudit)?;
        read_tx!(self, |tx| Ok(tx.reconcile_stock().await?))
    }
}

/// The ledger entries of a batch of changes, in SKU order (the order rows are locked in, so
/// concurrent batches never deadlock), keyed `{key}:{index}`.
pub(crate) fn batch_entries(
    ctx: &Ctx,
    store_id: StoreId,
    label: &str,
    changes: &[(SkuId, StockChange)],
    key: &str,
    reference: Option<&str>,
) -> AppResult<Vec<StockEntry>> {
    let mut ordered: Vec<(SkuId, StockChange)> = changes.to_vec();
    ordered.sort_by_key(|(sku, _)| *sku);
    ordered
        .iter()
        .enumerate()
        .map(|(index, (sku_id, change))| {
            Ok(StockEntry {
                id: StockEntryId::new(),
                store_id,
                sku_id: *sku_id,
                change: label.to_owned(),
                deltas: change.deltas().map_err(|_| DomainError::Required { field: "quantity" })?,
                reason: None,
                reference: reference.map(str::to_owned),
                idempotency_key: format!("{key}:{index}"),
                actor_id: Some(ctx.actor.staff_id).filter(|_| !ctx.is_system()),
                at: now(),
            })
        })
        .collect()
}

/// Applies a batch in the caller's transaction; entries whose key is already in the ledger
/// were applied before and are skipped.
pub(crate) async fn apply_batch(
    tx: &mut dyn Tx,
    store_id: StoreId,
    entries: &[StockEntry],
) -> AppResult<Vec<StockLevels>> {
    let mut after = Vec::with_capacity(entries.len());
    for entry in entries {
        if tx.stock_entry_by_key(&entry.idempotency_key).await?.is_some() {
            let row = tx.get_stock(store_id, entry.sku_id).await?;
            after.push(row.map_or_else(StockLevels::default, |r| r.levels));
            continue;
        }
        after.push(apply(tx, entry).await?);
    }
    Ok(after)
}

/// Applies one entry, turning a refusal into `InsufficientStock` with the numbers.
async fn apply(tx: &mut dyn Tx, entry: &StockEntry) -> AppResult<StockLevels> {
    if let Some(levels) = tx.apply_stock(entry).await? {
        return Ok(levels);
    }
    let current = tx.get_stock(entry.store_id, entry.sku_id).await?.map_or_else(StockLevels::default, |r| r.levels);
    let taken = -(entry.deltas.on_hand - entry.deltas.reserved - entry.deltas.committed - entry.deltas.unavailable);
    Err(AppError::InsufficientStock {
        sku_id: entry.sku_id,
        available: current.available().get(),
        requested: taken.max(0),
    })
}

/// The signed on-hand delta of a direct movement.
fn movement_delta(kind: MovementKind, quantity: i64) -> AppResult<i64> {
    let max = Qty::MAX.get();
    if kind == MovementKind::StocktakeAdjustment {
        if quantity == 0 || quantity.unsigned_abs() > max.unsigned_abs() {
            return Err(DomainError::OutOfRange { field: "quantity", min: -max, max }.into());
        }
        return Ok(quantity);
    }
    let qty = Qty::positive("quantity", quantity)?;
    Ok(i64::from(kind.direction()) * qty.get())
}
