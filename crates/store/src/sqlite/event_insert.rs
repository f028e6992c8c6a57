//! Customer events into SQLite through one single-row `INSERT … ON CONFLICT DO NOTHING`,
//! prepared once per bulk write and stepped once per event on the writer connection's own
//! handle: each text is bound where it lies (`SQLITE_STATIC`, no copy into sqlx's arguments
//! and none into SQLite's), no statement journal is needed (a single row has nothing to undo
//! half-way) and whether each row was new is SQLite's own change count.
//!
//! Ingest binds 14 values per event at hundreds of thousands of events a second, where sqlx's
//! per-statement hand-off to its worker thread and its copies of every argument were most of
//! the writer's time; so it goes through SQLite's C API ([`raw`](super::raw)). The rows go
//! through the same transaction as everything else (the handle is sqlx's, locked for the
//! duration).

use super::{
    SqlTx,
    raw::{Statement, TimestampText, Value},
};
use crate::{StoreResult, StoredEvent};

const INSERT: &str = "INSERT INTO customer_events (id, source_id, message_id, kind, name, user_id, anonymous_id, \
    previous_id, customer_id, properties, traits, context, occurred_at, received_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
    ON CONFLICT (source_id, message_id) DO NOTHING";

/// Inserts events one row at a time through one prepared statement, skipping those stored
/// already (same source and messageId) and repeats; returns how many were new.
pub(crate) async fn insert_event_rows(tx: &mut SqlTx, events: &[StoredEvent]) -> StoreResult<u64> {
    let mut handle = tx.tx.lock_handle().await?;
    let insert = Statement::prepare(handle.as_raw_handle(), INSERT, true, "inserting events")?;
    let (mut occurred_at, mut received_at) = (TimestampText::default(), TimestampText::default());
    let mut inserted = 0;
    for e in events {
        let m = &e.message;
        let customer_id = e.customer_id.map(|c| c.as_uuid());
        inserted += insert.run(&[
            Value::Blob(e.id.as_bytes()),
            Value::Blob(e.source_id.as_bytes()),
            Value::Text(&m.message_id),
            Value::Text(m.kind.as_str()),
            Value::text(m.name.as_deref()),
            Value::text(m.user_id.as_deref()),
            Value::text(m.anonymous_id.as_deref()),
            Value::text(m.previous_id.as_deref()),
            Value::blob(customer_id.as_ref().map(|c| c.as_bytes().as_slice())),
            Value::Text(&m.properties),
            Value::Text(&m.traits),
            Value::Text(&m.context),
            Value::Text(occurred_at.of(e.occurred_at)),
            Value::Text(received_at.of(e.received_at)),
        ])?;
    }
    Ok(inserted)
}
