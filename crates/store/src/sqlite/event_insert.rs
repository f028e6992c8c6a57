//! Customer events into SQLite through one single-row `INSERT … ON CONFLICT DO NOTHING`,
//! prepared once per bulk write and stepped once per event on the writer connection's own
//! handle: each text is bound where it lies (`SQLITE_STATIC`, no copy into sqlx's arguments
//! and none into SQLite's), no statement journal is needed (a single row has nothing to undo
//! half-way) and whether each row was new is SQLite's own change count. Before that, under the
//! same handle, anonymous events with no customer are given those their anonymous ids are tied
//! to, in one look-up for the batch.
//!
//! This is the one place Quanyu calls SQLite's C API: ingest binds 14 values per event at
//! hundreds of thousands of events a second, where sqlx's per-statement hand-off to its worker
//! thread and its copies of every argument were most of the writer's time. Each hand-off is a
//! round trip between two threads, which on a busy machine waits for a core (0.2–1.4 ms per
//! statement measured under ingest), so the look-ups and the inserts share one. The rows go
//! through the same transaction as everything else (the handle is sqlx's, locked for the
//! duration).

use std::{
    collections::HashMap,
    ffi::{CStr, c_int},
    ptr::{self, NonNull},
};

use chrono::SecondsFormat;
use libsqlite3_sys as ffi;

use quanyu_domain::{ids::CustomerId, time::Timestamp};
use uuid::Uuid;

use super::SqlTx;
use crate::{StoreError, StoreResult, StoredEvent};

const INSERT: &CStr = c"INSERT INTO customer_events (id, source_id, message_id, kind, name, user_id, anonymous_id, \
    previous_id, customer_id, properties, traits, context, occurred_at, received_at) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) \
    ON CONFLICT (source_id, message_id) DO NOTHING";

const OWNERS: &CStr =
    c"SELECT anonymous_id, customer_id FROM anonymous_ids WHERE anonymous_id IN (SELECT value FROM json_each(?1))";

/// Gives anonymous events their customers, then inserts the events one row at a time through
/// one prepared statement, skipping those stored already (same source and messageId) and
/// repeats; returns how many were new.
pub(crate) async fn insert_event_rows(tx: &mut SqlTx, events: &mut [StoredEvent]) -> StoreResult<u64> {
    let mut handle = tx.tx.lock_handle().await?;
    let db = handle.as_raw_handle();
    give_anonymous_events_their_customers(db, events)?;
    let insert = Statement::prepare(db, INSERT)?;
    let (mut occurred_at, mut received_at) = (TimestampText::default(), TimestampText::default());
    let mut inserted = 0;
    for event in events.iter() {
        inserted += insert.row(event, occurred_at.of(event.occurred_at), received_at.of(event.received_at))?;
    }
    Ok(inserted)
}

/// Gives each event that has no customer the one its anonymous id is tied to, if any: one
/// look-up of every such id in the batch at once (a JSON array read by `json_each`).
fn give_anonymous_events_their_customers(db: NonNull<ffi::sqlite3>, events: &mut [StoredEvent]) -> StoreResult<()> {
    let ids = StoredEvent::unowned_anonymous_ids(events);
    if ids.is_empty() {
        return Ok(());
    }
    let ids =
        serde_json::to_string(&ids).map_err(|e| StoreError::Unavailable(format!("cannot write a JSON array: {e}")))?;
    let owners = Statement::prepare(db, OWNERS)?.owners(&ids)?;
    StoredEvent::give_owners(events, &owners);
    Ok(())
}

/// A timestamp as sqlx writes it (so it compares and reads back alike), formatted once for a
/// run of events that share it: a request's events share their received time, and most carry
/// no client time of their own.
#[derive(Default)]
struct TimestampText {
    last: Option<(Timestamp, String)>,
}

impl TimestampText {
    fn of(&mut self, at: Timestamp) -> &str {
        if self.last.as_ref().is_none_or(|(last, _)| *last != at) {
            self.last = Some((at, at.to_rfc3339_opts(SecondsFormat::AutoSi, false)));
        }
        self.last.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

/// A prepared statement, finalised on drop.
struct Statement {
    db: NonNull<ffi::sqlite3>,
    statement: NonNull<ffi::sqlite3_stmt>,
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on this handle and is finalised once.
        unsafe { ffi::sqlite3_finalize(self.statement.as_ptr()) };
    }
}

impl Statement {
    fn prepare(db: NonNull<ffi::sqlite3>, sql: &CStr) -> StoreResult<Statement> {
        let mut statement = ptr::null_mut();
        // SAFETY: `db` is an open connection locked for us; `sql` is a NUL-terminated string.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db.as_ptr(),
                sql.as_ptr(),
                -1,
                ffi::SQLITE_PREPARE_PERSISTENT,
                &mut statement,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, rc));
        }
        let statement = NonNull::new(statement).ok_or_else(|| error(db, rc))?;
        Ok(Statement { db, statement })
    }

    /// Runs [`OWNERS`]: the customers anonymous ids (a JSON array) are tied to.
    fn owners(&self, ids: &str) -> StoreResult<HashMap<String, CustomerId>> {
        let mut owners = HashMap::new();
        let found = self.text(1, Some(ids)).and_then(|()| {
            loop {
                // SAFETY: the parameter is bound to memory that outlives this call (see below).
                match unsafe { ffi::sqlite3_step(self.statement.as_ptr()) } {
                    ffi::SQLITE_ROW => {
                        // SAFETY: a row is current; both columns are copied out before the next step.
                        let (id, customer) = unsafe { (self.column(0), self.column(1)) };
                        let id = std::str::from_utf8(id).map_err(|e| corrupt(&e))?;
                        let customer = Uuid::from_slice(customer).map_err(|e| corrupt(&e))?;
                        owners.insert(id.to_owned(), CustomerId::from_uuid(customer));
                    }
                    ffi::SQLITE_DONE => return Ok(()),
                    rc => return Err(error(self.db, rc)),
                }
            }
        });
        self.reset();
        found.map(|()| owners)
    }

    /// A column of the current row, as bytes.
    ///
    /// # Safety
    /// A row must be current, and the bytes are valid only until the next step or reset.
    unsafe fn column(&self, index: c_int) -> &[u8] {
        // SAFETY: as the caller promises.
        unsafe {
            let bytes = ffi::sqlite3_column_blob(self.statement.as_ptr(), index).cast::<u8>();
            let len = usize::try_from(ffi::sqlite3_column_bytes(self.statement.as_ptr(), index)).unwrap_or(0);
            if bytes.is_null() { &[] } else { std::slice::from_raw_parts(bytes, len) }
        }
    }

    /// Runs [`INSERT`] for one event, its timestamps given as text; 1 if it was new, 0 if its
    /// messageId was stored before.
    fn row(&self, e: &StoredEvent, occurred_at: &str, received_at: &str) -> StoreResult<u64> {
        let m = &e.message;
        let customer_id = e.customer_id.map(|c| c.as_uuid());
        let bound = self
            .blob(1, Some(e.id.as_bytes()))
            .and_then(|()| self.blob(2, Some(e.source_id.as_bytes())))
            .and_then(|()| self.text(3, Some(&m.message_id)))
            .and_then(|()| self.text(4, Some(m.kind.as_str())))
            .and_then(|()| self.text(5, m.name.as_deref()))
            .and_then(|()| self.text(6, m.user_id.as_deref()))
            .and_then(|()| self.text(7, m.anonymous_id.as_deref()))
            .and_then(|()| self.text(8, m.previous_id.as_deref()))
            .and_then(|()| self.blob(9, customer_id.as_ref().map(|c| c.as_bytes().as_slice())))
            .and_then(|()| self.text(10, Some(&m.properties)))
            .and_then(|()| self.text(11, Some(&m.traits)))
            .and_then(|()| self.text(12, Some(&m.context)))
            .and_then(|()| self.text(13, Some(occurred_at)))
            .and_then(|()| self.text(14, Some(received_at)));
        let stepped = bound.and_then(|()| {
            // SAFETY: every parameter is bound to memory that outlives this call (see below).
            match unsafe { ffi::sqlite3_step(self.statement.as_ptr()) } {
                ffi::SQLITE_DONE => {
                    // SAFETY: an open connection; the count is of the statement just stepped.
                    Ok(u64::try_from(unsafe { ffi::sqlite3_changes(self.db.as_ptr()) }).unwrap_or(0))
                }
                rc => Err(error(self.db, rc)),
            }
        });
        self.reset();
        stepped
    }

    /// Resets the statement and unbinds every parameter, before the texts they point to (this
    /// call's, borrowed for its duration) can be dropped or changed.
    fn reset(&self) {
        // SAFETY: a prepared statement of an open connection.
        unsafe {
            ffi::sqlite3_reset(self.statement.as_ptr());
            ffi::sqlite3_clear_bindings(self.statement.as_ptr());
        }
    }

    fn text(&self, index: c_int, value: Option<&str>) -> StoreResult<()> {
        // SAFETY: SQLITE_STATIC: SQLite reads the text in place until the bindings are cleared,
        // which `reset` does at the end of every run, before the text can be dropped.
        let rc = match value {
            Some(text) => unsafe {
                ffi::sqlite3_bind_text64(
                    self.statement.as_ptr(),
                    index,
                    text.as_ptr().cast(),
                    text.len() as u64,
                    ffi::SQLITE_STATIC(),
                    ffi::SQLITE_UTF8 as u8,
                )
            },
            None => unsafe { ffi::sqlite3_bind_null(self.statement.as_ptr(), index) },
        };
        if rc == ffi::SQLITE_OK { Ok(()) } else { Err(error(self.db, rc)) }
    }

    fn blob(&self, index: c_int, value: Option<&[u8]>) -> StoreResult<()> {
        // SAFETY: as for `text`.
        let rc = match value {
            Some(bytes) => unsafe {
                ffi::sqlite3_bind_blob64(
                    self.statement.as_ptr(),
                    index,
                    bytes.as_ptr().cast(),
                    bytes.len() as u64,
                    ffi::SQLITE_STATIC(),
                )
            },
            None => unsafe { ffi::sqlite3_bind_null(self.statement.as_ptr(), index) },
        };
        if rc == ffi::SQLITE_OK { Ok(()) } else { Err(error(self.db, rc)) }
    }
}

/// A stored anonymous id or customer that does not read back as one.
fn corrupt(err: &dyn std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("a stored anonymous id's customer does not read back: {err}"))
}

/// SQLite's error as the store's: a missing source is a missing reference, anything else
/// (busy, I/O, full disk) leaves the database unable to take the write.
fn error(db: NonNull<ffi::sqlite3>, rc: c_int) -> StoreError {
    // SAFETY: an open connection; errmsg returns a NUL-terminated string SQLite owns, copied
    // out at once.
    let (code, message) = unsafe {
        let message = ffi::sqlite3_errmsg(db.as_ptr());
        let message =
            if message.is_null() { String::new() } else { CStr::from_ptr(message).to_string_lossy().into_owned() };
        (ffi::sqlite3_extended_errcode(db.as_ptr()), message)
    };
    if code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY {
        StoreError::MissingReference
    } else {
        StoreError::Unavailable(format!("SQLite error {rc} ({code}) storing events: {message}"))
    }
}
