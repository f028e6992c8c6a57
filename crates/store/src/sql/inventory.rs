//! Stock levels and the stock ledger. A change is one guarded `UPDATE … RETURNING`: the row
//! moves only if every bucket stays valid, which the database checks atomically per row, so
//! concurrent writers (several instances on PostgreSQL, or many tasks) can never oversell.

use async_trait::async_trait;
use quanyu_domain::{
    ids::{SkuId, StoreId},
    inventory::{Qty, StockDeltas, StockLevels},
};
use sqlx::Row as _;

use super::{super::SqlTx, Keyset, bind_sort_value, keyset, rows};
use crate::{InventoryRepo, LedgerMismatch, Page, Sorting, StockEntry, StockRow, StockSort, StoreResult};

pub(super) fn levels(row: &rows::Row, prefix: &str) -> StoreResult<StockLevels> {
    let get = |name: &str| -> StoreResult<Qty> { Ok(Qty::new(row.try_get(format!("{prefix}{name}").as_str())?)) };
    Ok(StockLevels {
        on_hand: get("on_hand")?,
        reserved: get("reserved")?,
        committed: get("committed")?,
        unavailable: get("unavailable")?,
        in_transit: get("in_transit")?,
    })
}

fn stock_row(row: &rows::Row) -> StoreResult<StockRow> {
    Ok(StockRow {
        store_id: StoreId::from_uuid(row.try_get("store_id")?),
        sku_id: SkuId::from_uuid(row.try_get("sku_id")?),
        levels: levels(row, "")?,
        updated_at: row.try_get("updated_at")?,
    })
}

fn deltas(row: &rows::Row, prefix: &str) -> StoreResult<StockDeltas> {
    let get = |name: &str| -> StoreResult<i64> { Ok(row.try_get(format!("{prefix}{name}").as_str())?) };
    Ok(StockDeltas {
        on_hand: get("on_hand")?,
        reserved: get("reserved")?,
        committed: get("committed")?,
        unavailable: get("unavailable")?,
        in_transit: get("in_transit")?,
    })
}

fn entry(row: &rows::Row) -> StoreResult<StockEntry> {
    let actor: Option<uuid::Uuid> = row.try_get("actor_id")?;
    Ok(StockEntry {
        id: quanyu_domain::ids::StockEntryId::from_uuid(row.try_get("id")?),
        store_id: StoreId::from_uuid(row.try_get("store_id")?),
        sku_id: SkuId::from_uuid(row.try_get("sku_id")?),
        change: row.try_get("change")?,
        deltas: deltas(row, "delta_")?,
        reason: row.try_get("reason")?,
        reference: row.try_get("reference")?,
        idempotency_key: row.try_get("idem_key")?,
        actor_id: actor.map(quanyu_domain::ids::StaffId::from_uuid),
        at: row.try_get("at")?,
    })
}

impl SqlTx {
    /// The guarded move of an existing stock row: its levels after `e`, or `None` when the row
    /// is missing or a bucket would leave its bounds.
    async fn move_stock(&mut self, e: &StockEntry) -> StoreResult<Option<rows::Row>> {
        let d = e.deltas;
        Ok(sqlx::query(concat!(
            "UPDATE stock_levels SET on_hand = on_hand + $3, reserved = reserved + $4, committed = committed + $5, \
             unavailable = unavailable + $6, in_transit = in_transit + $7, updated_at = $8 \
             WHERE store_id = $1 AND sku_id = $2 AND ",
            stock_guard!("$3", "$4", "$5", "$6", "$7"),
            " RETURNING on_hand, reserved, committed, unavailable, in_transit"
        ))
        .bind(e.store_id.as_uuid())
        .bind(e.sku_id.as_uuid())
        .bind(d.on_hand)
        .bind(d.reserved)
        .bind(d.committed)
        .bind(d.unavailable)
        .bind(d.in_transit)
        .bind(e.at)
        .fetch_optional(&mut *self.tx)
        .await?)
    }
}

#[async_trait]
impl InventoryRepo for SqlTx {
    async fn apply_stock(&mut self, e: &StockEntry) -> StoreResult<Option<StockLevels>> {
        // The row nearly always exists: move it first, and only when nothing moved find out
        // whether it was missing (then create it empty and try once more) or the guard said no.
        let mut updated = self.move_stock(e).await?;
        if updated.is_none() {
            // Created here or by a concurrent writer (whose insert this one waits for on
            // PostgreSQL): either way the row is there for the second try.
            sqlx::query(
                "INSERT INTO stock_levels (store_id, sku_id, on_hand, reserved, committed, unavailable, in_transit, \
                 updated_at) VALUES ($1, $2, 0, 0, 0, 0, 0, $3) ON CONFLICT (store_id, sku_id) DO NOTHING",
            )
            .bind(e.store_id.as_uuid())
            .bind(e.sku_id.as_uuid())
            .bind(e.at)
            .execute(&mut *self.tx)
            .await?;
            updated = self.move_stock(e).await?;
        }
        let d = e.deltas;
        let Some(updated) = updated else { return Ok(None) };
        sqlx::query(
            "INSERT INTO stock_ledger (id, store_id, sku_id, change, delta_on_hand, delta_reserved, delta_committed, \
             delta_unavailable, delta_in_transit, reason, reference, idem_key, actor_id, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)",
        )
        .bind(e.id.as_uuid())
        .bind(e.store_id.as_uuid())
        .bind(e.sku_id.as_uuid())
        .bind(&e.change)
        .bind(d.on_hand)
        .bind(d.reserved)
        .bind(d.committed)
        .bind(d.unavailable)
        .bind(d.in_transit)
        .bind(&e.reason)
        .bind(&e.reference)
        .bind(&e.idempotency_key)
        .bind(e.actor_id.map(|a| a.as_uuid()))
        .bind(e.at)
        .execute(&mut *self.tx)
        .await?;
        Ok(Some(levels(&updated, "")?))
    }

    async fn get_stock(&mut self, store_id: StoreId, sku_id: SkuId) -> StoreResult<Option<StockRow>> {
        let row = sqlx::query("SELECT * FROM stock_levels WHERE store_id = $1 AND sku_id = $2")
            .bind(store_id.as_uuid())
            .bind(sku_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(stock_row).transpose()
    }

    async fn list_stock(
        &mut self,
        store_id: StoreId,
        sort: &Sorting<StockSort>,
        page: Page,
    ) -> StoreResult<Vec<StockRow>> {
        let Keyset { condition, order } = keyset(sort, "sku_id", "$2", "$4");
        let sql = format!("SELECT * FROM stock_levels WHERE store_id = $1 AND {condition} ORDER BY {order} LIMIT $3");
        let query =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(store_id.as_uuid()).bind(page.after).bind(page.sql_limit());
        let found = bind_sort_value(query, sort).fetch_all(&mut *self.tx).await?;
        found.iter().map(stock_row).collect()
    }

    async fn stock_entry_by_key(&mut self, idempotency_key: &str) -> StoreResult<Option<StockEntry>> {
        let row = sqlx::query("SELECT * FROM stock_ledger WHERE idem_key = $1")
            .bind(idempotency_key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(entry).transpose()
    }

    async fn list_stock_entries(
        &mut self,
        store_id: StoreId,
        sku_id: SkuId,
        page: Page,
    ) -> StoreResult<Vec<StockEntry>> {
        let found = sqlx::query(
            "SELECT * FROM stock_ledger WHERE store_id = $1 AND sku_id = $2 AND ($3 IS NULL OR id < $3) \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(store_id.as_uuid())
        .bind(sku_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        found.iter().map(entry).collect()
    }

    async fn stock_of_sku(&mut self, sku_id: SkuId) -> StoreResult<Vec<StockRow>> {
        let found = sqlx::query("SELECT * FROM stock_levels WHERE sku_id = $1")
            .bind(sku_id.as_uuid())
            .fetch_all(&mut *self.tx)
            .await?;
        found.iter().map(stock_row).collect()
    }

    async fn reconcile_stock(&mut self) -> StoreResult<Vec<LedgerMismatch>> {
        let found = sqlx::query(
            "SELECT l.store_id, l.sku_id, l.on_hand, l.reserved, l.committed, l.unavailable, l.in_transit, \
             l.updated_at, \
             CAST(COALESCE(SUM(e.delta_on_hand), 0) AS BIGINT) AS sum_on_hand, \
             CAST(COALESCE(SUM(e.delta_reserved), 0) AS BIGINT) AS sum_reserved, \
             CAST(COALESCE(SUM(e.delta_committed), 0) AS BIGINT) AS sum_committed, \
             CAST(COALESCE(SUM(e.delta_unavailable), 0) AS BIGINT) AS sum_unavailable, \
             CAST(COALESCE(SUM(e.delta_in_transit), 0) AS BIGINT) AS sum_in_transit \
             FROM stock_levels l LEFT JOIN stock_ledger e ON e.store_id = l.store_id AND e.sku_id = l.sku_id \
             GROUP BY l.store_id, l.sku_id, l.on_hand, l.reserved, l.committed, l.unavailable, l.in_transit, \
             l.updated_at \
             HAVING l.on_hand <> COALESCE(SUM(e.delta_on_hand), 0) \
             OR l.reserved <> COALESCE(SUM(e.delta_reserved), 0) \
             OR l.committed <> COALESCE(SUM(e.delta_committed), 0) \
             OR l.unavailable <> COALESCE(SUM(e.delta_unavailable), 0) \
             OR l.in_transit <> COALESCE(SUM(e.delta_in_transit), 0) \
             ORDER BY l.store_id, l.sku_id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        found.iter().map(|row| Ok(LedgerMismatch { row: stock_row(row)?, ledger: deltas(row, "sum_")? })).collect()
    }
}

super::sort_columns!(crate::StockSort {
    OnHand => ("on_hand", false),
    Available => ("(on_hand - reserved - committed - unavailable)", false),
    Reserved => ("reserved", false),
});
