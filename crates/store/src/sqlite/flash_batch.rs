//! A flash sale's batch on SQLite: the reserve entry into the stock ledger and the journal
//! record, four statements, run on the writer connection's own handle in one hand-off
//! ([`raw`](super::raw)). Through sqlx each statement was a round trip to its worker thread, and
//! the sale's owner waits for every one of them with the whole batch of buyers behind it: four
//! extra round trips per batch cost about 8 % of the rush's throughput over HTTP. The SQL is the
//! shared SQL that `apply_stock` and `append_flash_journal` run, so the two paths cannot drift.

use uuid::Uuid;

use super::{
    SqlTx,
    raw::{Statement, TimestampText, Value},
    sql::{
        flash::{APPEND_FLASH_JOURNAL, CLAIM_FLASH_JOURNAL},
        inventory::{INSERT_LEDGER_ENTRY, MOVE_STOCK},
    },
};
use crate::{FlashJournalAppend, StockEntry, StoreResult};

/// See [`FlashSaleRepo::reserve_flash_batch`](crate::FlashSaleRepo::reserve_flash_batch).
pub(crate) async fn reserve_flash_batch(
    tx: &mut SqlTx,
    entry: &StockEntry,
    sale_id: Uuid,
    after: i64,
    append: &FlashJournalAppend<'_>,
) -> StoreResult<bool> {
    let mut handle = tx.tx.lock_handle().await?;
    let db = handle.as_raw_handle();
    let mut timestamps = TimestampText::default();
    let (store_id, sku_id) = (entry.store_id.as_uuid(), entry.sku_id.as_uuid());
    let d = entry.deltas;
    let moved = Statement::prepare(db, MOVE_STOCK, false, "reserving flash-sale stock")?.run(&[
        Value::Blob(store_id.as_bytes()),
        Value::Blob(sku_id.as_bytes()),
        Value::Int(d.on_hand),
        Value::Int(d.reserved),
        Value::Int(d.committed),
        Value::Int(d.unavailable),
        Value::Int(d.in_transit),
        Value::Text(timestamps.of(entry.at)),
    ])?;
    if moved == 0 {
        return Ok(false);
    }
    let (entry_id, actor_id) = (entry.id.as_uuid(), entry.actor_id.map(|a| a.as_uuid()));
    Statement::prepare(db, INSERT_LEDGER_ENTRY, false, "appending a flash-sale stock entry")?.run(&[
        Value::Blob(entry_id.as_bytes()),
        Value::Blob(store_id.as_bytes()),
        Value::Blob(sku_id.as_bytes()),
        Value::Text(&entry.change),
        Value::Int(d.on_hand),
        Value::Int(d.reserved),
        Value::Int(d.committed),
        Value::Int(d.unavailable),
        Value::Int(d.in_transit),
        Value::text(entry.reason.as_deref()),
        Value::text(entry.reference.as_deref()),
        Value::Text(&entry.idempotency_key),
        Value::blob(actor_id.as_ref().map(|a| a.as_bytes().as_slice())),
        Value::Text(timestamps.of(entry.at)),
    ])?;
    let claimed = Statement::prepare(db, CLAIM_FLASH_JOURNAL, false, "claiming a flash-sale journal record")?
        .run(&[Value::Blob(sale_id.as_bytes()), Value::Int(append.units), Value::Int(after)])?;
    if claimed == 0 {
        return Ok(false);
    }
    Statement::prepare(db, APPEND_FLASH_JOURNAL, false, "appending a flash-sale journal record")?.run(&[
        Value::Blob(sale_id.as_bytes()),
        Value::Int(after + 1),
        Value::Text(timestamps.of(append.at)),
        Value::Int(append.reservations),
        Value::Int(append.units),
        Value::Blob(append.payload),
    ])?;
    Ok(true)
}
