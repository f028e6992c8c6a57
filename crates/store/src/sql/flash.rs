//! Flash sales: offers, the reservation journal (appended by compare-and-set on the sale's
//! journal head and quota), its materialisation into reservation rows and buyer counts, and
//! releases. The multi-row statements are built for the rows at hand with [`Placeholders`].

use async_trait::async_trait;
use quanyu_domain::{
    Money,
    flash::{Buyer, BuyerBuf, HoldStatus},
    ids::{CustomerId, OrderId, SkuId, StoreId},
    inventory::StockLevels,
    time::Timestamp,
};
use sqlx::{AssertSqlSafe, Row as _};
use uuid::Uuid;

use super::{super::SqlTx, Param, Placeholders, inventory::levels, rows::Row};
use crate::{FlashJournalAppend, FlashReservation, FlashSale, FlashSaleRepo, StoreError, StoreResult};

fn sale(row: &Row) -> StoreResult<FlashSale> {
    Ok(FlashSale {
        id: row.try_get("id")?,
        store_id: StoreId::from_uuid(row.try_get("store_id")?),
        sku_id: SkuId::from_uuid(row.try_get("sku_id")?),
        price: Money::from_fen(row.try_get("price")?),
        quota: row.try_get("quota")?,
        sold: row.try_get("sold")?,
        per_customer_limit: row.try_get("per_customer_limit")?,
        hold_minutes: row.try_get("hold_minutes")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        created_at: row.try_get("created_at")?,
        journal_seq: row.try_get("journal_seq")?,
    })
}

/// The two columns a buyer is kept in: `member_id` (the nil UUID for a buyer named otherwise)
/// and `buyer` (that name; '' for a member), so that keys over them stay NOT NULL.
fn buyer_columns(buyer: Buyer<'_>) -> (Uuid, &str) {
    match buyer {
        Buyer::Member(member) => (member.as_uuid(), ""),
        Buyer::Named(name) => (Uuid::nil(), name),
    }
}

/// The buyer of a row ([`buyer_columns`]'s inverse).
fn buyer(row: &Row) -> StoreResult<BuyerBuf> {
    let member: Uuid = row.try_get("member_id")?;
    Ok(if member.is_nil() {
        BuyerBuf::Named(row.try_get("buyer")?)
    } else {
        BuyerBuf::Member(CustomerId::from_uuid(member))
    })
}

fn reservation(row: &Row) -> StoreResult<FlashReservation> {
    let status: String = row.try_get("status")?;
    let order_id: Option<Uuid> = row.try_get("order_id")?;
    Ok(FlashReservation {
        id: row.try_get("id")?,
        sale_id: row.try_get("sale_id")?,
        buyer: buyer(row)?,
        quantity: row.try_get("quantity")?,
        idempotency_key: row.try_get("idem_key")?,
        at: row.try_get("at")?,
        status: HoldStatus::parse(&status).map_err(|e| StoreError::Corrupt(format!("status: {e}")))?,
        expires_at: row.try_get("expires_at")?,
        order_id: order_id.map(OrderId::from_uuid),
    })
}

/// The parameters of `FLASH_BATCH` (each backend's, in its root module), `$1` to `$20`: the
/// journal record, then the stock entry.
pub(crate) fn batch_params<'a>(sale_id: Uuid, after: i64, entry: &FlashJournalAppend<'a>) -> [Param<'a>; 20] {
    let stock = entry.stock;
    let d = stock.deltas;
    [
        Param::Uuid(Some(sale_id)),
        Param::Int(after),
        Param::Int(entry.units),
        Param::Int(entry.reservations),
        Param::Bytes(entry.payload),
        Param::At(entry.at),
        Param::Uuid(Some(stock.store_id.as_uuid())),
        Param::Uuid(Some(stock.sku_id.as_uuid())),
        Param::Int(d.on_hand),
        Param::Int(d.reserved),
        Param::Int(d.committed),
        Param::Int(d.unavailable),
        Param::Int(d.in_transit),
        Param::Uuid(Some(stock.id.as_uuid())),
        Param::Text(Some(&stock.change)),
        Param::Text(stock.reason.as_deref()),
        Param::Text(stock.reference.as_deref()),
        Param::Text(Some(&stock.idempotency_key)),
        Param::Uuid(stock.actor_id.map(|a| a.as_uuid())),
        Param::At(stock.at),
    ]
}

/// `sql` (`FLASH_BATCH`, alone or in a transaction) with [`batch_params`] bound for sqlx.
pub(crate) fn bind_batch<'q>(
    sql: &'static str,
    sale_id: Uuid,
    after: i64,
    entry: &FlashJournalAppend<'q>,
) -> sqlx::query::Query<'q, super::super::Db, <super::super::Db as sqlx::Database>::Arguments> {
    batch_params(sale_id, after, entry).into_iter().fold(sqlx::query(sql), super::bind_param)
}

/// Whether `FLASH_BATCH` appended: its last row's `appended` is 1.
pub(crate) fn appended(rows: Vec<Row>) -> StoreResult<bool> {
    match rows.last() {
        Some(row) => Ok(row.try_get::<i64, _>("appended")? == 1),
        None => Err(StoreError::Corrupt("the flash-sale append answered nothing".into())),
    }
}

/// Rows per multi-row statement: 9 parameters a row stays far below both backends' limits.
const ROWS_PER_STATEMENT: usize = 500;
/// The parameters of one reservation in a multi-row insert.
const RESERVATION_COLUMNS: usize = 9;

#[async_trait]
impl FlashSaleRepo for SqlTx {
    async fn insert_flash_sale(&mut self, s: &FlashSale) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO flash_sales (id, store_id, sku_id, price, quota, sold, per_customer_limit, starts_at, ends_at, \
             created_at, hold_minutes) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(s.id)
        .bind(s.store_id.as_uuid())
        .bind(s.sku_id.as_uuid())
        .bind(s.price.fen())
        .bind(s.quota)
        .bind(s.sold)
        .bind(s.per_customer_limit)
        .bind(s.starts_at)
        .bind(s.ends_at)
        .bind(s.created_at)
        .bind(s.hold_minutes)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn get_flash_sale(&mut self, id: Uuid) -> StoreResult<Option<FlashSale>> {
        let row = sqlx::query("SELECT * FROM flash_sales WHERE id = $1").bind(id).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(sale).transpose()
    }

    async fn get_flash_sale_with_stock(&mut self, id: Uuid) -> StoreResult<Option<(FlashSale, Option<StockLevels>)>> {
        let row = sqlx::query(
            "SELECT f.*, s.on_hand AS stock_on_hand, s.reserved AS stock_reserved, s.committed AS stock_committed, \
             s.unavailable AS stock_unavailable, s.in_transit AS stock_in_transit \
             FROM flash_sales f LEFT JOIN stock_levels s ON s.store_id = f.store_id AND s.sku_id = f.sku_id \
             WHERE f.id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self.tx)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let stock = match row.try_get::<Option<i64>, _>("stock_on_hand")? {
            Some(_) => Some(levels(&row, "stock_")?),
            None => None,
        };
        Ok(Some((sale(&row)?, stock)))
    }

    async fn current_flash_sales(
        &mut self,
        store_id: StoreId,
        at: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<FlashSale>> {
        let found = sqlx::query(
            "SELECT * FROM flash_sales WHERE store_id = $1 AND ends_at > $2 ORDER BY starts_at, id LIMIT $3",
        )
        .bind(store_id.as_uuid())
        .bind(at)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        found.iter().map(sale).collect()
    }

    // No index: the table holds one row per sale, and this runs once per sweep, not per buyer.
    async fn flash_sales_starting_by(&mut self, at: Timestamp, until: Timestamp, limit: u32) -> StoreResult<Vec<Uuid>> {
        let rows = sqlx::query(
            "SELECT id FROM flash_sales WHERE ends_at > $1 AND starts_at <= $2 ORDER BY starts_at, id LIMIT $3",
        )
        .bind(at)
        .bind(until)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|row| Ok(row.try_get("id")?)).collect()
    }

    async fn release_buyer_quota(&mut self, sale_id: Uuid, buyer: Buyer<'_>, quantity: i64) -> StoreResult<()> {
        let (member, name) = buyer_columns(buyer);
        sqlx::query(
            "UPDATE flash_sale_buyers SET quantity = quantity - $4 WHERE sale_id = $1 AND member_id = $2 AND buyer = $3",
        )
        .bind(sale_id)
        .bind(member)
        .bind(name)
        .bind(quantity)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn release_sale_quota(&mut self, sale_id: Uuid, quantity: i64) -> StoreResult<()> {
        sqlx::query("UPDATE flash_sales SET sold = sold - $2 WHERE id = $1")
            .bind(sale_id)
            .bind(quantity)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn append_flash_batch(
        &mut self,
        sale_id: Uuid,
        after: i64,
        entry: &FlashJournalAppend<'_>,
    ) -> StoreResult<bool> {
        appended(bind_batch(super::super::FLASH_BATCH, sale_id, after, entry).fetch_all(&mut *self.tx).await?)
    }

    async fn flash_journal_since(&mut self, sale_id: Uuid, after: i64, limit: u32) -> StoreResult<Vec<(i64, Vec<u8>)>> {
        let rows = sqlx::query(
            "SELECT seq, payload FROM flash_sale_journal WHERE sale_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(sale_id)
        .bind(after)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|row| Ok((row.try_get("seq")?, row.try_get("payload")?))).collect()
    }

    async fn flash_journal_seq_at(&mut self, sale_id: Uuid, at: Timestamp) -> StoreResult<i64> {
        let row =
            sqlx::query("SELECT COALESCE(MAX(seq), 0) AS seq FROM flash_sale_journal WHERE sale_id = $1 AND at <= $2")
                .bind(sale_id)
                .bind(at)
                .fetch_one(&mut *self.tx)
                .await?;
        Ok(row.try_get("seq")?)
    }

    async fn flash_materialized_seq(&mut self, sale_id: Uuid) -> StoreResult<i64> {
        let row = sqlx::query("SELECT seq FROM flash_sale_materialized WHERE sale_id = $1")
            .bind(sale_id)
            .fetch_optional(&mut *self.tx)
            .await?;
        Ok(row.map(|r| r.try_get("seq")).transpose()?.unwrap_or(0))
    }

    async fn mark_flash_materialized(&mut self, sale_id: Uuid, from: i64, to: i64) -> StoreResult<bool> {
        // The row appears with the first mark, so "from 0" may also mean "no row yet".
        let moved = sqlx::query(
            "INSERT INTO flash_sale_materialized (sale_id, seq) VALUES ($1, $3) \
             ON CONFLICT (sale_id) DO UPDATE SET seq = excluded.seq WHERE flash_sale_materialized.seq = $2 \
             RETURNING seq",
        )
        .bind(sale_id)
        .bind(from)
        .bind(to)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(moved.is_some())
    }

    async fn flash_sales_to_materialize(&mut self) -> StoreResult<Vec<Uuid>> {
        let rows = sqlx::query(
            "SELECT f.id FROM flash_sales f LEFT JOIN flash_sale_materialized m ON m.sale_id = f.id \
             WHERE f.journal_seq > COALESCE(m.seq, 0) ORDER BY f.id",
        )
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|row| Ok(row.try_get("id")?)).collect()
    }

    async fn add_flash_buyers(&mut self, sale_id: Uuid, counts: &[(BuyerBuf, i64)]) -> StoreResult<()> {
        for chunk in counts.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let rows = params.rows(chunk.len(), 4);
            let sql = format!(
                "INSERT INTO flash_sale_buyers (sale_id, member_id, buyer, quantity) VALUES {} \
                 ON CONFLICT (sale_id, member_id, buyer) \
                 DO UPDATE SET quantity = flash_sale_buyers.quantity + excluded.quantity",
                rows
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (buyer, quantity) in chunk {
                let (member, name) = buyer_columns(buyer.as_buyer());
                query = query.bind(sale_id).bind(member).bind(name).bind(*quantity);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn flash_sale_reservations(&mut self, sale_id: Uuid) -> StoreResult<Vec<FlashReservation>> {
        let rows = sqlx::query("SELECT * FROM flash_sale_reservations WHERE sale_id = $1")
            .bind(sale_id)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(reservation).collect()
    }

    async fn flash_released_units(&mut self, sale_id: Uuid, buyers: &[Buyer<'_>]) -> StoreResult<Vec<(BuyerBuf, i64)>> {
        let mut found = Vec::new();
        for chunk in buyers.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let sale = params.one();
            // SQLite takes a row value's IN list only as a subquery.
            let sql = format!(
                "SELECT member_id, buyer, CAST(SUM(quantity) AS BIGINT) AS released FROM flash_sale_releases \
                 WHERE sale_id = {sale} AND (member_id, buyer) IN (VALUES {}) GROUP BY member_id, buyer",
                params.rows(chunk.len(), 2)
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(sale_id);
            for &each in chunk {
                let (member, name) = buyer_columns(each);
                query = query.bind(member).bind(name);
            }
            for row in query.fetch_all(&mut *self.tx).await? {
                found.push((buyer(&row)?, row.try_get("released")?));
            }
        }
        Ok(found)
    }

    async fn insert_flash_release(&mut self, r: &FlashReservation) -> StoreResult<()> {
        let (member, name) = buyer_columns(r.buyer.as_buyer());
        sqlx::query(
            "INSERT INTO flash_sale_releases (reservation_id, sale_id, member_id, buyer, quantity) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(r.id)
        .bind(r.sale_id)
        .bind(member)
        .bind(name)
        .bind(r.quantity)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn insert_flash_reservations(&mut self, reservations: &[FlashReservation]) -> StoreResult<()> {
        for chunk in reservations.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let rows = params.rows(chunk.len(), RESERVATION_COLUMNS);
            let sql = format!(
                "INSERT INTO flash_sale_reservations \
                 (id, sale_id, member_id, buyer, quantity, idem_key, at, status, expires_at) VALUES {}",
                rows
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                let (member, name) = buyer_columns(r.buyer.as_buyer());
                query = query
                    .bind(r.id)
                    .bind(r.sale_id)
                    .bind(member)
                    .bind(name)
                    .bind(r.quantity)
                    .bind(&r.idempotency_key)
                    .bind(r.at)
                    .bind(r.status.as_str())
                    .bind(r.expires_at);
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn flash_sale_buyers(&mut self, sale_id: Uuid) -> StoreResult<Vec<(BuyerBuf, i64)>> {
        let rows = sqlx::query(
            "SELECT member_id, buyer, quantity FROM flash_sale_buyers WHERE sale_id = $1 ORDER BY member_id, buyer",
        )
        .bind(sale_id)
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|row| Ok((buyer(row)?, row.try_get("quantity")?))).collect()
    }

    async fn flash_units_ordered_by_person(&mut self, sale_id: Uuid, member: CustomerId) -> StoreResult<i64> {
        // The person's ids: the member, then whoever a merge in force absorbed into one of them
        // (`customer_merges_survivor` serves each step); their ordered reservations by the
        // prefix (sale_id, member_id) of the reservations' unique key.
        let row = sqlx::query(
            "WITH RECURSIVE person (id) AS (SELECT $2 \
             UNION SELECT m.absorbed_id FROM customer_merges m JOIN person p ON m.survivor_id = p.id \
             WHERE m.undone_at IS NULL) \
             SELECT CAST(COALESCE(SUM(r.quantity), 0) AS BIGINT) AS units FROM flash_sale_reservations r \
             JOIN person p ON r.member_id = p.id WHERE r.sale_id = $1 AND r.buyer = '' AND r.status = 'ordered'",
        )
        .bind(sale_id)
        .bind(member.as_uuid())
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(row.try_get("units")?)
    }

    async fn get_flash_reservation(&mut self, id: Uuid) -> StoreResult<Option<FlashReservation>> {
        let row = sqlx::query("SELECT * FROM flash_sale_reservations WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(reservation).transpose()
    }

    async fn flash_reservation_of_order(&mut self, order_id: OrderId) -> StoreResult<Option<FlashReservation>> {
        let row = sqlx::query("SELECT * FROM flash_sale_reservations WHERE order_id = $1")
            .bind(order_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(reservation).transpose()
    }

    async fn set_flash_reservation_status(
        &mut self,
        id: Uuid,
        from: HoldStatus,
        to: HoldStatus,
        order_id: Option<OrderId>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE flash_sale_reservations SET status = $3, order_id = COALESCE($4, order_id) \
             WHERE id = $1 AND status = $2",
        )
        .bind(id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(order_id.map(|o| o.as_uuid()))
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn expired_flash_reservations(&mut self, now: Timestamp, limit: u32) -> StoreResult<Vec<FlashReservation>> {
        let rows = sqlx::query(
            "SELECT * FROM flash_sale_reservations WHERE status = 'held' AND expires_at <= $1 \
             ORDER BY expires_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(reservation).collect()
    }
}
