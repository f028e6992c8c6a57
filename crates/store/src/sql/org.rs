//! The chain's settings, regions and stores.

use async_trait::async_trait;
use quanyu_domain::{
    ids::{RegionId, StoreId},
    org::{Chain, Region, Store},
    time::TimeZone,
};

use super::{super::SqlTx, Keyset, bind_sort_value, keyset, like_pattern, rows};
use crate::{ChainRepo, Page, RegionRepo, StoreError, StoreFilter, StoreRepo, StoreResult};

#[async_trait]
impl ChainRepo for SqlTx {
    async fn get_chain(&mut self) -> StoreResult<Option<Chain>> {
        let row = sqlx::query("SELECT name, time_zone, updated_at FROM chain WHERE id = 1")
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        use sqlx::Row as _;
        let zone: String = row.try_get("time_zone")?;
        Ok(Some(Chain {
            name: row.try_get("name")?,
            time_zone: TimeZone::parse(&zone).map_err(|e| StoreError::Corrupt(format!("time_zone: {e}")))?,
            updated_at: row.try_get("updated_at")?,
        }))
    }

    async fn put_chain(&mut self, chain: &Chain) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO chain (id, name, time_zone, updated_at) VALUES (1, $1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET name = excluded.name, time_zone = excluded.time_zone, \
             updated_at = excluded.updated_at",
        )
        .bind(&chain.name)
        .bind(chain.time_zone.name())
        .bind(chain.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }
}

#[async_trait]
impl RegionRepo for SqlTx {
    async fn insert_region(&mut self, region: &Region) -> StoreResult<()> {
        sqlx::query("INSERT INTO regions (id, code, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(region.id.as_uuid())
            .bind(&region.code)
            .bind(&region.name)
            .bind(region.created_at)
            .bind(region.updated_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn update_region(&mut self, region: &Region) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE regions SET code = $2, name = $3, updated_at = $4 WHERE id = $1")
            .bind(region.id.as_uuid())
            .bind(&region.code)
            .bind(&region.name)
            .bind(region.updated_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_region(&mut self, id: RegionId) -> StoreResult<Option<Region>> {
        let row =
            sqlx::query("SELECT * FROM regions WHERE id = $1").bind(id.as_uuid()).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(rows::region).transpose()
    }

    async fn list_regions(&mut self, only: Option<RegionId>, page: Page) -> StoreResult<Vec<Region>> {
        let found = sqlx::query(
            "SELECT * FROM regions WHERE ($1 IS NULL OR id = $1) AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
        )
        .bind(only.map(|r| r.as_uuid()))
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        found.iter().map(rows::region).collect()
    }
}

#[async_trait]
impl StoreRepo for SqlTx {
    async fn insert_store(&mut self, store: &Store) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO stores (id, region_id, code, name, address, lat, lng, opening_hours, time_zone, area_m2, \
             delivery_radius_m, phone, status, created_at, updated_at, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(store.id.as_uuid())
        .bind(store.region_id.as_uuid())
        .bind(&store.code)
        .bind(&store.name)
        .bind(&store.address)
        .bind(store.location.lat())
        .bind(store.location.lng())
        .bind(store.opening_hours.to_string())
        .bind(store.time_zone.name())
        .bind(i64::from(store.area_m2))
        .bind(i64::from(store.delivery_radius_m))
        .bind(&store.phone)
        .bind(store.status.as_str())
        .bind(store.created_at)
        .bind(store.updated_at)
        .bind(store.kind.as_str())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_store(&mut self, store: &Store) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE stores SET region_id = $2, code = $3, name = $4, address = $5, lat = $6, lng = $7, \
             opening_hours = $8, time_zone = $9, area_m2 = $10, delivery_radius_m = $11, phone = $12, status = $13, \
             updated_at = $14, kind = $15 WHERE id = $1",
        )
        .bind(store.id.as_uuid())
        .bind(store.region_id.as_uuid())
        .bind(&store.code)
        .bind(&store.name)
        .bind(&store.address)
        .bind(store.location.lat())
        .bind(store.location.lng())
        .bind(store.opening_hours.to_string())
        .bind(store.time_zone.name())
        .bind(i64::from(store.area_m2))
        .bind(i64::from(store.delivery_radius_m))
        .bind(&store.phone)
        .bind(store.status.as_str())
        .bind(store.updated_at)
        .bind(store.kind.as_str())
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_store(&mut self, id: StoreId) -> StoreResult<Option<Store>> {
        let row =
            sqlx::query("SELECT * FROM stores WHERE id = $1").bind(id.as_uuid()).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(rows::store).transpose()
    }

    async fn get_store_by_code(&mut self, code: &str) -> StoreResult<Option<Store>> {
        let row = sqlx::query("SELECT * FROM stores WHERE code = $1").bind(code).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(rows::store).transpose()
    }

    async fn list_stores(&mut self, filter: &StoreFilter, page: Page) -> StoreResult<Vec<Store>> {
        let Keyset { condition, order } = keyset(&filter.sort, "id", "$5", "$8");
        let sql = format!(
            "SELECT * FROM stores WHERE ($1 IS NULL OR region_id = $1) AND ($2 IS NULL OR id = $2) \
             AND ($3 IS NULL OR status = $3) \
             AND ($4 IS NULL OR LOWER(code) LIKE $4 ESCAPE '\\' OR LOWER(name) LIKE $4 ESCAPE '\\') \
             AND {condition} AND ($7 IS NULL OR kind = $7) ORDER BY {order} LIMIT $6"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.place.region_id.map(|r| r.as_uuid()))
            .bind(filter.place.store_id.map(|s| s.as_uuid()))
            .bind(filter.status.as_deref())
            .bind(like_pattern(filter.search.as_deref()))
            .bind(page.after)
            .bind(page.sql_limit())
            .bind(filter.kind.map(|k| k.as_str()));
        let found = bind_sort_value(query, &filter.sort).fetch_all(&mut *self.tx).await?;
        found.iter().map(rows::store).collect()
    }
}

super::sort_columns!(crate::StoreSort { Code => ("code", true), Name => ("name", true), Area => ("area_m2", false) });
