//! The SQLite adapter: the embedded default.
//!
//! One file in WAL mode. Writes go through the one writer connection, in turn ([`writer`]), and
//! start with `BEGIN IMMEDIATE`, so a write transaction holds the write lock from its first statement and
//! never fails half-way with "database is locked". Reads use a pool of read-only connections,
//! which WAL lets run beside the writer. `synchronous=NORMAL` (the default) survives a crash of
//! the process; `FULL` also survives a power loss.

use std::{ffi::CStr, path::Path, str::FromStr as _, time::Duration};

use sqlx::{
    ConnectOptions as _, Row as _,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
};

use self::{
    checkpoint::Checkpointer,
    writer::{Conn, Writer},
};
use crate::{
    AppliedMigration, Backend, Database, LogicalSchema, StoreError, StoreResult, Tx,
    migrate::{self, LogicalColumn},
};

pub(crate) type Db = sqlx::Sqlite;

/// Dynamically sized statements use anonymous `?` placeholders here: SQLite finds a numbered
/// parameter's name by a linear scan, which made a 4,000-parameter batch insert quadratic.
pub(crate) const NUMBERED_PLACEHOLDERS: bool = false;

/// Written after a table in `FROM` to read it whole, in storage order, rather than through an
/// index: for the full rebuild's reads of half of `orders` or more, SQLite's planner takes a
/// partial index on paid orders and then reads a table page per row (12x slower, measured on
/// 10M orders). PostgreSQL's planner scans by itself.
pub(crate) const WHOLE_TABLE: &str = "NOT INDEXED";

/// The audience-change log's cursor is its last sequence number: one writer at a time, so every
/// entry at or below it is committed, and every later one is numbered above it.
pub(crate) const AUDIENCE_CURSOR: &str = "SELECT COALESCE(MAX(seq), 0) FROM audience_changes";

impl SqlTx {
    /// The customers changed after the cursor up to `next` (at most `most`); no transactions
    /// to remember: sequence order is commit order here.
    pub(crate) async fn audience_changes_to(
        &mut self,
        cursor: &crate::AudienceCursor,
        next: i64,
        most: i64,
    ) -> crate::StoreResult<(Vec<i64>, Vec<i64>)> {
        let ordinals = sqlx::query_scalar(
            "SELECT DISTINCT c.ordinal FROM audience_changes a JOIN customers c ON c.id = a.customer_id \
             WHERE a.seq > $1 AND a.seq <= $2 LIMIT $3",
        )
        .bind(cursor.position)
        .bind(next)
        .bind(most)
        .fetch_all(&mut *self.tx)
        .await?;
        Ok((ordinals, Vec::new()))
    }
}

/// A transaction on SQLite.
pub struct SqlTx {
    tx: Conn,
}

// The shared SQL, compiled here against this backend's types (and again in the other backend).
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;

/// How hard SQLite works to keep a committed write.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteDurability {
    /// Survives a crash of the process (`kill -9`); the last commits may be lost on power loss.
    #[default]
    Normal,
    /// Survives power loss too, at the cost of an fsync per commit.
    Full,
}

mod anonymous_index;
mod checkpoint;
mod event_insert;
mod raw;
mod scan;
mod writer;
pub(crate) use anonymous_index::stitch_events;
pub(crate) use event_insert::insert_event_rows;

/// Events per call of [`insert_event_rows`]: a whole commit of the ingest writer.
pub(crate) const EVENTS_PER_BULK_INSERT: usize = 10_000;

/// A flash-sale batch ([`crate::FlashSaleRepo::append_flash_batch`], parameters bound by
/// `sql::flash::bind_batch`): the compare-and-set on the sale (journal head, quota, and the
/// stock's guards checked in the same step), then — only if it moved the sale (`changes()`) —
/// the stock move, the journal record and the ledger entry, in one script run statement after
/// statement. Under the single writer nothing changes between the check and the move, so
/// either all four rows are written or none.
macro_rules! flash_batch {
    () => {
        concat!(
            "UPDATE flash_sales SET sold = sold + $3, journal_seq = $2 + 1 \
         WHERE id = $1 AND journal_seq = $2 AND sold + $3 <= quota AND EXISTS (SELECT 1 FROM stock_levels \
         WHERE store_id = $7 AND sku_id = $8 AND ",
            stock_guard!("$9", "$10", "$11", "$12", "$13"),
            "); \
         UPDATE stock_levels SET on_hand = on_hand + $9, reserved = reserved + $10, committed = committed + $11, \
         unavailable = unavailable + $12, in_transit = in_transit + $13, updated_at = $20 \
         WHERE store_id = $7 AND sku_id = $8 AND changes() = 1; \
         INSERT INTO flash_sale_journal (sale_id, seq, at, reservations, units, payload) \
         SELECT $1, $2 + 1, $6, $4, $3, $5 WHERE changes() = 1; \
         INSERT INTO stock_ledger (id, store_id, sku_id, change, delta_on_hand, delta_reserved, delta_committed, \
         delta_unavailable, delta_in_transit, reason, reference, idem_key, actor_id, at) \
         SELECT $14, $7, $8, $15, $9, $10, $11, $12, $13, $16, $17, $18, $19, $20 WHERE changes() = 1; \
         SELECT changes() AS appended;"
        )
    };
}
pub(crate) const FLASH_BATCH: &str = flash_batch!();
/// [`FLASH_BATCH`] as a whole transaction, for [`Database::append_flash_batch`]: run on the
/// writer's own handle, it hands nothing to sqlx's worker thread.
const FLASH_BATCH_ALONE: &CStr =
    match CStr::from_bytes_with_nul(concat!("BEGIN IMMEDIATE; ", flash_batch!(), " COMMIT;\0").as_bytes()) {
        Ok(script) => script,
        Err(_) => panic!("the flash-sale batch is one NUL-terminated string"),
    };

/// The page size of a new database file, in bytes (an existing file keeps the size it was
/// created with until a `VACUUM`). Every page a commit changes is one frame of the write-ahead
/// log — two writes to the log file, a checksum, a cache entry — and ingest's index entries land
/// on pages all over their indexes, so the frame count, not the bytes, is what a commit costs:
/// 16 KiB pages took bulk ingest from ~160k to ~195k events/s against SQLite's default 4 KiB
/// (alternating runs, 2 pairs, a busy machine) and left the in-process flash sale as it was.
/// 64 KiB gained a few per cent more, but a point read then copies 64 KiB and materialising a
/// flash sale took a quarter longer.
const PAGE_SIZE: u32 = 16 * 1024;

/// How many read-only connections serve reads beside the single writer.
const READERS: u32 = 4;

pub struct SqliteDatabase {
    writer: Writer,
    readers: SqlitePool,
    checkpointer: Checkpointer,
}

impl SqliteDatabase {
    /// Opens (creating if missing, with its parent directories) the database file at `path`.
    pub async fn open(path: &Path, durability: SqliteDurability) -> StoreResult<SqliteDatabase> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", parent.display())))?;
        }
        let synchronous = match durability {
            SqliteDurability::Normal => SqliteSynchronous::Normal,
            SqliteDurability::Full => SqliteSynchronous::Full,
        };
        let options = SqliteConnectOptions::from_str("sqlite:")?
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5))
            // Statement journals (a multi-row insert that may need to undo itself) and temporary
            // b-trees stay in memory rather than in temporary files.
            .pragma("temp_store", "memory")
            // 32 MiB of page cache per connection (the default is 2 MiB).
            .pragma("cache_size", "-32768")
            // A connection of its own copies the log into the file as it grows ([`checkpoint`]);
            // the writer's checkpoint finishes the copy and lets the log start over.
            .pragma("wal_autocheckpoint", checkpoint::WRITER_CHECKPOINT_PAGES)
            // Set before anything else touches a new file (sqlx sends it first); ignored for an
            // existing one.
            .page_size(PAGE_SIZE);
        let writer = Writer::new(options.connect().await?);
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(Duration::from_secs(30))
            // An embedded connection cannot go away behind our back: no ping (a round trip to
            // its worker thread) before every read.
            .test_before_acquire(false)
            // Connected on first use, after `migrate`: a connection opened before keeps the
            // schema it read, and a statement it prepares on a table a migration changed
            // describes the old columns, which SQLite then steps as the new ones.
            .connect_lazy_with(options.clone().read_only(true));
        let checkpointer = SqlitePoolOptions::new().max_connections(1).connect_with(options).await?;
        let checkpointer = Checkpointer::start(checkpointer);
        Ok(SqliteDatabase { writer, readers, checkpointer })
    }
}

#[async_trait::async_trait]
impl Database for SqliteDatabase {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(SqlTx { tx: Conn::Read(self.readers.begin().await?) }))
    }

    async fn write(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(SqlTx { tx: Conn::Write(self.writer.begin().await?) }))
    }

    async fn migrate(&self) -> StoreResult<Vec<AppliedMigration>> {
        let mut writer = self.writer.hold().await?;
        let tx = sqlx::Connection::begin_with(writer.connection(), "BEGIN IMMEDIATE").await?;
        sql::migrate::run(tx, migrate::SQLITE, None).await
    }

    async fn logical_schema(&self) -> StoreResult<LogicalSchema> {
        let rows = sqlx::query(
            "SELECT m.name AS table_name, p.name AS column_name, p.type AS declared, p.\"notnull\" AS not_null, \
             p.pk AS pk FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'",
        )
        .fetch_all(&self.readers)
        .await?;
        let mut columns = Vec::new();
        for row in rows {
            let not_null: i64 = row.try_get("not_null")?;
            let pk: i64 = row.try_get("pk")?;
            columns.push(LogicalColumn {
                table: row.try_get("table_name")?,
                column: row.try_get("column_name")?,
                logical_type: migrate::sqlite_logical_type(&row.try_get::<String, _>("declared")?),
                nullable: not_null == 0 && pk == 0,
            });
        }
        Ok(LogicalSchema::new(columns))
    }

    async fn close(&self) {
        self.checkpointer.stop().await;
        self.readers.close().await;
        self.writer.close().await;
    }

    async fn append_flash_batch(
        &self,
        sale_id: uuid::Uuid,
        after: i64,
        entry: &crate::FlashJournalAppend<'_>,
    ) -> StoreResult<bool> {
        let batch = sql::flash::batch_params(sale_id, after, entry);
        match self.writer.run_whole_transaction(FLASH_BATCH_ALONE, &batch).await? {
            Some(appended) => Ok(appended == 1),
            None => Err(StoreError::Corrupt("the flash-sale append answered nothing".into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn flash_buyers_kept_by_name_become_members_by_id() {
        use crate::migrate::{SQLITE, flash_buyers_fixture};
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("old.db");
        let options = SqliteConnectOptions::from_str("sqlite:").expect("options").filename(&path);
        let mut old = options.create_if_missing(true).foreign_keys(false).connect().await.expect("a file");
        let before = SQLITE.iter().position(|m| m.name == "flash_buyers_by_id").expect("the migration");
        let tx = sqlx::Connection::begin(&mut old).await.expect("a transaction");
        sql::migrate::run(tx, &SQLITE[..before], None).await.expect("migrating to the version before");
        flash_buyers_fixture::write_rows!(&mut old);
        sqlx::Connection::close(old).await.expect("closing");
        let db = SqliteDatabase::open(&path, SqliteDurability::Normal).await.expect("opening SQLite");
        let applied = db.migrate().await.expect("migrating");
        assert_eq!(applied.first().map(|m| m.name.as_str()), Some("flash_buyers_by_id"));
        flash_buyers_fixture::check(&db).await;
        db.close().await;
    }

    #[tokio::test]
    async fn a_new_file_gets_the_page_size_and_an_existing_one_keeps_its_own() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let page_size = |db: &SqliteDatabase| {
            let readers = db.readers.clone();
            async move { sqlx::query_scalar::<_, i64>("PRAGMA page_size").fetch_one(&readers).await.expect("a size") }
        };
        let new = dir.path().join("new.db");
        let db = SqliteDatabase::open(&new, SqliteDurability::Normal).await.expect("opening SQLite");
        db.migrate().await.expect("migrating");
        assert_eq!(page_size(&db).await, i64::from(PAGE_SIZE));
        db.close().await;

        let old = dir.path().join("old.db");
        let made = SqliteConnectOptions::from_str("sqlite:").expect("options").filename(&old).create_if_missing(true);
        let mut made = made.page_size(4096).journal_mode(SqliteJournalMode::Wal).connect().await.expect("a 4 KiB file");
        sqlx::query("CREATE TABLE t (n INTEGER)").execute(&mut made).await.expect("a table");
        sqlx::Connection::close(made).await.expect("closing");
        let db = SqliteDatabase::open(&old, SqliteDurability::Normal).await.expect("opening SQLite");
        db.migrate().await.expect("migrating");
        assert_eq!(page_size(&db).await, 4096);
        db.close().await;
    }
}
