//! The one writer connection and the transactions on it.
//!
//! SQLite takes one writer at a time, so the writer is a single connection behind a fair
//! (first come, first served) lock rather than a pool of one. A pool checks a connection out
//! with a ping and checks it back in from a spawned task with another ping: two round trips to
//! the connection's worker thread and a task per transaction, on the path every write waits on
//! (a flash sale's batches commit back to back).
//!
//! A transaction is the lock and the connection's own SQLite handle, taken from sqlx's worker
//! thread ([`LockedSqliteHandle`]) and kept between transactions: `BEGIN IMMEDIATE`, the
//! statements run on the handle directly (event ingest, the anonymous-event index) and
//! `COMMIT` all run on the caller's thread, so a transaction of only those hands nothing to the
//! worker, where each statement, `BEGIN` and `COMMIT` was a round trip (a wait for a core, on a
//! busy machine). A statement run through sqlx gives the handle back to the worker first; the
//! next statement on the handle takes it again. Dropped uncommitted, a transaction is rolled
//! back at once if it holds the handle, otherwise by the writer's next holder (or a task that
//! takes the writer for just that) before anything else runs.
//!
//! Beside the connection, under the same lock, are the statements kept prepared on its handle
//! ([`Statements`]: ingest's and the anonymous-event index's, finalised before the connection
//! closes) and the in-memory tail of the [anonymous-event index](super::anonymous_index), which a
//! transaction changes only when it commits.

use std::{
    ffi::CStr,
    ops::{Deref, DerefMut},
    ptr::NonNull,
    sync::Arc,
    time::Duration,
};

use libsqlite3_sys as ffi;
use sqlx::{SqliteConnection, sqlite::LockedSqliteHandle};
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use super::{
    anonymous_index::{Pending, Tail},
    raw::{self, Statements},
    sql::Param,
};
use crate::{StoreError, StoreResult};

/// How long a write waits for the writer before giving up (as the pool's acquire timeout did).
const WAIT: Duration = Duration::from_secs(30);

/// The writer connection; `None` once the database is closed.
#[derive(Clone)]
pub(crate) struct Writer {
    connection: Arc<Mutex<Option<Held>>>,
}

/// What holding the writer gives: its connection, and the anonymous-event tail.
pub(crate) struct Held {
    /// Statements kept prepared on the handle (ingest's, the anonymous-event index's).
    /// Declared first, so finalised before the handle and the connection are dropped.
    statements: Statements,
    /// The connection's handle while statements run on it directly, locked from sqlx's worker
    /// (see [`Held::handle`]). Declared before the connection, so dropped first.
    handle: Option<LockedSqliteHandle<'static>>,
    connection: SqliteConnection,
    pub(super) anonymous: Tail,
    /// A transaction was left open by a holder that gave it up (a dropped [`WriteTx`]): the
    /// next holder rolls it back first.
    unfinished: bool,
}

impl Writer {
    pub(crate) fn new(connection: SqliteConnection) -> Writer {
        let held = Held {
            statements: Statements::default(),
            handle: None,
            connection,
            anonymous: Tail::default(),
            unfinished: false,
        };
        Writer { connection: Arc::new(Mutex::new(Some(held))) }
    }

    /// Waits for the writer.
    async fn lock(&self) -> StoreResult<OwnedMappedMutexGuard<Option<Held>, Held>> {
        let held = tokio::time::timeout(WAIT, self.connection.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Unavailable("timed out waiting for the SQLite writer".into()))?;
        OwnedMutexGuard::try_map(held, Option::as_mut)
            .map_err(|_| StoreError::Unavailable("the database is closed".into()))
    }

    /// Waits for the writer and holds it, any transaction left open rolled back (migrations
    /// run their own transaction on it).
    pub(crate) async fn hold(&self) -> StoreResult<OwnedMappedMutexGuard<Option<Held>, Held>> {
        let mut held = self.lock().await?;
        held.ready_handle().await?;
        Ok(held)
    }

    /// Runs `script`, a whole transaction from `BEGIN IMMEDIATE` to `COMMIT` ([`raw::run_script`]),
    /// on the writer's handle, its statements prepared once and kept; returns the first column
    /// of its last row. On an error the transaction is rolled back. Nothing here waits once the
    /// handle is taken, so it cannot be given up half-way.
    pub(crate) async fn run_whole_transaction(
        &self,
        script: &'static CStr,
        params: &[Param<'_>],
    ) -> StoreResult<Option<i64>> {
        let mut held = self.lock().await?;
        let db = held.ready_handle().await?;
        let ran = held
            .statements
            .script(db, script)
            .and_then(|statements| raw::with_values(params, |values| raw::run_script(statements, values)));
        if ran.is_err() {
            held.roll_back(db);
        }
        ran
    }

    /// Waits for the writer and begins a write transaction on it (with whatever a previous
    /// holder left open rolled back first, on the same hand-off).
    pub(crate) async fn begin(&self) -> StoreResult<WriteTx> {
        let mut tx =
            WriteTx { held: self.lock().await?, writer: self.clone(), open: false, anonymous: Pending::default() };
        let db = tx.held.ready_handle().await?;
        raw::exec(db, c"BEGIN IMMEDIATE")?;
        tx.open = true;
        tx.held.unfinished = true;
        Ok(tx)
    }

    /// Closes the connection once the transaction holding it, if any, is done.
    pub(crate) async fn close(&self) {
        if let Some(mut held) = self.connection.lock().await.take() {
            held.statements = Statements::default();
            held.handle = None;
            let _ = sqlx::Connection::close(held.connection).await;
        }
    }
}

impl Held {
    /// The connection, for statements through sqlx: the handle goes back to sqlx's worker first.
    pub(crate) fn connection(&mut self) -> &mut SqliteConnection {
        self.handle = None;
        &mut self.connection
    }

    /// The connection's own handle, for statements on the caller's thread. Taking it from
    /// sqlx's worker is a round trip; it stays taken, across transactions, until a statement
    /// goes through sqlx ([`Held::connection`]).
    async fn handle(&mut self) -> StoreResult<NonNull<ffi::sqlite3>> {
        if self.handle.is_none() {
            let handle = self.connection.lock_handle().await?;
            // SAFETY: only the lifetime changes. The handle borrows sqlx's lock on the state the
            // connection shares with its worker thread (behind an `Arc` of the connection's),
            // which the connection keeps alive. The handle is dropped before the connection
            // (field order; `close` drops it first) and before the connection is used in any
            // other way (`connection` drops it): it never outlives the connection, and is never
            // alive beside another use of it.
            let handle = unsafe { std::mem::transmute::<LockedSqliteHandle<'_>, LockedSqliteHandle<'static>>(handle) };
            self.handle = Some(handle);
        }
        match self.handle.as_mut() {
            Some(handle) => Ok(handle.as_raw_handle()),
            None => Err(StoreError::Unavailable("the SQLite writer's handle is not locked".into())),
        }
    }

    /// The handle, with whatever a previous holder left open rolled back first.
    async fn ready_handle(&mut self) -> StoreResult<NonNull<ffi::sqlite3>> {
        let db = self.handle().await?;
        if self.unfinished {
            self.roll_back(db);
        }
        Ok(db)
    }

    /// Rolls back on the handle (outside a transaction this fails, harmlessly); if the
    /// transaction is somehow still open, the next holder tries again.
    fn roll_back(&mut self, db: NonNull<ffi::sqlite3>) {
        let _ = raw::exec(db, c"ROLLBACK");
        self.unfinished = raw::in_transaction(db);
    }
}

/// A write transaction, holding the writer until it is committed or dropped.
pub(crate) struct WriteTx {
    held: OwnedMappedMutexGuard<Option<Held>, Held>,
    /// The writer, for a task to roll back what this leaves open.
    writer: Writer,
    open: bool,
    /// What this transaction did to the anonymous-event tail, applied when it commits.
    anonymous: Pending,
}

impl WriteTx {
    /// Commits on the connection's handle; then, if the anonymous-event tail has grown enough,
    /// writes a chunk of it to its index in a transaction of its own (see [`Tail::flush`]).
    pub(crate) async fn commit(mut self) -> StoreResult<()> {
        let db = self.held.handle().await?;
        // Refused (a full disk), the transaction stays open and is rolled back on drop.
        raw::exec(db, c"COMMIT")?;
        self.open = false;
        let held = &mut *self.held;
        held.unfinished = false;
        held.anonymous.apply(std::mem::take(&mut self.anonymous));
        if held.anonymous.wants_flush() {
            // The commit stands whatever happens here: a failed flush leaves the tail to the next.
            if let Err(err) = flush_anonymous_tail(db, held) {
                tracing::warn!(error = %err, "could not index anonymous events; retrying at the next commit");
            }
        }
        Ok(())
    }

    /// The connection's handle, the statements kept on it, the anonymous-event tail and this
    /// transaction's changes to it.
    pub(crate) async fn parts(&mut self) -> StoreResult<Parts<'_>> {
        let db = self.held.handle().await?;
        let held = &mut *self.held;
        Ok(Parts { db, statements: &mut held.statements, tail: &mut held.anonymous, pending: &mut self.anonymous })
    }
}

/// What a write transaction's statements on the handle work with ([`WriteTx::parts`]).
pub(crate) struct Parts<'a> {
    pub(super) db: NonNull<ffi::sqlite3>,
    pub(super) statements: &'a mut Statements,
    pub(super) tail: &'a mut Tail,
    pub(super) pending: &'a mut Pending,
}

/// Writes the next chunk of the anonymous-event tail to its index in a transaction of its own.
fn flush_anonymous_tail(db: NonNull<ffi::sqlite3>, held: &mut Held) -> StoreResult<()> {
    raw::exec(db, c"BEGIN IMMEDIATE")?;
    let done = held.anonymous.flush(db, &mut held.statements).and_then(|()| raw::exec(db, c"COMMIT"));
    match done {
        Ok(()) => held.anonymous.flushed(),
        Err(_) => held.roll_back(db),
    }
    done
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        if let Some(db) = self.held.handle.as_mut().map(LockedSqliteHandle::as_raw_handle) {
            // The handle is ours: rolled back here and now.
            self.held.roll_back(db);
        } else if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            // Left for the writer's next holder (`unfinished`); if nobody is waiting, this task
            // is next, and rolls it back once this guard is released.
            let writer = self.writer.clone();
            runtime.spawn(async move {
                let _ = writer.hold().await;
            });
        }
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.held.connection
    }
}

impl DerefMut for WriteTx {
    /// The connection, for statements through sqlx: the handle goes back to sqlx's worker first.
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        self.held.connection()
    }
}

/// What a [`SqlTx`](super::SqlTx) runs on: a read transaction on a pooled read-only
/// connection, or a write transaction on the writer.
pub(crate) enum Conn {
    Read(sqlx::Transaction<'static, sqlx::Sqlite>),
    Write(WriteTx),
}

impl Conn {
    pub(crate) async fn commit(self) -> StoreResult<()> {
        match self {
            Conn::Read(tx) => Ok(tx.commit().await?),
            Conn::Write(tx) => tx.commit().await,
        }
    }

    /// The parts of a write transaction (see [`WriteTx::parts`]); a read transaction cannot write.
    pub(crate) async fn writing(&mut self) -> StoreResult<Parts<'_>> {
        match self {
            Conn::Write(tx) => tx.parts().await,
            Conn::Read(_) => Err(StoreError::Unavailable("a read transaction cannot write".into())),
        }
    }
}

impl Deref for Conn {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        match self {
            Conn::Read(tx) => tx,
            Conn::Write(tx) => tx,
        }
    }
}

impl DerefMut for Conn {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        match self {
            Conn::Read(tx) => tx,
            Conn::Write(tx) => tx,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Param;
    use crate::{Database as _, SqliteDatabase, SqliteDurability};

    async fn count(db: &SqliteDatabase) -> i64 {
        let mut tx = db.writer.begin().await.expect("a write transaction");
        let n = sqlx::query_scalar("SELECT count(*) FROM t").fetch_one(&mut *tx).await.expect("a count");
        tx.commit().await.expect("commit");
        n
    }

    #[tokio::test]
    async fn a_dropped_transaction_is_rolled_back_before_the_next_one_begins() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db =
            SqliteDatabase::open(&dir.path().join("w.db"), SqliteDurability::Normal).await.expect("opening SQLite");
        let mut tx = db.writer.begin().await.expect("a write transaction");
        sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut *tx).await.expect("a table");
        sqlx::query("INSERT INTO t VALUES (1)").execute(&mut *tx).await.expect("a row");
        tx.commit().await.expect("commit");

        let mut dropped = db.writer.begin().await.expect("a write transaction");
        sqlx::query("INSERT INTO t VALUES (2)").execute(&mut *dropped).await.expect("a row");
        drop(dropped);
        assert_eq!(count(&db).await, 1, "the dropped insert is gone");

        // A write given up while it waits for the writer leaves the writer usable.
        let waiting = db.writer.hold().await.expect("the writer");
        let mut begin = Box::pin(db.writer.begin());
        assert!(within_50ms(&mut begin).await.is_none(), "begin waits for the writer");
        drop(begin);
        drop(waiting);
        assert_eq!(count(&db).await, 1);
        db.close().await;
    }

    #[tokio::test]
    async fn a_whole_transaction_that_fails_or_is_given_up_leaves_nothing_behind() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db =
            SqliteDatabase::open(&dir.path().join("w.db"), SqliteDurability::Normal).await.expect("opening SQLite");
        let mut tx = db.writer.begin().await.expect("a write transaction");
        sqlx::query("CREATE TABLE t (n INTEGER NOT NULL)").execute(&mut *tx).await.expect("a table");
        tx.commit().await.expect("commit");

        // Fails half-way, after its first insert, as a statement is compiled or as it runs:
        // rolled back at once.
        let failing = c"BEGIN IMMEDIATE; INSERT INTO t VALUES (1); INSERT INTO missing VALUES (1); COMMIT;";
        assert!(db.writer.run_whole_transaction(failing, &[]).await.is_err());
        let failing = c"BEGIN IMMEDIATE; INSERT INTO t VALUES ($1); INSERT INTO t VALUES ($2); COMMIT;";
        let params = [Param::Int(1), Param::Text(None)];
        assert!(db.writer.run_whole_transaction(failing, &params).await.is_err());
        assert_eq!(count(&db).await, 0);

        // Given up half-way, its transaction left open: the next holder rolls it back first.
        let mut held = db.writer.hold().await.expect("the writer");
        sqlx::query("BEGIN IMMEDIATE; INSERT INTO t VALUES (2);").execute(held.connection()).await.expect("a row");
        held.unfinished = true;
        drop(held);
        assert_eq!(count(&db).await, 0);

        // Parameters by number, each bound wherever it appears; the last row's first column.
        let whole = c"BEGIN IMMEDIATE; INSERT INTO t VALUES ($2); INSERT INTO t SELECT $1 + $2 WHERE changes() = 1; \
            SELECT changes(), 0; COMMIT;";
        let params = [Param::Int(4), Param::Int(3)];
        assert_eq!(db.writer.run_whole_transaction(whole, &params).await.expect("a whole transaction"), Some(1));
        assert_eq!(count(&db).await, 2);
        let mut tx = db.writer.begin().await.expect("a write transaction");
        let sum: i64 = sqlx::query_scalar("SELECT sum(n) FROM t").fetch_one(&mut *tx).await.expect("a sum");
        assert_eq!(sum, 10);
        drop(tx);
        db.close().await;
    }

    /// Whether another connection (another process, say) could write now: nothing holds
    /// SQLite's write lock.
    async fn writable_from_outside(path: &std::path::Path) -> bool {
        use sqlx::Connection as _;
        let mut other =
            sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.expect("a connection");
        sqlx::query("PRAGMA busy_timeout = 0").execute(&mut other).await.expect("no waiting");
        let began = sqlx::query("BEGIN IMMEDIATE").execute(&mut other).await.is_ok();
        if began {
            sqlx::query("ROLLBACK").execute(&mut other).await.expect("a rollback");
        }
        other.close().await.expect("closed");
        began
    }

    #[tokio::test]
    async fn a_transaction_given_up_lets_go_of_the_write_lock_with_nobody_else_waiting() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("w.db");
        let db = SqliteDatabase::open(&path, SqliteDurability::Normal).await.expect("opening SQLite");
        let mut tx = db.writer.begin().await.expect("a write transaction");
        sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut *tx).await.expect("a table");
        tx.commit().await.expect("commit");

        // Statements on the handle only: rolled back as it is dropped.
        let mut tx = db.writer.begin().await.expect("a write transaction");
        let handle = tx.parts().await.expect("the handle").db;
        super::raw::exec(handle, c"INSERT INTO t VALUES (1)").expect("a row");
        assert!(!writable_from_outside(&path).await, "the transaction holds the write lock");
        drop(tx);
        assert!(!db.writer.lock().await.expect("the writer").unfinished);
        assert!(writable_from_outside(&path).await, "rolled back at once");

        // A statement through sqlx gave the handle back: a task rolls it back.
        let mut tx = db.writer.begin().await.expect("a write transaction");
        sqlx::query("INSERT INTO t VALUES (2)").execute(&mut *tx).await.expect("a row");
        drop(tx);
        let mut rolled_back = false;
        for _ in 0..100 {
            if writable_from_outside(&path).await {
                rolled_back = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert!(rolled_back, "the write lock is let go without another write");
        assert_eq!(count(&db).await, 0);

        // Handle, then sqlx, then the handle again, then commit: one transaction, all of it.
        let mut tx = db.writer.begin().await.expect("a write transaction");
        let handle = tx.parts().await.expect("the handle").db;
        super::raw::exec(handle, c"INSERT INTO t VALUES (3)").expect("a row");
        sqlx::query("INSERT INTO t VALUES (4)").execute(&mut *tx).await.expect("a row");
        let handle = tx.parts().await.expect("the handle").db;
        super::raw::exec(handle, c"INSERT INTO t VALUES (5)").expect("a row");
        tx.commit().await.expect("commit");
        assert_eq!(count(&db).await, 3);
        assert!(writable_from_outside(&path).await);
        db.close().await;
    }

    #[tokio::test]
    async fn a_statement_kept_on_the_handle_serves_every_transaction_until_the_writer_closes() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let db =
            SqliteDatabase::open(&dir.path().join("w.db"), SqliteDurability::Normal).await.expect("opening SQLite");
        let mut tx = db.writer.begin().await.expect("a write transaction");
        sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut *tx).await.expect("a table");
        tx.commit().await.expect("commit");
        for n in 1..=3 {
            let mut tx = db.writer.begin().await.expect("a write transaction");
            let parts = tx.parts().await.expect("the handle");
            let insert = parts.statements.get(parts.db, c"INSERT INTO t VALUES (?1)").expect("prepared");
            // SAFETY: an integer is copied as it is bound.
            let done = insert.int(1, n).and_then(|()| unsafe { insert.step() });
            insert.reset();
            done.expect("a row");
            if n == 2 {
                // The handle goes back to sqlx's worker and is taken again: the statement stays.
                sqlx::query("INSERT INTO t VALUES (10)").execute(&mut *tx).await.expect("a row");
            }
            tx.commit().await.expect("commit");
        }
        assert_eq!(count(&db).await, 4);
        db.close().await;
    }

    async fn within_50ms<F: std::future::Future + Unpin>(future: &mut F) -> Option<F::Output> {
        tokio::time::timeout(std::time::Duration::from_millis(50), future).await.ok()
    }
}
