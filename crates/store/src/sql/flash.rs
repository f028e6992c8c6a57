//! Flash sales: offers, per-buyer and per-sale quota claims as guarded updates, reservations.
//! The batch statements are built for the number of rows at hand with [`Placeholders`].

use async_trait::async_trait;
use quanyu_domain::{
    Money,
    flash::HoldStatus,
    ids::{OrderId, SkuId, StoreId},
    time::Timestamp,
};
use sqlx::{AssertSqlSafe, Row as _};
use uuid::Uuid;

use super::{super::SqlTx, Placeholders, rows::Row};
use crate::{FlashReservation, FlashSale, FlashSaleRepo, StoreError, StoreResult};

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
    })
}

fn reservation(row: &Row) -> StoreResult<FlashReservation> {
    let status: String = row.try_get("status")?;
    let order_id: Option<Uuid> = row.try_get("order_id")?;
    Ok(FlashReservation {
        id: row.try_get("id")?,
        sale_id: row.try_get("sale_id")?,
        buyer: row.try_get("buyer")?,
        quantity: row.try_get("quantity")?,
        idempotency_key: row.try_get("idem_key")?,
        at: row.try_get("at")?,
        status: HoldStatus::parse(&status).map_err(|e| StoreError::Corrupt(format!("status: {e}")))?,
        expires_at: row.try_get("expires_at")?,
        order_id: order_id.map(OrderId::from_uuid),
    })
}

/// Rows per multi-row statement: 8 parameters a row stays far below both backends' limits.
const ROWS_PER_STATEMENT: usize = 500;
/// The parameters of one reservation in a multi-row insert.
const RESERVATION_COLUMNS: usize = 8;

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

    async fn claim_buyer_quota(&mut self, sale_id: Uuid, buyer: &str, quantity: i64, limit: i64) -> StoreResult<bool> {
        if quantity > limit {
            return Ok(false);
        }
        let claimed = sqlx::query(
            "INSERT INTO flash_sale_buyers (sale_id, buyer, quantity) VALUES ($1, $2, $3) \
             ON CONFLICT (sale_id, buyer) DO UPDATE SET quantity = flash_sale_buyers.quantity + excluded.quantity \
             WHERE flash_sale_buyers.quantity + excluded.quantity <= $4 RETURNING quantity",
        )
        .bind(sale_id)
        .bind(buyer)
        .bind(quantity)
        .bind(limit)
        .fetch_optional(&mut *self.tx)
        .await?;
        Ok(claimed.is_some())
    }

    async fn release_buyer_quota(&mut self, sale_id: Uuid, buyer: &str, quantity: i64) -> StoreResult<()> {
        sqlx::query("UPDATE flash_sale_buyers SET quantity = quantity - $3 WHERE sale_id = $1 AND buyer = $2")
            .bind(sale_id)
            .bind(buyer)
            .bind(quantity)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn claim_sale_quota(&mut self, sale_id: Uuid, quantity: i64) -> StoreResult<bool> {
        let claimed =
            sqlx::query("UPDATE flash_sales SET sold = sold + $2 WHERE id = $1 AND sold + $2 <= quota RETURNING sold")
                .bind(sale_id)
                .bind(quantity)
                .fetch_optional(&mut *self.tx)
                .await?;
        Ok(claimed.is_some())
    }

    async fn release_sale_quota(&mut self, sale_id: Uuid, quantity: i64) -> StoreResult<()> {
        sqlx::query("UPDATE flash_sales SET sold = sold - $2 WHERE id = $1")
            .bind(sale_id)
            .bind(quantity)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn insert_flash_reservation(&mut self, r: &FlashReservation) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO flash_sale_reservations (id, sale_id, buyer, quantity, idem_key, at, status, expires_at, \
             order_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(r.id)
        .bind(r.sale_id)
        .bind(&r.buyer)
        .bind(r.quantity)
        .bind(&r.idempotency_key)
        .bind(r.at)
        .bind(r.status.as_str())
        .bind(r.expires_at)
        .bind(r.order_id.map(|o| o.as_uuid()))
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn flash_reservation_by_key(&mut self, key: &str) -> StoreResult<Option<FlashReservation>> {
        let row = sqlx::query("SELECT * FROM flash_sale_reservations WHERE idem_key = $1")
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(reservation).transpose()
    }

    async fn flash_reservations_by_keys(&mut self, keys: &[String]) -> StoreResult<Vec<FlashReservation>> {
        let mut found = Vec::new();
        for chunk in keys.chunks(ROWS_PER_STATEMENT) {
            let sql = format!(
                "SELECT * FROM flash_sale_reservations WHERE idem_key IN ({})",
                Placeholders::new().list(chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for key in chunk {
                query = query.bind(key);
            }
            for row in query.fetch_all(&mut *self.tx).await? {
                found.push(reservation(&row)?);
            }
        }
        Ok(found)
    }

    async fn claim_buyers(&mut self, sale_id: Uuid, claims: &[(String, i64)], limit: i64) -> StoreResult<Vec<String>> {
        let mut claimed = Vec::new();
        for chunk in claims.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let rows: Vec<String> = chunk.iter().map(|_| format!("({})", params.list(3))).collect();
            let sql = format!(
                "INSERT INTO flash_sale_buyers (sale_id, buyer, quantity) VALUES {} \
                 ON CONFLICT (sale_id, buyer) DO UPDATE SET quantity = flash_sale_buyers.quantity + excluded.quantity \
                 WHERE flash_sale_buyers.quantity + excluded.quantity <= {} RETURNING buyer",
                rows.join(", "),
                params.one()
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for (buyer, quantity) in chunk {
                query = query.bind(sale_id).bind(buyer).bind(*quantity);
            }
            for row in query.bind(limit).fetch_all(&mut *self.tx).await? {
                claimed.push(row.try_get("buyer")?);
            }
        }
        Ok(claimed)
    }

    async fn insert_flash_reservations(&mut self, reservations: &[FlashReservation]) -> StoreResult<()> {
        for chunk in reservations.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let rows: Vec<String> = chunk.iter().map(|_| format!("({})", params.list(RESERVATION_COLUMNS))).collect();
            let sql = format!(
                "INSERT INTO flash_sale_reservations (id, sale_id, buyer, quantity, idem_key, at, status, expires_at) \
                 VALUES {}",
                rows.join(", ")
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for r in chunk {
                query = query
                    .bind(r.id)
                    .bind(r.sale_id)
                    .bind(&r.buyer)
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

    async fn flash_sale_buyers(&mut self, sale_id: Uuid) -> StoreResult<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT buyer, quantity FROM flash_sale_buyers WHERE sale_id = $1 ORDER BY buyer")
            .bind(sale_id)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(|row| Ok((row.try_get("buyer")?, row.try_get("quantity")?))).collect()
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
