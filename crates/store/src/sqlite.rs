//! The SQLite adapter: the embedded default.
//!
//! One file in WAL mode. Writes go through a pool of exactly one connection and start with
//! `BEGIN IMMEDIATE`, so a write transaction holds the write lock from its first statement and
//! never fails half-way with "database is locked". Reads use a pool of read-only connections,
//! which WAL lets run beside the writer. `synchronous=NORMAL` (the default) survives a crash of
//! the process; `FULL` also survives a power loss.

use std::{path::Path, str::FromStr as _, sync::OnceLock, time::Duration};

use sqlx::{
    Row as _,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous},
};

use crate::{
    AppliedMigration, Backend, Database, LogicalSchema, StoreError, StoreResult, StoredEvent, Tx,
    migrate::{self, LogicalColumn},
};

pub(crate) type Db = sqlx::Sqlite;

/// Dynamically sized statements use anonymous `?` placeholders here: SQLite finds a numbered
/// parameter's name by a linear scan, which made a 4,000-parameter batch insert quadratic.
pub(crate) const NUMBERED_PLACEHOLDERS: bool = false;

/// A transaction on SQLite.
pub struct SqlTx {
    tx: sqlx::Transaction<'static, Db>,
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

/// Events per call of [`insert_event_rows`]: a whole commit of the ingest writer.
pub(crate) const EVENTS_PER_BULK_INSERT: usize = 10_000;

/// The sizes of the multi-row inserts of events, largest first: a bulk insert is cut into
/// statements of these sizes only, so each is prepared once per connection and reused (SQLite
/// allows 32,766 parameters; a row has 14).
const EVENT_ROWS: [usize; 5] = [256, 64, 16, 4, 1];

/// The multi-row insert of `EVENT_ROWS[i]` events, built once.
fn event_insert_sql(i: usize) -> &'static str {
    static SQL: OnceLock<Vec<String>> = OnceLock::new();
    let statements = SQL.get_or_init(|| {
        EVENT_ROWS
            .iter()
            .map(|rows| {
                let row = format!("({})", vec!["?"; 14].join(", "));
                format!(
                    "INSERT INTO customer_events (id, source_id, message_id, kind, name, user_id, anonymous_id, \
                     previous_id, customer_id, properties, traits, context, occurred_at, received_at) VALUES {} \
                     ON CONFLICT (source_id, message_id) DO NOTHING",
                    vec![row; *rows].join(", ")
                )
            })
            .collect()
    });
    &statements[i]
}

/// Inserts events in multi-row statements of the [`EVENT_ROWS`] sizes, skipping duplicates;
/// returns how many were new.
pub(crate) async fn insert_event_rows(tx: &mut SqlTx, events: &[StoredEvent]) -> StoreResult<u64> {
    let mut inserted = 0;
    let mut rest = events;
    for (i, size) in EVENT_ROWS.into_iter().enumerate() {
        while rest.len() >= size {
            let (chunk, after) = rest.split_at(size);
            rest = after;
            let mut query = sqlx::query(event_insert_sql(i));
            for e in chunk {
                let m = &e.message;
                query = query
                    .bind(e.id)
                    .bind(e.source_id)
                    .bind(m.message_id.as_str())
                    .bind(m.kind.as_str())
                    .bind(m.name.as_deref())
                    .bind(m.user_id.as_deref())
                    .bind(m.anonymous_id.as_deref())
                    .bind(m.previous_id.as_deref())
                    .bind(e.customer_id.map(|c| c.as_uuid()))
                    .bind(m.properties.as_str())
                    .bind(m.traits.as_str())
                    .bind(m.context.as_str())
                    .bind(e.occurred_at)
                    .bind(e.received_at);
            }
            inserted += query.execute(&mut *tx.tx).await?.rows_affected();
        }
    }
    Ok(inserted)
}

/// How many read-only connections serve reads beside the single writer.
const READERS: u32 = 4;

pub struct SqliteDatabase {
    writer: SqlitePool,
    readers: SqlitePool,
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
            // Checkpoint the WAL into the database file every 10,000 pages (~40 MiB) rather
            // than 1,000: one large group commit of events otherwise triggers a checkpoint, and
            // its fsync, nearly every time. Commits stay as durable (the WAL holds them).
            .pragma("wal_autocheckpoint", "10000");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await?;
        Ok(SqliteDatabase { writer, readers })
    }
}

#[async_trait::async_trait]
impl Database for SqliteDatabase {
    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(SqlTx { tx: self.readers.begin().await? }))
    }

    async fn write(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(SqlTx { tx: self.writer.begin_with("BEGIN IMMEDIATE").await? }))
    }

    async fn migrate(&self) -> StoreResult<Vec<AppliedMigration>> {
        let tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
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
        self.readers.close().await;
        self.writer.close().await;
    }
}
