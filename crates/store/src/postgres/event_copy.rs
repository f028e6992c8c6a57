//! Customer events into PostgreSQL by binary `COPY`, the bulk path PostgreSQL itself is fastest
//! at (it fills heap pages many rows at a time), with deduplication kept exact: repeats within
//! the rows are left out, and the unique index on (source, messageId) refuses the whole `COPY`
//! if any row was stored before (a retried batch, or another instance storing the same
//! messageId meanwhile); it is then undone to a savepoint and the rows go through
//! `INSERT … ON CONFLICT DO NOTHING` instead. Fresh messageIds, the common case, thus cost no
//! look-up of their own: the `COPY`'s index insert is the check. Anonymous events are first given
//! the customers their anonymous ids are tied to, in one look-up for the whole batch.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone as _, Utc};
use quanyu_domain::ids::CustomerId;
use sqlx::{Connection as _, Row as _};
use uuid::Uuid;

use super::SqlTx;
use crate::{StoreResult, StoredEvent};

const COLUMNS: &str = "id, source_id, message_id, kind, name, user_id, anonymous_id, previous_id, customer_id, \
                       properties, traits, context, occurred_at, received_at";

/// Inserts events, skipping repeats and those stored already (same source and messageId);
/// returns how many were new.
pub(crate) async fn insert_event_rows(tx: &mut SqlTx, events: &mut [StoredEvent]) -> StoreResult<u64> {
    give_anonymous_events_their_customers(tx, events).await?;
    // In key order: a row whose key another transaction is inserting waits for it, so every
    // transaction taking the keys in the same order is what keeps two of them from waiting on
    // each other.
    // Of repeats, the first sent is kept (the sort is stable).
    let mut fresh: Vec<&StoredEvent> = events.iter().collect();
    fresh.sort_by(|a, b| key(a).cmp(&key(b)));
    fresh.dedup_by(|a, b| key(a) == key(b));
    if fresh.is_empty() {
        return Ok(0);
    }
    let mut savepoint = tx.tx.begin().await?;
    let copied = async {
        let mut copy =
            savepoint.copy_in_raw(&format!("COPY customer_events ({COLUMNS}) FROM STDIN (FORMAT binary)")).await?;
        copy.send(binary_rows(&fresh)).await?;
        copy.finish().await
    }
    .await;
    match copied {
        Ok(rows) => {
            savepoint.commit().await?;
            Ok(rows)
        }
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            savepoint.rollback().await?;
            insert_skipping_conflicts(tx, &fresh).await
        }
        Err(e) => Err(e.into()),
    }
}

/// Gives `owner` the events `anonymous_id` sent before it was tied to them, found through the
/// partial index of events without a customer (SQLite keeps its own, filled in bulk).
pub(crate) async fn stitch_events(tx: &mut SqlTx, anonymous_id: &str, owner: Uuid) -> StoreResult<()> {
    sqlx::query("UPDATE customer_events SET customer_id = $2 WHERE anonymous_id = $1 AND customer_id IS NULL")
        .bind(anonymous_id)
        .bind(owner)
        .execute(&mut *tx.tx)
        .await?;
    Ok(())
}

/// Gives each event that has no customer the one its anonymous id is tied to, if any.
async fn give_anonymous_events_their_customers(tx: &mut SqlTx, events: &mut [StoredEvent]) -> StoreResult<()> {
    let ids = StoredEvent::unowned_anonymous_ids(events);
    if ids.is_empty() {
        return Ok(());
    }
    let rows = sqlx::query("SELECT anonymous_id, customer_id FROM anonymous_ids WHERE anonymous_id = ANY($1::text[])")
        .bind(&ids)
        .fetch_all(&mut *tx.tx)
        .await?;
    let owners = rows
        .iter()
        .map(|row| Ok((row.try_get::<String, _>("anonymous_id")?, CustomerId::from_uuid(row.try_get("customer_id")?))))
        .collect::<StoreResult<HashMap<_, _>>>()?;
    StoredEvent::give_owners(events, &owners);
    Ok(())
}

/// The unique key of an event's row.
fn key(event: &StoredEvent) -> (Uuid, &str) {
    (event.source_id, &event.message.message_id)
}

/// Inserts events in one statement, each column one binary array that `UNNEST` turns back
/// into rows (in the order given), skipping conflicts row by row; returns how many were new.
async fn insert_skipping_conflicts(tx: &mut SqlTx, events: &[&StoredEvent]) -> StoreResult<u64> {
    let column = |f: fn(&StoredEvent) -> Option<&str>| events.iter().map(|e| f(e)).collect::<Vec<_>>();
    let done = sqlx::query(
        "INSERT INTO customer_events (id, source_id, message_id, kind, name, user_id, anonymous_id, previous_id, \
         customer_id, properties, traits, context, occurred_at, received_at) \
         SELECT * FROM UNNEST($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], \
         $8::text[], $9::uuid[], $10::text[], $11::text[], $12::text[], $13::timestamptz[], $14::timestamptz[]) \
         ON CONFLICT (source_id, message_id) DO NOTHING",
    )
    .bind(events.iter().map(|e| e.id).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.source_id).collect::<Vec<_>>())
    .bind(column(|e| Some(&e.message.message_id)))
    .bind(column(|e| Some(e.message.kind.as_str())))
    .bind(column(|e| e.message.name.as_deref()))
    .bind(column(|e| e.message.user_id.as_deref()))
    .bind(column(|e| e.message.anonymous_id.as_deref()))
    .bind(column(|e| e.message.previous_id.as_deref()))
    .bind(events.iter().map(|e| e.customer_id.map(|c| c.as_uuid())).collect::<Vec<_>>())
    .bind(column(|e| Some(&e.message.properties)))
    .bind(column(|e| Some(&e.message.traits)))
    .bind(column(|e| Some(&e.message.context)))
    .bind(events.iter().map(|e| e.occurred_at).collect::<Vec<_>>())
    .bind(events.iter().map(|e| e.received_at).collect::<Vec<_>>())
    .execute(&mut *tx.tx)
    .await?;
    Ok(done.rows_affected())
}

/// The rows in `COPY`'s binary format: a header, each row as its field count and each field
/// as a length (-1 for NULL) and PostgreSQL's binary encoding, then a trailer.
fn binary_rows(events: &[&StoredEvent]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + events.len() * 256);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension
    for e in events {
        let m = &e.message;
        out.extend_from_slice(&14i16.to_be_bytes());
        uuid_field(&mut out, Some(e.id));
        uuid_field(&mut out, Some(e.source_id));
        text_field(&mut out, Some(&m.message_id));
        text_field(&mut out, Some(m.kind.as_str()));
        text_field(&mut out, m.name.as_deref());
        text_field(&mut out, m.user_id.as_deref());
        text_field(&mut out, m.anonymous_id.as_deref());
        text_field(&mut out, m.previous_id.as_deref());
        uuid_field(&mut out, e.customer_id.map(|c| c.as_uuid()));
        text_field(&mut out, Some(&m.properties));
        text_field(&mut out, Some(&m.traits));
        text_field(&mut out, Some(&m.context));
        timestamp_field(&mut out, e.occurred_at);
        timestamp_field(&mut out, e.received_at);
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
}

fn uuid_field(out: &mut Vec<u8>, value: Option<Uuid>) {
    match value {
        Some(id) => {
            out.extend_from_slice(&16i32.to_be_bytes());
            out.extend_from_slice(id.as_bytes());
        }
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

fn text_field(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        // Texts are bounded far below 2 GiB (ids 255 characters, payloads 32 KB).
        Some(text) => {
            out.extend_from_slice(&i32::try_from(text.len()).unwrap_or(i32::MAX).to_be_bytes());
            out.extend_from_slice(text.as_bytes());
        }
        None => out.extend_from_slice(&(-1i32).to_be_bytes()),
    }
}

/// A `timestamptz`: microseconds since 2000-01-01 00:00 UTC.
fn timestamp_field(out: &mut Vec<u8>, at: DateTime<Utc>) {
    let epoch = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single().unwrap_or_default();
    let micros = (at - epoch).num_microseconds().unwrap_or(i64::MAX);
    out.extend_from_slice(&8i32.to_be_bytes());
    out.extend_from_slice(&micros.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn timestamps_count_microseconds_from_2000() {
        let mut out = Vec::new();
        timestamp_field(&mut out, Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 1).unwrap());
        assert_eq!(out, [0, 0, 0, 8, 0, 0, 0, 0, 0, 0x0f, 0x42, 0x40]);
        let mut out = Vec::new();
        text_field(&mut out, None);
        text_field(&mut out, Some("ab"));
        assert_eq!(out, [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 2, b'a', b'b']);
    }
}
