//! Sales aggregates for the reports: paid orders (paid and not cancelled) and their lines,
//! net of refunds, within a place and a time window.

use async_trait::async_trait;
use quanyu_domain::{
    ids::{SkuId, StoreId},
    time::Timestamp,
};
use sqlx::Row as _;

use super::super::SqlTx;
use crate::{ChannelSales, PlaceFilter, ReportRepo, SkuSales, StoreResult, StoreSales};

/// The orders counted: paid, not cancelled, in the place (`$1` store, `$2` region) and created
/// in `[$3, $4)`.
const PAID_IN_PLACE: &str = "o.paid > 0 AND o.status <> 'cancelled' \
     AND ($1 IS NULL OR o.store_id = $1) \
     AND ($2 IS NULL OR o.store_id IN (SELECT id FROM stores WHERE region_id = $2)) \
     AND o.created_at >= $3 AND o.created_at < $4";

#[async_trait]
impl ReportRepo for SqlTx {
    async fn sales_by_channel(
        &mut self,
        place: &PlaceFilter,
        from: Timestamp,
        to: Timestamp,
    ) -> StoreResult<Vec<ChannelSales>> {
        let sql = format!(
            "SELECT o.channel, CAST(COUNT(*) AS BIGINT) AS orders, \
             CAST(COALESCE(SUM(o.paid - o.refunded), 0) AS BIGINT) AS net, \
             CAST(COALESCE(SUM(CASE WHEN o.customer_id IS NULL THEN 0 ELSE o.paid - o.refunded END), 0) AS BIGINT) \
             AS member_net FROM orders o WHERE {PAID_IN_PLACE} GROUP BY o.channel ORDER BY o.channel"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(place.store_id.map(|s| s.as_uuid()))
            .bind(place.region_id.map(|r| r.as_uuid()))
            .bind(from)
            .bind(to)
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ChannelSales {
                    channel: row.try_get("channel")?,
                    orders: row.try_get("orders")?,
                    net: row.try_get("net")?,
                    member_net: row.try_get("member_net")?,
                })
            })
            .collect()
    }

    async fn top_stores(
        &mut self,
        place: &PlaceFilter,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<StoreSales>> {
        let sql = format!(
            "SELECT o.store_id, s.name AS store_name, CAST(COUNT(*) AS BIGINT) AS orders, \
             CAST(COALESCE(SUM(o.paid - o.refunded), 0) AS BIGINT) AS net \
             FROM orders o JOIN stores s ON s.id = o.store_id WHERE {PAID_IN_PLACE} \
             GROUP BY o.store_id, s.name ORDER BY net DESC, o.store_id LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(place.store_id.map(|s| s.as_uuid()))
            .bind(place.region_id.map(|r| r.as_uuid()))
            .bind(from)
            .bind(to)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(StoreSales {
                    store_id: StoreId::from_uuid(row.try_get("store_id")?),
                    store_name: row.try_get("store_name")?,
                    orders: row.try_get("orders")?,
                    net: row.try_get("net")?,
                })
            })
            .collect()
    }

    async fn top_skus(
        &mut self,
        place: &PlaceFilter,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> StoreResult<Vec<SkuSales>> {
        let sql = format!(
            "SELECT l.sku_id, MAX(l.sku_name) AS sku_name, \
             CAST(COALESCE(SUM(l.quantity - l.refunded_quantity), 0) AS BIGINT) AS quantity, \
             CAST(MAX(CASE WHEN l.sold_by_weight THEN 1 ELSE 0 END) AS BIGINT) AS by_weight, \
             CAST(COALESCE(SUM(l.amount - l.refunded_amount), 0) AS BIGINT) AS net \
             FROM order_lines l JOIN orders o ON o.id = l.order_id WHERE {PAID_IN_PLACE} \
             GROUP BY l.sku_id ORDER BY net DESC, l.sku_id LIMIT $5"
        );
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(place.store_id.map(|s| s.as_uuid()))
            .bind(place.region_id.map(|r| r.as_uuid()))
            .bind(from)
            .bind(to)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        rows.iter()
            .map(|row| {
                Ok(SkuSales {
                    sku_id: SkuId::from_uuid(row.try_get("sku_id")?),
                    sku_name: row.try_get("sku_name")?,
                    quantity: row.try_get("quantity")?,
                    sold_by_weight: row.try_get::<i64, _>("by_weight")? == 1,
                    net: row.try_get("net")?,
                })
            })
            .collect()
    }
}
