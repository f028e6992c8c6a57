//! The audit log, the outbox and idempotency records.

use async_trait::async_trait;
use quanyu_domain::ids::StaffId;
use sqlx::{AssertSqlSafe, types::Json};

use super::{super::SqlTx, Placeholders, rows};
use crate::{
    AuditEntry, AuditFilter, AuditRepo, IdempotencyRecord, IdempotencyRepo, OutboxEvent, OutboxRepo, Page, StoreResult,
};

/// Rows per multi-row insert (11 parameters each at most).
const ROWS_PER_STATEMENT: usize = 500;

#[async_trait]
impl AuditRepo for SqlTx {
    async fn append_audit(&mut self, entry: &AuditEntry) -> StoreResult<()> {
        self.append_audits(std::slice::from_ref(entry)).await
    }

    async fn append_audits(&mut self, entries: &[AuditEntry]) -> StoreResult<()> {
        for chunk in entries.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let values = params.rows(chunk.len(), 11);
            let sql = format!(
                "INSERT INTO audit_log (id, at, actor_id, actor_name, action, entity_type, entity_id, store_id, ip, \
                 user_agent, changes) VALUES {}",
                values
            );
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for entry in chunk {
                query = query
                    .bind(entry.id.as_uuid())
                    .bind(entry.at)
                    .bind(entry.actor_id.map(|a| a.as_uuid()))
                    .bind(&entry.actor_name)
                    .bind(&entry.action)
                    .bind(&entry.entity_type)
                    .bind(&entry.entity_id)
                    .bind(entry.store_id.map(|s| s.as_uuid()))
                    .bind(&entry.ip)
                    .bind(&entry.user_agent)
                    .bind(Json(&entry.changes));
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn list_audit(&mut self, filter: &AuditFilter, page: Page) -> StoreResult<Vec<AuditEntry>> {
        let found = sqlx::query(
            "SELECT * FROM audit_log WHERE ($1 IS NULL OR entity_type = $1) AND ($2 IS NULL OR entity_id = $2) \
             AND ($3 IS NULL OR actor_id = $3) AND ($4 IS NULL OR store_id = $4) \
             AND ($7 IS NULL OR action = $7) AND ($8 IS NULL OR at >= $8) AND ($9 IS NULL OR at < $9) \
             AND ($5 IS NULL OR id < $5) ORDER BY id DESC LIMIT $6",
        )
        .bind(filter.entity_type.as_deref())
        .bind(filter.entity_id.as_deref())
        .bind(filter.actor_id.map(|a| a.as_uuid()))
        .bind(filter.store_id.map(|s| s.as_uuid()))
        .bind(page.after)
        .bind(page.sql_limit())
        .bind(filter.action.as_deref())
        .bind(filter.since)
        .bind(filter.until)
        .fetch_all(&mut *self.tx)
        .await?;
        found.iter().map(rows::audit).collect()
    }
}

#[async_trait]
impl OutboxRepo for SqlTx {
    async fn append_event(&mut self, event: &OutboxEvent) -> StoreResult<i64> {
        use sqlx::Row as _;
        let row = sqlx::query(
            "INSERT INTO events (id, at, kind, entity_type, entity_id, payload) VALUES ($1, $2, $3, $4, $5, $6) \
             RETURNING seq",
        )
        .bind(event.id.as_uuid())
        .bind(event.at)
        .bind(&event.kind)
        .bind(&event.entity_type)
        .bind(&event.entity_id)
        .bind(Json(&event.payload))
        .fetch_one(&mut *self.tx)
        .await?;
        Ok(row.try_get("seq")?)
    }

    async fn append_events(&mut self, events: &[OutboxEvent]) -> StoreResult<()> {
        for chunk in events.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let values = params.rows(chunk.len(), 6);
            let sql = format!("INSERT INTO events (id, at, kind, entity_type, entity_id, payload) VALUES {}", values);
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for event in chunk {
                query = query
                    .bind(event.id.as_uuid())
                    .bind(event.at)
                    .bind(&event.kind)
                    .bind(&event.entity_type)
                    .bind(&event.entity_id)
                    .bind(Json(&event.payload));
            }
            query.execute(&mut *self.tx).await?;
        }
        Ok(())
    }

    async fn events_after(&mut self, after_seq: i64, limit: u32) -> StoreResult<Vec<OutboxEvent>> {
        let found = sqlx::query("SELECT * FROM events WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after_seq)
            .bind(i64::from(limit))
            .fetch_all(&mut *self.tx)
            .await?;
        found.iter().map(rows::event).collect()
    }
}

#[async_trait]
impl IdempotencyRepo for SqlTx {
    async fn get_idempotency(&mut self, actor_id: StaffId, key: &str) -> StoreResult<Option<IdempotencyRecord>> {
        let row = sqlx::query("SELECT * FROM idempotency_keys WHERE actor_id = $1 AND idem_key = $2")
            .bind(actor_id.as_uuid())
            .bind(key)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(rows::idempotency).transpose()
    }

    async fn insert_idempotency(&mut self, record: &IdempotencyRecord) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO idempotency_keys (actor_id, idem_key, fingerprint, status, body, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(record.actor_id.as_uuid())
        .bind(&record.key)
        .bind(&record.fingerprint)
        .bind(i32::from(record.status))
        .bind(&record.body)
        .bind(record.created_at)
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    async fn complete_idempotency(&mut self, record: &IdempotencyRecord) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE idempotency_keys SET fingerprint = $3, status = $4, body = $5 WHERE actor_id = $1 AND idem_key = $2",
        )
        .bind(record.actor_id.as_uuid())
        .bind(&record.key)
        .bind(&record.fingerprint)
        .bind(i32::from(record.status))
        .bind(&record.body)
        .execute(&mut *self.tx)
        .await?;
        Ok(done.rows_affected() > 0)
    }
}
