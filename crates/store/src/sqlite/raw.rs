//! SQLite's C API on the writer connection's own handle, for the two hot paths where sqlx's
//! per-statement hand-off to its worker thread was most of the cost: event ingest (thousands of
//! single-row inserts per commit) and a flash sale's batch (four statements per batch, each a
//! round trip between threads while every buyer of the batch waits).
//!
//! A [`Statement`] is prepared on a handle locked from sqlx (`lock_handle`), so it runs inside
//! the same transaction as everything else; it binds texts and blobs where they lie
//! (`SQLITE_STATIC`, no copies) and unbinds them after every run, before they can be dropped.
//! Values are written as sqlx writes them (UUIDs as 16-byte blobs, timestamps as RFC 3339
//! text), so rows read back alike whichever path wrote them.

use std::{
    ffi::{CStr, c_int},
    ptr::{self, NonNull},
};

use chrono::SecondsFormat;
use libsqlite3_sys as ffi;

use quanyu_domain::time::Timestamp;

use crate::{StoreError, StoreResult};

/// One value bound to a parameter.
#[derive(Clone, Copy)]
pub(crate) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl<'a> Value<'a> {
    pub(crate) fn text(value: Option<&'a str>) -> Value<'a> {
        value.map_or(Value::Null, Value::Text)
    }

    pub(crate) fn blob(value: Option<&'a [u8]>) -> Value<'a> {
        value.map_or(Value::Null, Value::Blob)
    }
}

/// A prepared statement, finalised on drop.
pub(crate) struct Statement {
    db: NonNull<ffi::sqlite3>,
    statement: NonNull<ffi::sqlite3_stmt>,
    /// Where value `k` (from 0) binds: SQLite numbers a statement's parameters by first
    /// appearance, so the shared SQL's `$3` may be its first parameter.
    positions: Vec<c_int>,
    /// What it does, for errors ("inserting events").
    doing: &'static str,
}

impl Drop for Statement {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared on this handle and is finalised once.
        unsafe { ffi::sqlite3_finalize(self.statement.as_ptr()) };
    }
}

impl Statement {
    /// Prepares `sql` (one statement, with parameters `$1`, `$2`… or `?1`, `?2`… as the shared
    /// SQL writes them) on `db`, an open connection locked for the caller for as long as the
    /// statement lives. `reused`: it will run many times (SQLite then keeps it out of its
    /// short-lived lookaside memory).
    pub(crate) fn prepare(
        db: NonNull<ffi::sqlite3>,
        sql: &str,
        reused: bool,
        doing: &'static str,
    ) -> StoreResult<Statement> {
        let flags = if reused { ffi::SQLITE_PREPARE_PERSISTENT } else { 0 };
        let length =
            c_int::try_from(sql.len()).map_err(|_| StoreError::Unavailable(format!("{doing}: SQL too long")))?;
        let mut statement = ptr::null_mut();
        // SAFETY: `db` is an open connection locked for us; SQLite reads `length` bytes of `sql`.
        let rc = unsafe {
            ffi::sqlite3_prepare_v3(
                db.as_ptr(),
                sql.as_ptr().cast(),
                length,
                flags as _,
                &mut statement,
                ptr::null_mut(),
            )
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, rc, doing));
        }
        let statement = NonNull::new(statement).ok_or_else(|| error(db, rc, doing))?;
        let mut prepared = Statement { db, statement, positions: Vec::new(), doing };
        // SAFETY: a prepared statement; parameter names are NUL-terminated strings it owns.
        let count = unsafe { ffi::sqlite3_bind_parameter_count(statement.as_ptr()) };
        prepared.positions = vec![0; usize::try_from(count).unwrap_or(0)];
        for position in 1..=count {
            let name = unsafe { ffi::sqlite3_bind_parameter_name(statement.as_ptr(), position) };
            let number = (!name.is_null())
                .then(|| unsafe { CStr::from_ptr(name) }.to_str().ok())
                .flatten()
                .and_then(|name| name.get(1..)?.parse::<usize>().ok());
            match number.and_then(|k| prepared.positions.get_mut(k.wrapping_sub(1))) {
                Some(slot) => *slot = position,
                None => return Err(StoreError::Unavailable(format!("{doing}: parameter {position} is not numbered"))),
            }
        }
        Ok(prepared)
    }

    /// Binds `values` to parameters `$1`, `$2`, … and steps the statement to its end, past any
    /// rows it returns: the rows it changed (SQLite's change count: 0 when a guard or
    /// `ON CONFLICT DO NOTHING` held it back).
    pub(crate) fn run(&self, values: &[Value<'_>]) -> StoreResult<u64> {
        let bound = if values.len() == self.positions.len() {
            values.iter().zip(&self.positions).try_for_each(|(value, position)| self.bind(*position, *value))
        } else {
            Err(StoreError::Unavailable(format!(
                "{}: {} values for {} parameters",
                self.doing,
                values.len(),
                self.positions.len()
            )))
        };
        let stepped = bound.and_then(|()| {
            loop {
                // SAFETY: every parameter is bound to memory that outlives this call (see below).
                match unsafe { ffi::sqlite3_step(self.statement.as_ptr()) } {
                    ffi::SQLITE_ROW => continue,
                    ffi::SQLITE_DONE => {
                        // SAFETY: an open connection; the count is of the statement just stepped.
                        break Ok(u64::try_from(unsafe { ffi::sqlite3_changes(self.db.as_ptr()) }).unwrap_or(0));
                    }
                    rc => break Err(error(self.db, rc, self.doing)),
                }
            }
        });
        // SAFETY: resets the statement and unbinds every parameter before the values they
        // point to (borrowed for this call) can be dropped or changed.
        unsafe {
            ffi::sqlite3_reset(self.statement.as_ptr());
            ffi::sqlite3_clear_bindings(self.statement.as_ptr());
        }
        stepped
    }

    fn bind(&self, index: c_int, value: Value<'_>) -> StoreResult<()> {
        let statement = self.statement.as_ptr();
        // SAFETY: SQLITE_STATIC: SQLite reads texts and blobs in place until the bindings are
        // cleared, which `run` does before the borrowed values can be dropped.
        let rc = unsafe {
            match value {
                Value::Null => ffi::sqlite3_bind_null(statement, index),
                Value::Int(n) => ffi::sqlite3_bind_int64(statement, index, n),
                Value::Text(text) => ffi::sqlite3_bind_text64(
                    statement,
                    index,
                    text.as_ptr().cast(),
                    text.len() as u64,
                    ffi::SQLITE_STATIC(),
                    ffi::SQLITE_UTF8 as u8,
                ),
                Value::Blob(bytes) => ffi::sqlite3_bind_blob64(
                    statement,
                    index,
                    bytes.as_ptr().cast(),
                    bytes.len() as u64,
                    ffi::SQLITE_STATIC(),
                ),
            }
        };
        if rc == ffi::SQLITE_OK { Ok(()) } else { Err(error(self.db, rc, self.doing)) }
    }
}

/// A timestamp as sqlx writes it (so it compares and reads back alike), formatted once for a
/// run of values that share it: a request's events share their received time, and most carry
/// no client time of their own.
#[derive(Default)]
pub(crate) struct TimestampText {
    last: Option<(Timestamp, String)>,
}

impl TimestampText {
    pub(crate) fn of(&mut self, at: Timestamp) -> &str {
        if self.last.as_ref().is_none_or(|(last, _)| *last != at) {
            self.last = Some((at, at.to_rfc3339_opts(SecondsFormat::AutoSi, false)));
        }
        self.last.as_ref().map_or("", |(_, text)| text.as_str())
    }
}

/// SQLite's error as the store's, as `From<sqlx::Error>` maps it: a unique key or a missing
/// reference is one; anything else (busy, I/O, full disk) leaves the database unable to take the
/// write.
fn error(db: NonNull<ffi::sqlite3>, rc: c_int, doing: &str) -> StoreError {
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
    } else if code == ffi::SQLITE_CONSTRAINT_UNIQUE || code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY {
        StoreError::Duplicate(crate::error::sqlite_unique_key(&message))
    } else {
        StoreError::Unavailable(format!("SQLite error {rc} ({code}) {doing}: {message}"))
    }
}
