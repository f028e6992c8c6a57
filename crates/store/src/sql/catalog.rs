//! Categories, brands, products, SKUs and store settings.

use async_trait::async_trait;
use quanyu_domain::{
    catalog::{Brand, Category, ImageUrl, Product, Sku, StoreSku},
    ids::{BrandId, CategoryId, ProductId, SkuId, StoreId},
};
use sqlx::types::Json;
use uuid::Uuid;

use super::{super::SqlTx, Keyset, bind_sort_value, keyset, like_pattern, rows};
use crate::{CatalogRepo, Page, ProductFilter, SkuFilter, StoreResult};

fn image_urls(images: &[ImageUrl]) -> Json<Vec<&str>> {
    Json(images.iter().map(ImageUrl::as_str).collect())
}

/// Roots share the nil UUID as their parent key, so sibling names are unique at every level.
fn parent_key(category: &Category) -> Uuid {
    category.parent_id.map_or(Uuid::nil(), |p| p.as_uuid())
}

#[async_trait]
impl CatalogRepo for SqlTx {
    async fn insert_category(&mut self, category: &Category) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO categories (id, parent_id, parent_key, name, sort_order, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(category.id.as_uuid())
        .bind(category.parent_id.map(|p| p.as_uuid()))
        .bind(parent_key(category))
        .bind(&category.name)
        .bind(category.sort_order)
        .bind(category.created_at)
        .bind(category.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_category(&mut self, category: &Category) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE categories SET parent_id = $2, parent_key = $3, name = $4, sort_order = $5, updated_at = $6 \
             WHERE id = $1",
        )
        .bind(category.id.as_uuid())
        .bind(category.parent_id.map(|p| p.as_uuid()))
        .bind(parent_key(category))
        .bind(&category.name)
        .bind(category.sort_order)
        .bind(category.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_category(&mut self, id: CategoryId) -> StoreResult<Option<Category>> {
        let row = sqlx::query("SELECT * FROM categories WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(rows::category).transpose()
    }

    async fn all_categories(&mut self) -> StoreResult<Vec<Category>> {
        let found =
            sqlx::query("SELECT * FROM categories ORDER BY sort_order, name, id").fetch_all(&mut *self.tx).await?;
        found.iter().map(rows::category).collect()
    }

    async fn insert_brand(&mut self, brand: &Brand) -> StoreResult<()> {
        sqlx::query("INSERT INTO brands (id, name, logo_url, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(brand.id.as_uuid())
            .bind(&brand.name)
            .bind(brand.logo_url.as_ref().map(|u| u.as_str().to_owned()))
            .bind(brand.created_at)
            .bind(brand.updated_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(())
    }

    async fn update_brand(&mut self, brand: &Brand) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE brands SET name = $2, logo_url = $3, updated_at = $4 WHERE id = $1")
            .bind(brand.id.as_uuid())
            .bind(&brand.name)
            .bind(brand.logo_url.as_ref().map(|u| u.as_str().to_owned()))
            .bind(brand.updated_at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_brand(&mut self, id: BrandId) -> StoreResult<Option<Brand>> {
        let row =
            sqlx::query("SELECT * FROM brands WHERE id = $1").bind(id.as_uuid()).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(rows::brand).transpose()
    }

    async fn list_brands(&mut self, search: Option<&str>, page: Page) -> StoreResult<Vec<Brand>> {
        let found = sqlx::query(
            "SELECT * FROM brands WHERE ($1 IS NULL OR LOWER(name) LIKE $1 ESCAPE '\\') \
             AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3",
        )
        .bind(like_pattern(search))
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        found.iter().map(rows::brand).collect()
    }

    async fn insert_product(&mut self, product: &Product) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO products (id, name, category_id, brand_id, kind, description, images, status, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(product.id.as_uuid())
        .bind(&product.name)
        .bind(product.category_id.as_uuid())
        .bind(product.brand_id.map(|b| b.as_uuid()))
        .bind(product.kind.as_str())
        .bind(&product.description)
        .bind(image_urls(&product.images))
        .bind(product.status.as_str())
        .bind(product.created_at)
        .bind(product.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_product(&mut self, product: &Product) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE products SET name = $2, category_id = $3, brand_id = $4, kind = $5, description = $6, \
             images = $7, status = $8, updated_at = $9 WHERE id = $1",
        )
        .bind(product.id.as_uuid())
        .bind(&product.name)
        .bind(product.category_id.as_uuid())
        .bind(product.brand_id.map(|b| b.as_uuid()))
        .bind(product.kind.as_str())
        .bind(&product.description)
        .bind(image_urls(&product.images))
        .bind(product.status.as_str())
        .bind(product.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_product(&mut self, id: ProductId) -> StoreResult<Option<Product>> {
        let row = sqlx::query("SELECT * FROM products WHERE id = $1")
            .bind(id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(rows::product).transpose()
    }

    async fn list_products(&mut self, filter: &ProductFilter, page: Page) -> StoreResult<Vec<Product>> {
        let found = sqlx::query(
            "SELECT * FROM products WHERE ($1 IS NULL OR category_id IN (WITH RECURSIVE below (id) AS \
             (SELECT id FROM categories WHERE id = $1 UNION ALL \
              SELECT c.id FROM categories c JOIN below ON c.parent_id = below.id) SELECT id FROM below)) \
             AND ($2 IS NULL OR brand_id = $2) \
             AND ($3 IS NULL OR LOWER(name) LIKE $3 ESCAPE '\\') AND ($4 IS NULL OR id > $4) ORDER BY id LIMIT $5",
        )
        .bind(filter.category_id.map(|c| c.as_uuid()))
        .bind(filter.brand_id.map(|b| b.as_uuid()))
        .bind(like_pattern(filter.search.as_deref()))
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        found.iter().map(rows::product).collect()
    }

    async fn insert_sku(&mut self, sku: &Sku) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO skus (id, product_id, code, barcode, name, unit, sold_by_weight, attributes, images, \
             base_price, store_price, online_price, member_price, cost_price, online_only, status, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)",
        )
        .bind(sku.id.as_uuid())
        .bind(sku.product_id.as_uuid())
        .bind(&sku.code)
        .bind(sku.barcode.as_ref().map(|b| b.as_str().to_owned()))
        .bind(&sku.name)
        .bind(&sku.unit)
        .bind(sku.sold_by_weight)
        .bind(Json(&sku.attributes))
        .bind(image_urls(&sku.images))
        .bind(sku.prices.base.fen())
        .bind(sku.prices.store.map(|m| m.fen()))
        .bind(sku.prices.online.map(|m| m.fen()))
        .bind(sku.prices.member.map(|m| m.fen()))
        .bind(sku.prices.cost.map(|m| m.fen()))
        .bind(sku.online_only)
        .bind(sku.status.as_str())
        .bind(sku.created_at)
        .bind(sku.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_sku(&mut self, sku: &Sku) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE skus SET code = $2, barcode = $3, name = $4, unit = $5, sold_by_weight = $6, attributes = $7, \
             images = $8, base_price = $9, store_price = $10, online_price = $11, member_price = $12, \
             cost_price = $13, online_only = $14, status = $15, updated_at = $16 WHERE id = $1",
        )
        .bind(sku.id.as_uuid())
        .bind(&sku.code)
        .bind(sku.barcode.as_ref().map(|b| b.as_str().to_owned()))
        .bind(&sku.name)
        .bind(&sku.unit)
        .bind(sku.sold_by_weight)
        .bind(Json(&sku.attributes))
        .bind(image_urls(&sku.images))
        .bind(sku.prices.base.fen())
        .bind(sku.prices.store.map(|m| m.fen()))
        .bind(sku.prices.online.map(|m| m.fen()))
        .bind(sku.prices.member.map(|m| m.fen()))
        .bind(sku.prices.cost.map(|m| m.fen()))
        .bind(sku.online_only)
        .bind(sku.status.as_str())
        .bind(sku.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_sku(&mut self, id: SkuId) -> StoreResult<Option<Sku>> {
        let row =
            sqlx::query("SELECT * FROM skus WHERE id = $1").bind(id.as_uuid()).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(rows::sku).transpose()
    }

    async fn get_skus(&mut self, ids: &[SkuId]) -> StoreResult<Vec<(Sku, String)>> {
        use sqlx::Row as _;
        let ids: Vec<Uuid> = ids.iter().map(|id| id.as_uuid()).collect();
        let sql = "SELECT s.*, p.name AS product_name FROM skus s JOIN products p ON p.id = s.product_id \
                   WHERE s.id IN ({keys})";
        let found = self.rows_in(sql, &ids).await?;
        found.iter().map(|row| Ok((rows::sku(row)?, row.try_get("product_name")?))).collect()
    }

    async fn get_sku_by_barcode(&mut self, barcode: &str) -> StoreResult<Option<Sku>> {
        let row =
            sqlx::query("SELECT * FROM skus WHERE barcode = $1").bind(barcode).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(rows::sku).transpose()
    }

    async fn list_skus(&mut self, filter: &SkuFilter, page: Page) -> StoreResult<Vec<Sku>> {
        let Keyset { condition, order } = keyset(&filter.sort, "s.id", "$5", "$7");
        let sql = format!(
            "SELECT s.* FROM skus s JOIN products p ON p.id = s.product_id \
             WHERE ($1 IS NULL OR s.product_id = $1) AND ($2 IS NULL OR p.category_id IN \
                 (WITH RECURSIVE below (id) AS (SELECT id FROM categories WHERE id = $2 UNION ALL \
                  SELECT c.id FROM categories c JOIN below ON c.parent_id = below.id) SELECT id FROM below)) \
             AND ($3 IS NULL OR s.barcode = $3) \
             AND ($4 IS NULL OR LOWER(s.code) LIKE $4 ESCAPE '\\' OR LOWER(s.name) LIKE $4 ESCAPE '\\' \
                  OR LOWER(p.name) LIKE $4 ESCAPE '\\') \
             AND {condition} ORDER BY {order} LIMIT $6"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.product_id.map(|p| p.as_uuid()))
            .bind(filter.category_id.map(|c| c.as_uuid()))
            .bind(filter.barcode.as_deref())
            .bind(like_pattern(filter.search.as_deref()))
            .bind(page.after)
            .bind(page.sql_limit());
        let found = bind_sort_value(query, &filter.sort).fetch_all(&mut *self.tx).await?;
        found.iter().map(rows::sku).collect()
    }

    async fn put_store_sku(&mut self, settings: &StoreSku) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO store_skus (store_id, sku_id, price, member_price, available_in_store, available_online, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (store_id, sku_id) DO UPDATE SET \
             price = excluded.price, member_price = excluded.member_price, \
             available_in_store = excluded.available_in_store, available_online = excluded.available_online, \
             updated_at = excluded.updated_at",
        )
        .bind(settings.store_id.as_uuid())
        .bind(settings.sku_id.as_uuid())
        .bind(settings.price.map(|m| m.fen()))
        .bind(settings.member_price.map(|m| m.fen()))
        .bind(settings.available_in_store)
        .bind(settings.available_online)
        .bind(settings.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn get_store_sku(&mut self, store_id: StoreId, sku_id: SkuId) -> StoreResult<Option<StoreSku>> {
        let row = sqlx::query("SELECT * FROM store_skus WHERE store_id = $1 AND sku_id = $2")
            .bind(store_id.as_uuid())
            .bind(sku_id.as_uuid())
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(rows::store_sku).transpose()
    }

    async fn list_store_skus(&mut self, store_id: StoreId, page: Page) -> StoreResult<Vec<StoreSku>> {
        let found = sqlx::query(
            "SELECT * FROM store_skus WHERE store_id = $1 AND ($2 IS NULL OR sku_id > $2) ORDER BY sku_id LIMIT $3",
        )
        .bind(store_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        found.iter().map(rows::store_sku).collect()
    }

    async fn delete_store_sku(&mut self, store_id: StoreId, sku_id: SkuId) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM store_skus WHERE store_id = $1 AND sku_id = $2")
            .bind(store_id.as_uuid())
            .bind(sku_id.as_uuid())
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

super::sort_columns!(crate::SkuSort {
    Code => ("s.code", true),
    Name => ("s.name", true),
    Price => ("s.base_price", false),
});
