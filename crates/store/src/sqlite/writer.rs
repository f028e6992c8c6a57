//! The one writer connection and the transactions on it.
//!
//! SQLite takes one writer at a time, so the writer is a single connection behind a fair
//! (first come, first served) lock rather than a pool of one. A pool checks a connection out
//! with a ping and checks it back in from a spawned task with another ping: two round trips to
//! the connection's worker thread and a task per transaction, on the path every write waits on
//! (a flash sale's batches commit back to back). Here a transaction is the lock, `BEGIN
//! IMMEDIATE`, its statements and `COMMIT`; dropped uncommitted, it queues a `ROLLBACK` ahead of
//! the next holder's `BEGIN`. Beside the connection, under the same lock, is the in-memory tail
//! of the [anonymous-event index](super::anonymous_index), which a transaction changes only
//! when it commits.

use std::{
    ops::{Deref, DerefMut},
    sync::Arc,
    time::Duration,
};

use sqlx::{
    SqlSafeStr as _, Sqlite, SqliteConnection,
    query::Query,
    sqlite::{SqliteArguments, SqliteRow, SqliteTransactionManager},
};
use sqlx_core::transaction::TransactionManager as _;
use tokio::sync::{Mutex, OwnedMappedMutexGuard, OwnedMutexGuard};

use super::anonymous_index::{Pending, Tail};
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
    pub(crate) connection: SqliteConnection,
    pub(super) anonymous: Tail,
    /// A transaction run in one piece (a [whole transaction](Writer::run_whole_transaction), a
    /// flush of the anonymous-event tail) was given up while it ran: it may have left its
    /// transaction open, which the next holder rolls back first.
    unfinished: bool,
}

impl Writer {
    pub(crate) fn new(connection: SqliteConnection) -> Writer {
        let held = Held { connection, anonymous: Tail::default(), unfinished: false };
        Writer { connection: Arc::new(Mutex::new(Some(held))) }
    }

    /// Waits for the writer and holds it (migrations run their own transaction on it).
    pub(crate) async fn hold(&self) -> StoreResult<OwnedMappedMutexGuard<Option<Held>, Held>> {
        let held = tokio::time::timeout(WAIT, self.connection.clone().lock_owned())
            .await
            .map_err(|_| StoreError::Unavailable("timed out waiting for the SQLite writer".into()))?;
        let mut held = OwnedMutexGuard::try_map(held, Option::as_mut)
            .map_err(|_| StoreError::Unavailable("the database is closed".into()))?;
        if held.unfinished {
            // Outside a transaction this fails, harmlessly.
            let _ = sqlx::query("ROLLBACK").execute(&mut held.connection).await;
            held.unfinished = false;
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
        let mut held = self.hold().await?;
        held.unfinished = true;
        let ran = query.fetch_all(&mut held.connection).await;
        if ran.is_err() {
            let _ = sqlx::query("ROLLBACK").execute(&mut held.connection).await;
        }
        held.unfinished = false;
        Ok(ran?)
    }

    /// Waits for the writer and begins a write transaction on it.
    pub(crate) async fn begin(&self) -> StoreResult<WriteTx> {
        // Open before `BEGIN` is sent: if this future is dropped while it runs, the rollback
        // still follows it (a rollback outside a transaction does nothing).
        let mut tx = WriteTx { held: self.hold().await?, open: true, anonymous: Pending::default() };
        SqliteTransactionManager::begin(&mut tx.held.connection, Some("BEGIN IMMEDIATE".into_sql_str())).await?;
        Ok(tx)
    }

    /// Closes the connection once the transaction holding it, if any, is done.
    pub(crate) async fn close(&self) {
        if let Some(held) = self.connection.lock().await.take() {
            let _ = sqlx::Connection::close(held.connection).await;
        }
    }
}

/// A write transaction, holding the writer until it is committed or dropped.
pub(crate) struct WriteTx {
    held: OwnedMappedMutexGuard<Option<Held>, Held>,
    open: bool,
    /// What this transaction did to the anonymous-event tail, applied when it commits.
    anonymous: Pending,
}

impl WriteTx {
    pub(crate) async fn commit(mut self) -> Result<(), sqlx::Error> {
        SqliteTransactionManager::commit(&mut self.held.connection).await?;
        self.open = false;
        let held = &mut *self.held;
        held.anonymous.apply(std::mem::take(&mut self.anonymous));
        if held.anonymous.wants_flush() {
            // The commit stands whatever happens here: a failed flush leaves the tail to the next.
            if let Err(err) = flush_anonymous_tail(held).await {
                tracing::warn!(error = %err, "could not index anonymous events; retrying at the next commit");
            }
        }
        Ok(())
    }

    /// The connection, the anonymous-event tail and this transaction's changes to it.
    pub(crate) fn parts(&mut self) -> (&mut SqliteConnection, &mut Tail, &mut Pending) {
        let held = &mut *self.held;
        (&mut held.connection, &mut held.anonymous, &mut self.anonymous)
    }
}

/// Writes the anonymous-event tail to its index in a transaction of its own (left open only if
/// this is given up half-way, for the next holder to roll back).
async fn flush_anonymous_tail(held: &mut Held) -> StoreResult<()> {
    held.unfinished = true;
    let connection = &mut held.connection;
    SqliteTransactionManager::begin(connection, Some("BEGIN IMMEDIATE".into_sql_str())).await?;
    let flushed = match connection.lock_handle().await {
        Ok(mut handle) => held.anonymous.flush(handle.as_raw_handle()),
        Err(err) => Err(err.into()),
    };
    let done = match flushed {
        Ok(()) => SqliteTransactionManager::commit(connection).await.map_err(StoreError::from),
        Err(err) => Err(err),
    };
    match done {
        Ok(()) => held.anonymous.flushed(),
        Err(_) => {
            let _ = SqliteTransactionManager::rollback(connection).await;
        }
    }
    held.unfinished = false;
    done
}

impl Drop for WriteTx {
    fn drop(&mut self) {
        if self.open {
            // Queued on the connection's worker before the lock passes on, so it runs first.
            SqliteTransactionManager::start_rollback(&mut self.held.connection);
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
    fn deref_mut(&mut self) -> &mut SqliteConnection {
        &mut self.held.connection
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

    /// The parts of a write transaction (see [`WriteTx::parts`]); a read transaction cannot write.
    pub(crate) fn writing(&mut self) -> StoreResult<(&mut SqliteConnection, &mut Tail, &mut Pending)> {
        match self {
            Conn::Write(tx) => Ok(tx.parts()),
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
        sqlx::query("BEGIN IMMEDIATE; INSERT INTO t VALUES (2);").execute(&mut held.connection).await.expect("a row");
        held.unfinished = true;
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
