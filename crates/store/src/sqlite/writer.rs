//! The one writer connection and the transactions on it.
//!
//! SQLite takes one writer at a time, so the writer is a single connection behind a fair
//! (first come, first served) lock rather than a pool of one. A pool checks a connection out
//! with a ping and checks it back in from a spawned task with another ping: two round trips to
//! the connection's worker thread and a task per transaction, on the path every write waits on
//! (a flash sale's batches commit back to back). Here a transaction is the lock, `BEGIN
//! IMMEDIATE`, its statements and `COMMIT`; dropped uncommitted, it queues a `ROLLBACK` ahead of
//! the next holder's `BEGIN`.

use std::{
    ops::{Deref, DerefMut},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use sqlx::{
    SqlSafeStr as _, Sqlite, SqliteConnection,
    query::Query,
    sqlite::{SqliteArguments, SqliteRow, SqliteTransactionManager},
};
use sqlx_core::transaction::TransactionManager as _;
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use crate::{StoreError, StoreResult};

/// How long a write waits for the writer before giving up (as the pool's acquire timeout did).
const WAIT: Duration = Duration::from_secs(30);

/// The writer connection; `None` once the database is closed.
#[derive(Clone)]
pub(crate) struct Writer {
    connection: Arc<Mutex<Option<SqliteConnection>>>,
    /// A [whole transaction](Writer::run_whole_transaction) was given up while it ran: it may
    /// have left its transaction open, which the next holder rolls back first.
    unfinished: Arc<AtomicBool>,
}

impl Writer {
    pub(crate) fn new(connection: SqliteConnection) -> Writer {
        Writer { connection: Arc::new(Mutex::new(Some(connection))), unfinished: Arc::default() }
    }

    /// Waits for the writer and holds it (migrations run their own transaction on it).
    pub(crate) async fn hold(&self) -> StoreResult<OwnedMappedMutexGuard<Option<SqliteConnection>, SqliteConnection>> {
        let held = tokio::time::timeout(WAIT, self.connection.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Unavailable("timed out waiting for the SQLite writer".into()))?;
        let mut held = OwnedMutexGuard::try_map(held, Option::as_mut)
            .map_err(|_| StoreError::Unavailable("the database is closed".into()))?;
        if self.unfinished.load(Ordering::Acquire) {
            // Outside a transaction this fails, harmlessly.
            let _ = sqlx::query("ROLLBACK").execute(&mut *held).await;
            self.unfinished.store(false, Ordering::Release);
        }
        Ok(held)
    }

    /// Runs `query`, a whole transaction from `BEGIN IMMEDIATE` to `COMMIT` written as one
    /// query, on the writer: one hand-off to the connection's worker thread instead of one per
    /// statement, `BEGIN` and `COMMIT`. Every statement runs (rows are collected to the end);
    /// on an error the transaction is rolled back, and if this is given up half-way, by the
    /// next holder before anything else.
    pub(crate) async fn run_whole_transaction(
        &self,
        query: Query<'_, Sqlite, SqliteArguments>,
    ) -> StoreResult<Vec<SqliteRow>> {
        let mut connection = self.hold().await?;
        self.unfinished.store(true, Ordering::Release);
        let ran = query.fetch_all(&mut *connection).await;
        if ran.is_err() {
            let _ = sqlx::query("ROLLBACK").execute(&mut *connection).await;
        }
        self.unfinished.store(false, Ordering::Release);
        Ok(ran?)
    }

    /// Waits for the writer and begins a write transaction on it.
    pub(crate) async fn begin(&self) -> StoreResult<WriteTx> {
        // Open before `BEGIN` is sent: if this future is dropped while it runs, the rollback
        // still follows it (a rollback outside a transaction does nothing).
        let mut tx = WriteTx { connection: self.hold().await?, open: true };
        SqliteTransactionManager::begin(&mut tx.connection, Some("BEGIN IMMEDIATE".into_sql_str())).await?;
        Ok(tx)
    }

    /// Closes the connection once the transaction holding it, if any, is done.
    pub(crate) async fn close(&self) {
        if let Some(connection) = self.connection.lock().await.take() {
            let _ = sqlx::Connection::close(connection).await;
        }
    }
}

/// A write transaction, holding the writer until it is committed or dropped.
pub(crate) struct WriteTx {
    connection: OwnedMappedMutexGuard<Option<SqliteConnection>, SqliteConnection>,
    open: bool,
}

impl WriteTx {
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        SqliteTransactionManager::commit(&mut self.connection).await?;
        self.open = false;
        Ok(())
    }
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if self.open {
            // Queued on the connection's worker before the lock passes on, so it runs first.
            SqliteTransactionManager::start_rollback(&mut self.connection);
        }
    }
}

impl Deref for WriteTx {
    type Target = SqliteConnection;

    fn deref(&self) -> &SqliteConnection {
        &self.connection
    }
}

impl DerefMut for WriteTx {
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.connection
    }
}

/// What a [`SqlTx`](super::SqlTx) runs on: a read transaction on a pooled read-only
/// connection, or a write transaction on the writer.
pub(crate) enum Conn {
    Read(sqlx::Transaction<'static, sqlx::Sqlite>),
    Write(WriteTx),
}

impl Conn {
    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Conn::Read(tx) => tx.commit().await,
            Conn::Write(tx) => tx.commit().await,
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
    use std::sync::atomic::Ordering;

    use sqlx::Row as _;

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
        sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut *tx).await.expect("a table");
        tx.commit().await.expect("commit");

        // Fails half-way, after its first insert: rolled back at once.
        let failing = "BEGIN IMMEDIATE; INSERT INTO t VALUES (1); INSERT INTO missing VALUES (1); COMMIT;";
        assert!(db.writer.run_whole_transaction(sqlx::query(failing)).await.is_err());
        assert_eq!(count(&db).await, 0);

        // Given up half-way, its transaction left open: the next holder rolls it back first.
        let mut held = db.writer.hold().await.expect("the writer");
        sqlx::query("BEGIN IMMEDIATE; INSERT INTO t VALUES (2);").execute(&mut *held).await.expect("a row");
        db.writer.unfinished.store(true, Ordering::Release);
        drop(held);
        assert_eq!(count(&db).await, 0);

        let whole = "BEGIN IMMEDIATE; INSERT INTO t VALUES (3); SELECT changes() AS n; COMMIT;";
        let rows = db.writer.run_whole_transaction(sqlx::query(whole)).await.expect("a whole transaction");
        assert_eq!(rows.iter().map(|row| row.get::<i64, _>("n")).collect::<Vec<_>>(), [1]);
        assert_eq!(count(&db).await, 1);
        db.close().await;
    }

    async fn within_50ms<F: std::future::Future + Unpin>(future: &mut F) -> Option<F::Output> {
        tokio::time::timeout(std::time::Duration::from_millis(50), future).await.ok()
    }
}
