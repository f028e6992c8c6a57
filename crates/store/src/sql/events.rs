//! Customer events: sources, the deduplicated event log (written in bulk by each backend's
//! `insert_event_rows`) and anonymous ids stitched to customers.

use std::collections::HashSet;

use async_trait::async_trait;
use quanyu_domain::{
    events::{EventMessage, EventType},
    ids::{CustomerId, StaffId},
    time::Timestamp,
};
use sqlx::{AssertSqlSafe, Row as _};
use uuid::Uuid;

use super::{super::SqlTx, Placeholders, rows::Row};
use crate::{EventRepo, EventSource, Page, StoreError, StoreResult, StoredEvent};

/// Values per `IN (…)` list (well below both backends' limits on parameters).
const ROWS_PER_STATEMENT: usize = 500;

fn source(row: &Row) -> StoreResult<EventSource> {
    Ok(EventSource {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        key_hash: row.try_get("key_hash")?,
        created_by: row.try_get::<Option<Uuid>, _>("created_by")?.map(StaffId::from_uuid),
        created_at: row.try_get("created_at")?,
        revoked_at: row.try_get("revoked_at")?,
    })
}

fn event(row: &Row) -> StoreResult<StoredEvent> {
    let kind: String = row.try_get("kind")?;
    let received_at: Timestamp = row.try_get("received_at")?;
    // NULL: it happened when it was received (SQLite writes the time once).
    let occurred_at = row.try_get::<Option<Timestamp>, _>("occurred_at")?.unwrap_or(received_at);
    Ok(StoredEvent {
        id: row.try_get("id")?,
        source_id: row.try_get("source_id")?,
        message: EventMessage {
            kind: EventType::parse(&kind).map_err(|e| StoreError::Corrupt(format!("kind: {e}")))?,
            message_id: row.try_get("message_id")?,
            name: row.try_get("name")?,
            user_id: row.try_get("user_id")?,
            anonymous_id: row.try_get("anonymous_id")?,
            previous_id: row.try_get("previous_id")?,
            timestamp: Some(occurred_at),
            properties: row.try_get("properties")?,
            traits: row.try_get("traits")?,
            context: row.try_get("context")?,
        },
        customer_id: row.try_get::<Option<Uuid>, _>("customer_id")?.map(CustomerId::from_uuid),
        occurred_at,
        received_at,
    })
}

#[async_trait]
impl EventRepo for SqlTx {
    async fn insert_event_source(&mut self, s: &EventSource) -> StoreResult<()> {
        insert_source(self, s, "").await
    }

    async fn ensure_event_source(&mut self, s: &EventSource) -> StoreResult<()> {
        insert_source(self, s, "ON CONFLICT (key_hash) DO NOTHING").await
    }

    async fn relay_cursor(&mut self, name: &str) -> StoreResult<i64> {
        sqlx::query("INSERT INTO counters (name, value) VALUES ($1, 0) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .execute(&mut *self.tx)
            .await?;
        let row = sqlx::query("SELECT value FROM counters WHERE name = $1").bind(name).fetch_one(&mut *self.tx).await?;
        Ok(row.try_get("value")?)
    }

    async fn advance_relay_cursor(&mut self, name: &str, from: i64, to: i64) -> StoreResult<bool> {
        let done = sqlx::query("UPDATE counters SET value = $3 WHERE name = $1 AND value = $2")
            .bind(name)
            .bind(from)
            .bind(to)
            .execute(&mut *self.tx)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    async fn event_source_by_key(&mut self, key_hash: &str) -> StoreResult<Option<EventSource>> {
        let row = sqlx::query("SELECT * FROM event_sources WHERE key_hash = $1 AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(&mut *self.tx)
            .await?;
        row.as_ref().map(source).transpose()
    }

    async fn list_event_sources(&mut self) -> StoreResult<Vec<EventSource>> {
        let rows = sqlx::query("SELECT * FROM event_sources ORDER BY id").fetch_all(&mut *self.tx).await?;
        rows.iter().map(source).collect()
    }

    async fn insert_events(&mut self, events: &mut [StoredEvent]) -> StoreResult<Vec<bool>> {
        let mut stored = Vec::with_capacity(events.len());
        for chunk in events.chunks_mut(super::super::EVENTS_PER_BULK_INSERT) {
            let inserted = super::super::insert_event_rows(self, chunk).await?;
            if inserted == chunk.len() as u64 {
                stored.resize(stored.len() + chunk.len(), true);
            } else {
                // Some were sent before: which ones is rare enough to ask. An event is new if
                // the row its (source, messageId) names now is this event.
                let fresh: HashSet<Uuid> = stored_ids(self, chunk).await?.into_iter().collect();
                stored.extend(chunk.iter().map(|e| fresh.contains(&e.id)));
            }
        }
        Ok(stored)
    }

    async fn stitch_anonymous_id(
        &mut self,
        anonymous_id: &str,
        customer_id: CustomerId,
        at: Timestamp,
    ) -> StoreResult<CustomerId> {
        sqlx::query(
            "INSERT INTO anonymous_ids (anonymous_id, customer_id, at) VALUES ($1, $2, $3) \
             ON CONFLICT (anonymous_id) DO NOTHING",
        )
        .bind(anonymous_id)
        .bind(customer_id.as_uuid())
        .bind(at)
        .execute(&mut *self.tx)
        .await?;
        let owner: Uuid = sqlx::query("SELECT customer_id FROM anonymous_ids WHERE anonymous_id = $1")
            .bind(anonymous_id)
            .fetch_one(&mut *self.tx)
            .await?
            .try_get("customer_id")?;
        super::super::stitch_events(self, anonymous_id, owner).await?;
        Ok(CustomerId::from_uuid(owner))
    }

    async fn live_customers(&mut self, ids: &[CustomerId]) -> StoreResult<Vec<(CustomerId, CustomerId)>> {
        let mut found = Vec::new();
        for chunk in ids.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let sql = format!("SELECT id, merged_into FROM customers WHERE id IN ({})", params.list(chunk.len()));
            let mut query = sqlx::query(AssertSqlSafe(sql));
            for id in chunk {
                query = query.bind(id.as_uuid());
            }
            for row in query.fetch_all(&mut *self.tx).await? {
                let id: Uuid = row.try_get("id")?;
                let survivor: Option<Uuid> = row.try_get("merged_into")?;
                found.push((CustomerId::from_uuid(id), CustomerId::from_uuid(survivor.unwrap_or(id))));
            }
        }
        Ok(found)
    }

    async fn customer_events(&mut self, customer_id: CustomerId, page: Page) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query(
            "SELECT * FROM customer_events WHERE customer_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3",
        )
        .bind(customer_id.as_uuid())
        .bind(page.after)
        .bind(page.sql_limit())
        .fetch_all(&mut *self.tx)
        .await?;
        rows.iter().map(event).collect()
    }
}

/// The ids of the rows stored under these events' (source, messageId) keys, looked up by the
/// unique key (the id itself is not indexed on SQLite).
async fn stored_ids(tx: &mut SqlTx, events: &[StoredEvent]) -> StoreResult<Vec<Uuid>> {
    let mut sources: Vec<Uuid> = events.iter().map(|e| e.source_id).collect();
    sources.sort_unstable();
    sources.dedup();
    let mut found = Vec::new();
    for source in sources {
        let message_ids: Vec<&str> =
            events.iter().filter(|e| e.source_id == source).map(|e| e.message.message_id.as_str()).collect();
        for chunk in message_ids.chunks(ROWS_PER_STATEMENT) {
            let mut params = Placeholders::new();
            let source_param = params.one();
            let sql = format!(
                "SELECT id FROM customer_events WHERE source_id = {source_param} AND message_id IN ({})",
                params.list(chunk.len())
            );
            let mut query = sqlx::query(AssertSqlSafe(sql)).bind(source);
            for message_id in chunk {
                query = query.bind(*message_id);
            }
            for row in query.fetch_all(&mut *tx.tx).await? {
                found.push(row.try_get("id")?);
            }
        }
    }
    Ok(found)
}

/// Inserts a source; `on_conflict` is empty or an `ON CONFLICT` clause (a constant).
async fn insert_source(tx: &mut SqlTx, s: &EventSource, on_conflict: &'static str) -> StoreResult<()> {
    let sql = format!(
        "INSERT INTO event_sources (id, name, key_hash, created_by, created_at, revoked_at) \
         VALUES ($1, $2, $3, $4, $5, $6) {on_conflict}"
    );
    sqlx::query(AssertSqlSafe(sql))
        .bind(s.id)
        .bind(&s.name)
        .bind(&s.key_hash)
        .bind(s.created_by.map(|c| c.as_uuid()))
        .bind(s.created_at)
        .bind(s.revoked_at)
        .execute(&mut *tx.tx)
        .await?;
    Ok(())
}
