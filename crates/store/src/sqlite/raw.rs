//! Statements on a connection's own SQLite handle, through the C API: the few hot paths where
//! sqlx's per-statement hand-off to its worker thread and its copies of every argument were
//! most of the time (on the writer: event ingest, the anonymous-event index it keeps, a flash
//! sale's batches, `BEGIN` and `COMMIT`; on a reader: the full scores rebuild's whole-table
//! reads, [`scan`](super::scan)). The handle is sqlx's, locked from its worker thread (by the
//! [writer](super::writer), or by a scan for its duration), so these statements run in the same
//! transaction as everything else.

use std::{
    ffi::{CStr, c_char, c_int},
    ptr::{self, NonNull},
};

use chrono::SecondsFormat;
use libsqlite3_sys as ffi;
use quanyu_domain::time::Timestamp;

use super::sql::Param;
use crate::{StoreError, StoreResult};

/// A prepared statement, finalised on drop. Parameters are bound to borrowed memory
/// (`SQLITE_STATIC`); every run ends with [`Statement::reset`], which unbinds them, so no
/// binding outlives what it points to.
pub(super) struct Statement {
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
    /// `sql`'s first statement, prepared.
    pub(super) fn prepare(db: NonNull<ffi::sqlite3>, sql: &CStr) -> StoreResult<Statement> {
        // SAFETY: the start of `sql`, a NUL-terminated string that outlives the call.
        let (statement, _) = unsafe { prepare_next(db, sql.as_ptr()) }?;
        statement.ok_or_else(|| StoreError::Unavailable(format!("no statement in {sql:?}")))
    }

    /// Steps once: `true` when a row is current, `false` when the statement is done.
    ///
    /// # Safety
    /// Every bound parameter must still point to live memory.
    pub(super) unsafe fn step(&self) -> StoreResult<bool> {
        // SAFETY: as the caller promises.
        match unsafe { ffi::sqlite3_step(self.statement.as_ptr()) } {
            ffi::SQLITE_ROW => Ok(true),
            ffi::SQLITE_DONE => Ok(false),
            rc => Err(error(self.db, rc)),
        }
    }

    /// Rows changed by the statement just stepped.
    pub(super) fn changes(&self) -> u64 {
        // SAFETY: an open connection; the count is of its last statement.
        u64::try_from(unsafe { ffi::sqlite3_changes(self.db.as_ptr()) }).unwrap_or(0)
    }

    /// The rowid of the row the connection inserted last.
    pub(super) fn last_insert_rowid(&self) -> i64 {
        // SAFETY: an open connection.
        unsafe { ffi::sqlite3_last_insert_rowid(self.db.as_ptr()) }
    }

    /// A column of the current row, as bytes.
    ///
    /// # Safety
    /// A row must be current, and the bytes are valid only until the next step or reset.
    pub(super) unsafe fn column(&self, index: c_int) -> &[u8] {
        // SAFETY: as the caller promises.
        unsafe {
            let bytes = ffi::sqlite3_column_blob(self.statement.as_ptr(), index).cast::<u8>();
            let len = usize::try_from(ffi::sqlite3_column_bytes(self.statement.as_ptr(), index)).unwrap_or(0);
            if bytes.is_null() { &[] } else { std::slice::from_raw_parts(bytes, len) }
        }
    }

    /// Whether a column of the current row is NULL.
    pub(super) fn is_null(&self, index: c_int) -> bool {
        // SAFETY: a prepared statement; SQLite answers NULL when no row is current.
        unsafe { ffi::sqlite3_column_type(self.statement.as_ptr(), index) == ffi::SQLITE_NULL }
    }

    /// An integer column of the current row (0 for NULL).
    pub(super) fn column_int(&self, index: c_int) -> i64 {
        // SAFETY: a prepared statement; SQLite answers 0 when no row is current.
        unsafe { ffi::sqlite3_column_int64(self.statement.as_ptr(), index) }
    }

    /// Resets the statement and unbinds every parameter, before the memory they point to can
    /// be dropped or changed.
    pub(super) fn reset(&self) {
        // SAFETY: a prepared statement of an open connection.
        unsafe {
            ffi::sqlite3_reset(self.statement.as_ptr());
            ffi::sqlite3_clear_bindings(self.statement.as_ptr());
        }
    }

    pub(super) fn text(&self, index: c_int, value: Option<&str>) -> StoreResult<()> {
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
        self.bound(rc)
    }

    pub(super) fn blob(&self, index: c_int, value: Option<&[u8]>) -> StoreResult<()> {
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
        self.bound(rc)
    }

    pub(super) fn int(&self, index: c_int, value: i64) -> StoreResult<()> {
        // SAFETY: a prepared statement; an integer is copied.
        self.bound(unsafe { ffi::sqlite3_bind_int64(self.statement.as_ptr(), index, value) })
    }

    /// Binds each `$n` parameter to `params[n - 1]`, and each other (`?`) to the value at its
    /// position.
    pub(super) fn bind(&self, params: &[Value<'_>]) -> StoreResult<()> {
        // SAFETY: a prepared statement.
        let count = unsafe { ffi::sqlite3_bind_parameter_count(self.statement.as_ptr()) };
        for index in 1..=count {
            // SAFETY: `index` is in range; the name is NUL-terminated and SQLite's, read at once.
            let name = unsafe { ffi::sqlite3_bind_parameter_name(self.statement.as_ptr(), index) };
            let name = if name.is_null() { None } else { unsafe { CStr::from_ptr(name) }.to_str().ok() };
            let number = match name.and_then(|name| name.strip_prefix('$')) {
                Some(n) => n.parse::<usize>().ok(),
                None => usize::try_from(index).ok(),
            };
            let value = number
                .and_then(|n| params.get(n.wrapping_sub(1)))
                .ok_or_else(|| StoreError::Unavailable(format!("no value for the parameter {name:?}")))?;
            match *value {
                Value::Null => self.text(index, None)?,
                Value::Int(n) => self.int(index, n)?,
                Value::Text(text) => self.text(index, Some(text))?,
                Value::Blob(bytes) => self.blob(index, Some(bytes))?,
            }
        }
        Ok(())
    }

    fn bound(&self, rc: c_int) -> StoreResult<()> {
        if rc == ffi::SQLITE_OK { Ok(()) } else { Err(error(self.db, rc)) }
    }
}

/// Statements prepared once on a connection and kept for its life: the writer's hot statements
/// (an ingest commit's insert and look-ups, the anonymous-event index's, a flash sale's batch
/// script), which were prepared again for every transaction (2.3 % of the server's CPU under
/// ingest, `perf`). Keyed by the address of their SQL, a constant. Whoever keeps them finalises
/// them (drops this) before the connection closes.
#[derive(Default)]
pub(crate) struct Statements {
    /// Each SQL text with its statements, in order.
    prepared: Vec<(&'static CStr, Vec<Statement>)>,
}

// SAFETY: the statements are used only by the holder of the writer (under its lock, on the
// connection they were prepared on, one thread at a time), as the connection itself is.
unsafe impl Send for Statements {}

impl Statements {
    /// `sql`, one statement, prepared on `db` the first time it is asked for on this connection.
    pub(super) fn get(&mut self, db: NonNull<ffi::sqlite3>, sql: &'static CStr) -> StoreResult<&Statement> {
        self.script(db, sql)?.first().ok_or_else(|| StoreError::Unavailable(format!("no statement in {sql:?}")))
    }

    /// Each statement of `sql` in turn, prepared on `db` the first time it is asked for on this
    /// connection (for [`run_script`]).
    pub(super) fn script(&mut self, db: NonNull<ffi::sqlite3>, sql: &'static CStr) -> StoreResult<&[Statement]> {
        let at = match self.prepared.iter().position(|(kept, _)| kept.as_ptr() == sql.as_ptr()) {
            Some(at) => at,
            None => {
                self.prepared.push((sql, prepare_all(db, sql)?));
                self.prepared.len() - 1
            }
        };
        Ok(&self.prepared[at].1)
    }
}

/// Each statement of `sql` in turn, prepared.
fn prepare_all(db: NonNull<ffi::sqlite3>, sql: &CStr) -> StoreResult<Vec<Statement>> {
    let (mut rest, mut all) = (sql.as_ptr(), Vec::new());
    loop {
        // SAFETY: `rest` is the start of `sql` or where SQLite said the statement before it ended,
        // inside `sql`, a NUL-terminated string that outlives the loop.
        match unsafe { prepare_next(db, rest) }? {
            (Some(statement), tail) => {
                all.push(statement);
                rest = tail;
            }
            (None, _) => return Ok(all),
        }
    }
}

/// The statement that begins at `at`, prepared (`None` if only blanks are left), and where the
/// text after it begins.
///
/// # Safety
/// `at` points into a NUL-terminated string that outlives the call.
unsafe fn prepare_next(
    db: NonNull<ffi::sqlite3>,
    at: *const c_char,
) -> StoreResult<(Option<Statement>, *const c_char)> {
    let (mut statement, mut tail) = (ptr::null_mut(), ptr::null());
    // SAFETY: `db` is an open connection locked for us; `at` is as the caller promises.
    let rc = unsafe {
        ffi::sqlite3_prepare_v3(db.as_ptr(), at, -1, ffi::SQLITE_PREPARE_PERSISTENT, &mut statement, &mut tail)
    };
    if rc != ffi::SQLITE_OK {
        return Err(error(db, rc));
    }
    Ok((NonNull::new(statement).map(|statement| Statement { db, statement }), tail))
}

/// A parameter's value, bound where it lies (`SQLITE_STATIC`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Value<'a> {
    Null,
    Int(i64),
    Text(&'a str),
    Blob(&'a [u8]),
}

impl<'a> Value<'a> {
    pub(super) fn blob_or_null(bytes: Option<&'a [u8]>) -> Value<'a> {
        bytes.map_or(Value::Null, Value::Blob)
    }

    pub(super) fn text_or_null(text: Option<&'a str>) -> Value<'a> {
        text.map_or(Value::Null, Value::Text)
    }
}

/// The values `params` are bound as through the C API: ids as 16-byte blobs, times as text as
/// sqlx writes them (so that they compare and read back alike); handed to `bind`.
pub(super) fn with_values<R>(params: &[Param<'_>], bind: impl FnOnce(&[Value<'_>]) -> R) -> R {
    let times: Vec<String> = params
        .iter()
        .map(|param| match param {
            Param::At(at) => timestamp(*at),
            _ => String::new(),
        })
        .collect();
    let values: Vec<Value<'_>> = params
        .iter()
        .zip(&times)
        .map(|(param, time)| match param {
            Param::Uuid(id) => Value::blob_or_null(id.as_ref().map(|id| id.as_bytes().as_slice())),
            Param::Int(n) => Value::Int(*n),
            Param::Bytes(bytes) => Value::Blob(bytes),
            Param::Text(text) => Value::text_or_null(*text),
            Param::At(_) => Value::Text(time),
        })
        .collect();
    bind(&values)
}

/// Runs `statements` one after another (a script prepared with [`Statements::script`]), each
/// `$n` parameter bound to `params[n - 1]`; returns the first column of the last row any
/// statement answered.
pub(super) fn run_script(statements: &[Statement], params: &[Value<'_>]) -> StoreResult<Option<i64>> {
    let mut last = None;
    for statement in statements {
        let ran = statement.bind(params).and_then(|()| {
            // SAFETY: every parameter is bound to `params`, which outlives the statement's run
            // (reset below; the next run binds every parameter again).
            while unsafe { statement.step() }? {
                last = Some(statement.column_int(0));
            }
            Ok(())
        });
        statement.reset();
        ran?;
    }
    Ok(last)
}

/// Runs `sql`, statements without parameters or rows (`BEGIN IMMEDIATE`, `COMMIT`).
pub(super) fn exec(db: NonNull<ffi::sqlite3>, sql: &CStr) -> StoreResult<()> {
    // SAFETY: `db` is an open connection locked for us; `sql` is a NUL-terminated string; no
    // callback, and SQLite's own error message is not asked for (`error` reads it).
    let rc = unsafe { ffi::sqlite3_exec(db.as_ptr(), sql.as_ptr(), None, ptr::null_mut(), ptr::null_mut()) };
    if rc == ffi::SQLITE_OK { Ok(()) } else { Err(error(db, rc)) }
}

/// Whether the connection is inside a transaction.
pub(super) fn in_transaction(db: NonNull<ffi::sqlite3>) -> bool {
    // SAFETY: an open connection.
    unsafe { ffi::sqlite3_get_autocommit(db.as_ptr()) == 0 }
}

/// A timestamp as sqlx writes it, so that it compares and reads back alike.
pub(super) fn timestamp(at: Timestamp) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, false)
}

/// A stored value that does not read back as what was written.
pub(super) fn corrupt(what: &str, err: &dyn std::fmt::Display) -> StoreError {
    StoreError::Unavailable(format!("{what} does not read back: {err}"))
}

/// SQLite's error as the store's: a missing reference is one, anything else (busy, I/O, full
/// disk) leaves the database unable to take the write.
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
        StoreError::Unavailable(format!("SQLite error {rc} ({code}): {message}"))
    }
}
