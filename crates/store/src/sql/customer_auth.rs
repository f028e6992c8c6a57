//! Customer sign-in: one-time codes by phone and customer sessions.

use async_trait::async_trait;
use quanyu_domain::{ids::CustomerId, time::Timestamp};
use sqlx::Row as _;
use uuid::Uuid;

use super::{super::SqlTx, rows::Row};
use crate::{CustomerAuthRepo, CustomerSession, LoginCode, StoreResult};

fn login_code(row: &Row) -> StoreResult<LoginCode> {
    Ok(LoginCode {
        phone: row.try_get("phone")?,
        code_hash: row.try_get("code_hash")?,
        salt: row.try_get("salt")?,
        attempts: row.try_get("attempts")?,
        sent_at: row.try_get("sent_at")?,
        expires_at: row.try_get("expires_at")?,
    })
}

fn session(row: &Row) -> StoreResult<CustomerSession> {
    Ok(CustomerSession {
        id: row.try_get("id")?,
        customer_id: CustomerId::from_uuid(row.try_get("customer_id")?),
        secret_hash: row.try_get("secret_hash")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

#[async_trait]
impl CustomerAuthRepo for SqlTx {
    async fn get_login_code(&mut self, phone: &str) -> StoreResult<Option<LoginCode>> {
        let row = sqlx::query("SELECT * FROM customer_login_codes WHERE phone = $1")
            .bind(phone)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(login_code).transpose()
    }

    async fn put_login_code(&mut self, code: &LoginCode) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO customer_login_codes (phone, code_hash, salt, attempts, sent_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (phone) DO UPDATE SET code_hash = excluded.code_hash, \
             salt = excluded.salt, attempts = excluded.attempts, sent_at = excluded.sent_at, \
             expires_at = excluded.expires_at",
        )
        .bind(&code.phone)
        .bind(&code.code_hash)
        .bind(&code.salt)
        .bind(code.attempts)
        .bind(code.sent_at)
        .bind(code.expires_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn take_login_code_attempt(&mut self, phone: &str, max_attempts: i32) -> StoreResult<Option<LoginCode>> {
        let row = sqlx::query(
            "UPDATE customer_login_codes SET attempts = attempts + 1 WHERE phone = $1 AND attempts < $2 RETURNING *",
        )
        .bind(phone)
        .bind(max_attempts)
        .fetch_optional(&mut *self.tx)
        .await?;
        row.as_ref().map(login_code).transpose()
    }

    async fn delete_login_code(&mut self, phone: &str, code_hash: &str) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM customer_login_codes WHERE phone = $1 AND code_hash = $2")
            .bind(phone)
            .bind(code_hash)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    async fn insert_customer_session(&mut self, session: &CustomerSession) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO customer_sessions (id, customer_id, secret_hash, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(session.id)
        .bind(session.customer_id.as_uuid())
        .bind(&session.secret_hash)
        .bind(session.created_at)
        .bind(session.expires_at)
        .bind(session.revoked_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn find_customer_session(&mut self, secret_hash: &str) -> StoreResult<Option<CustomerSession>> {
        let row = sqlx::query("SELECT * FROM customer_sessions WHERE secret_hash = $1")
            .bind(secret_hash)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(session).transpose()
    }

    async fn revoke_customer_session(&mut self, id: Uuid, at: Timestamp) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE customer_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(at)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() > 0)
    }
}
