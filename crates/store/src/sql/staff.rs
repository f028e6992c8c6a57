//! Staff and their tokens.

use async_trait::async_trait;
use quanyu_domain::{
    ids::{StaffId, TokenId},
    org::Staff,
    time::Timestamp,
};

use super::{super::SqlTx, Keyset, bind_sort_value, keyset, like_pattern, rows};
use crate::{Page, StaffFilter, StaffRepo, StoreResult, TokenKind, TokenRecord, TokenRepo};

#[async_trait]
impl StaffRepo for SqlTx {
    async fn insert_staff(&mut self, staff: &Staff, password_hash: &str) -> StoreResult<()> {
        let (region, store) = rows::scope_columns(staff);
        sqlx::query(
            "INSERT INTO staff (id, username, display_name, phone, role, scope_region_id, scope_store_id, status, \
             password_hash, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(staff.id.as_uuid())
        .bind(&staff.username)
        .bind(&staff.display_name)
        .bind(staff.phone.as_ref().map(|p| p.as_str().to_owned()))
        .bind(staff.assignment.role().as_str())
        .bind(region)
        .bind(store)
        .bind(staff.status.as_str())
        .bind(password_hash)
        .bind(staff.created_at)
        .bind(staff.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn update_staff(&mut self, staff: &Staff) -> StoreResult<bool> {
        let (region, store) = rows::scope_columns(staff);
        let done = sqlx::query(
            "UPDATE staff SET username = $2, display_name = $3, phone = $4, role = $5, scope_region_id = $6, \
             scope_store_id = $7, status = $8, updated_at = $9 WHERE id = $1",
        )
        .bind(staff.id.as_uuid())
        .bind(&staff.username)
        .bind(&staff.display_name)
        .bind(staff.phone.as_ref().map(|p| p.as_str().to_owned()))
        .bind(staff.assignment.role().as_str())
        .bind(region)
        .bind(store)
        .bind(staff.status.as_str())
        .bind(staff.updated_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn set_password_hash(&mut self, id: StaffId, password_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE staff SET password_hash = $2 WHERE id = $1")
            .bind(id.as_uuid())
            .bind(password_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_staff(&mut self, id: StaffId) -> StoreResult<Option<Staff>> {
        let row =
            sqlx::query("SELECT * FROM staff WHERE id = $1").bind(id.as_uuid()).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(rows::staff).transpose()
    }

    async fn find_staff_for_login(&mut self, login: &str) -> StoreResult<Option<(Staff, String)>> {
        let row = sqlx::query("SELECT * FROM staff WHERE username = LOWER($1) OR phone = $1 ORDER BY id LIMIT 1")
            .bind(login)
            .fetch_optional(&mut *self.tx)
            .await?;
        let Some(row) = row else { return Ok(None) };
        use sqlx::Row as _;
        Ok(Some((rows::staff(&row)?, row.try_get("password_hash")?)))
    }

    async fn list_staff(&mut self, filter: &StaffFilter, page: Page) -> StoreResult<Vec<Staff>> {
        let Keyset { condition, order } = keyset(&filter.sort, "id", "$5", "$7");
        let sql = format!(
            "SELECT * FROM staff WHERE ($1 IS NULL OR scope_store_id = $1) \
             AND ($2 IS NULL OR scope_region_id = $2 OR scope_store_id IN (SELECT id FROM stores WHERE region_id = $2)) \
             AND ($3 IS NULL OR role = $3) \
             AND ($4 IS NULL OR LOWER(username) LIKE $4 ESCAPE '\\' OR LOWER(display_name) LIKE $4 ESCAPE '\\') \
             AND {condition} ORDER BY {order} LIMIT $6"
        );
        let query = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(filter.place.store_id.map(|s| s.as_uuid()))
            .bind(filter.place.region_id.map(|r| r.as_uuid()))
            .bind(filter.role.map(|r| r.as_str()))
            .bind(like_pattern(filter.search.as_deref()))
            .bind(page.after)
            .bind(page.sql_limit());
        let found = bind_sort_value(query, &filter.sort).fetch_all(&mut *self.tx).await?;
        found.iter().map(rows::staff).collect()
    }
}

#[async_trait]
impl TokenRepo for SqlTx {
    async fn insert_token(&mut self, token: &TokenRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO tokens (id, staff_id, kind, name, secret_hash, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(token.id.as_uuid())
        .bind(token.staff_id.as_uuid())
        .bind(token.kind.as_str())
        .bind(&token.name)
        .bind(&token.secret_hash)
        .bind(token.created_at)
        .bind(token.expires_at)
        .bind(token.revoked_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn find_token_by_hash(&mut self, secret_hash: &str) -> StoreResult<Option<TokenRecord>> {
        let row = sqlx::query("SELECT * FROM tokens WHERE secret_hash = $1")
            .bind(secret_hash)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(rows::token).transpose()
    }

    async fn revoke_token(&mut self, id: TokenId, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id.as_uuid())
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn get_token(&mut self, id: TokenId) -> StoreResult<Option<TokenRecord>> {
        let row =
            sqlx::query("SELECT * FROM tokens WHERE id = $1").bind(id.as_uuid()).fetch_optional(&mut *self.tx).await?;
        row.as_ref().map(rows::token).transpose()
    }

    async fn list_tokens(&mut self, kind: TokenKind, page: Page) -> StoreResult<Vec<TokenRecord>> {
        let found =
            sqlx::query("SELECT * FROM tokens WHERE kind = $1 AND ($2 IS NULL OR id > $2) ORDER BY id LIMIT $3")
                .bind(kind.as_str())
                .bind(page.after)
                .bind(page.sql_limit())
                .fetch_all(&mut *self.tx)
                .await?;
        found.iter().map(rows::token).collect()
    }
}

super::sort_columns!(crate::StaffSort {
    Username => ("username", true),
    Name => ("display_name", true),
    Role => ("role", true),
});
