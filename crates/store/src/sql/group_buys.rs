//! Group buys: offers, groups (the seat count as a guarded counter) and their member orders.

use async_trait::async_trait;
use quanyu_domain::{
    Money,
    group_buy::{GroupBuy, GroupBuyOffer, GroupStatus},
    ids::{CustomerId, OrderId, SkuId, StaffId, StoreId},
    time::Timestamp,
};
use sqlx::Row as _;
use uuid::Uuid;

use super::{super::SqlTx, rows::Row};
use crate::{GroupBuyRepo, StoreError, StoreResult};

fn offer(row: &Row) -> StoreResult<GroupBuyOffer> {
    Ok(GroupBuyOffer {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        store_id: StoreId::from_uuid(row.try_get("store_id")?),
        sku_id: SkuId::from_uuid(row.try_get("sku_id")?),
        group_price: Money::from_fen(row.try_get("group_price")?),
        group_size: row.try_get("group_size")?,
        window_minutes: row.try_get("window_minutes")?,
        starts_at: row.try_get("starts_at")?,
        ends_at: row.try_get("ends_at")?,
        created_by: row.try_get::<Option<Uuid>, _>("created_by")?.map(StaffId::from_uuid),
        created_at: row.try_get("created_at")?,
    })
}

fn group(row: &Row) -> StoreResult<GroupBuy> {
    let status: String = row.try_get("status")?;
    Ok(GroupBuy {
        id: row.try_get("id")?,
        offer_id: row.try_get("offer_id")?,
        size: row.try_get("size")?,
        seats: row.try_get("seats")?,
        status: GroupStatus::parse(&status).map_err(|e| StoreError::Corrupt(format!("status: {e}")))?,
        opened_at: row.try_get("opened_at")?,
        expires_at: row.try_get("expires_at")?,
        formed_at: row.try_get("formed_at")?,
    })
}

#[async_trait]
impl GroupBuyRepo for SqlTx {
    async fn insert_group_offer(&mut self, o: &GroupBuyOffer) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO group_buy_offers (id, name, store_id, sku_id, group_price, group_size, window_minutes, \
             starts_at, ends_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(o.id)
        .bind(&o.name)
        .bind(o.store_id.as_uuid())
        .bind(o.sku_id.as_uuid())
        .bind(o.group_price.fen())
        .bind(o.group_size)
        .bind(o.window_minutes)
        .bind(o.starts_at)
        .bind(o.ends_at)
        .bind(o.created_by.map(|s| s.as_uuid()))
        .bind(o.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn get_group_offer(&mut self, id: Uuid) -> StoreResult<Option<GroupBuyOffer>> {
        let row =
            sqlx::query("SELECT * FROM group_buy_offers WHERE id = $1").bind(id).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(offer).transpose()
    }

    async fn insert_group(&mut self, g: &GroupBuy) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO group_buys (id, offer_id, size, seats, status, opened_at, expires_at, formed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(g.id)
        .bind(g.offer_id)
        .bind(g.size)
        .bind(g.seats)
        .bind(g.status.as_str())
        .bind(g.opened_at)
        .bind(g.expires_at)
        .bind(g.formed_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn get_group(&mut self, id: Uuid) -> StoreResult<Option<GroupBuy>> {
        let row = sqlx::query("SELECT * FROM group_buys WHERE id = $1").bind(id).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(group).transpose()
    }

    async fn take_seat(&mut self, group_id: Uuid, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE group_buys SET seats = seats + 1 WHERE id = $1 AND status = 'open' AND seats < size \
             AND expires_at > $2",
        )
        .bind(group_id)
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn give_seat(&mut self, group_id: Uuid) -> StoreResult<()> {
        sqlx::query("UPDATE group_buys SET seats = seats - 1 WHERE id = $1 AND status = 'open' AND seats > 0")
            .bind(group_id)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn insert_group_member(
        &mut self,
        group_id: Uuid,
        order_id: OrderId,
        customer_id: CustomerId,
        at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO group_buy_members (order_id, group_id, customer_id, at) VALUES ($1, $2, $3, $4)")
            .bind(order_id.as_uuid())
            .bind(group_id)
            .bind(customer_id.as_uuid())
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn delete_group_member(&mut self, order_id: OrderId) -> StoreResult<()> {
        sqlx::query("DELETE FROM group_buy_members WHERE order_id = $1")
            .bind(order_id.as_uuid())
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn group_of_order(&mut self, order_id: OrderId) -> StoreResult<Option<GroupBuy>> {
        let row = sqlx::query(
            "SELECT g.* FROM group_buys g JOIN group_buy_members m ON m.group_id = g.id WHERE m.order_id = $1",
        )
        .bind(order_id.as_uuid())
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(group).transpose()
    }

    async fn group_orders(&mut self, group_id: Uuid) -> StoreResult<Vec<OrderId>> {
        let rows = sqlx::query("SELECT order_id FROM group_buy_members WHERE group_id = $1 ORDER BY at, order_id")
            .bind(group_id)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter().map(|r| Ok(OrderId::from_uuid(r.try_get("order_id")?))).collect()
    }

    async fn paid_group_orders(&mut self, group_id: Uuid) -> StoreResult<i64> {
        let row = sqlx::query(
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM group_buy_members m JOIN orders o ON o.id = m.order_id \
             WHERE m.group_id = $1 AND o.paid > 0 AND o.status <> 'cancelled'",
        )
        .bind(group_id)
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(row.try_get("n")?)
    }

    async fn set_group_status(
        &mut self,
        id: Uuid,
        from: GroupStatus,
        to: GroupStatus,
        at: Timestamp,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE group_buys SET status = $2, formed_at = CASE WHEN $2 = 'formed' THEN $3 ELSE formed_at END \
             WHERE id = $1 AND status = $4",
        )
        .bind(id)
        .bind(to.as_str())
        .bind(at)
        .bind(from.as_str())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn expired_groups(&mut self, now: Timestamp, limit: u32) -> StoreResult<Vec<Uuid>> {
        let rows = sqlx::query(
            "SELECT id FROM group_buys WHERE status = 'open' AND expires_at <= $1 ORDER BY expires_at LIMIT $2",
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(|r| Ok(r.try_get("id")?)).collect()
    }
}
