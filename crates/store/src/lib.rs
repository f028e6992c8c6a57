//! Persistence for Quanyu: one storage interface, two backends.
//!
//! This crate owns the repository traits (one per area, all reachable through a [`Tx`]), the
//! SQLite adapter (embedded default: WAL, one writer connection taking `BEGIN IMMEDIATE`, a pool
//! of read-only readers) and the PostgreSQL adapter (a pool), the versioned migrations of each
//! backend (`migrations/sqlite`, `migrations/postgres`), the audit log, the outbox (`events`)
//! and the idempotency records. The conformance suite in `tests/` runs unchanged against both.
//!
//! **Architecture invariant:** only this crate knows SQL, and it holds no business rules beyond
//! constraints (unique codes, foreign keys). The SQL is written once, in `sql/`, and compiled
//! into each backend module against that backend's concrete `sqlx` types; SQLite accepts the
//! same `$1` placeholders as PostgreSQL.

/// The guard of a stock move, as SQL over `stock_levels`: every bucket stays at or above zero and
/// the held ones (reserved, committed, unavailable) within what is on hand — what "never
/// oversell" means in the database. The arguments are the placeholders of the deltas (on hand,
/// reserved, committed, unavailable, in transit). Written once for every statement that moves
/// stock: `InventoryRepo`'s guarded move and each backend's flash-sale batch.
macro_rules! stock_guard {
    ($on_hand:literal, $reserved:literal, $committed:literal, $unavailable:literal, $in_transit:literal) => {
        concat!(
            "on_hand + ",
            $on_hand,
            " >= 0 AND reserved + ",
            $reserved,
            " >= 0 AND committed + ",
            $committed,
            " >= 0 AND unavailable + ",
            $unavailable,
            " >= 0 AND in_transit + ",
            $in_transit,
            " >= 0 AND (reserved + ",
            $reserved,
            ") + (committed + ",
            $committed,
            ") + (unavailable + ",
            $unavailable,
            ") <= on_hand + ",
            $on_hand
        )
    };
}

mod error;
mod migrate;
mod postgres;
mod records;
mod repos;
mod sqlite;
pub mod testing;

use std::sync::Arc;

pub use error::{StoreError, StoreResult, UniqueKey};
pub use migrate::{AppliedMigration, LogicalSchema};
pub use postgres::PgDatabase;
pub use records::*;
pub use repos::*;
pub use sqlite::{SqliteDatabase, SqliteDurability};

/// Which engine a database runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// A database: hands out transactions. Every read and write goes through a [`Tx`].
#[async_trait::async_trait]
pub trait Database: Send + Sync + 'static {
    fn backend(&self) -> Backend;

    /// A read-only transaction over a consistent snapshot.
    async fn read(&self) -> StoreResult<Box<dyn Tx>>;

    /// A read-write transaction. On SQLite it holds the single writer (`BEGIN IMMEDIATE`), so
    /// writes never fail with "database is locked" mid-transaction.
    async fn write(&self) -> StoreResult<Box<dyn Tx>>;

    /// Applies pending migrations; returns the ones applied now.
    async fn migrate(&self) -> StoreResult<Vec<AppliedMigration>>;

    /// Tables and columns as the backend reports them, normalised, to compare backends.
    async fn logical_schema(&self) -> StoreResult<LogicalSchema>;

    /// Closes the pools, waiting for connections to be returned.
    async fn close(&self);

    /// [`FlashSaleRepo::append_flash_batch`] in a transaction of its own, committed when it
    /// appended. The flash-sale owner's write: on SQLite the whole transaction is one hand-off
    /// to the writer's worker thread, which a rush otherwise waits on (for a core) per statement.
    async fn append_flash_batch(
        &self,
        sale_id: uuid::Uuid,
        after: i64,
        entry: &FlashJournalAppend<'_>,
    ) -> StoreResult<bool> {
        let mut tx = self.write().await?;
        if !tx.append_flash_batch(sale_id, after, entry).await? {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }
}

/// Opens a database from a URL: `sqlite://PATH` (created if missing) or `postgres://…`.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Database>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PgDatabase::connect(url).await?))
    } else if let Some(path) = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:")) {
        Ok(Arc::new(SqliteDatabase::open(path.as_ref(), SqliteDurability::default()).await?))
    } else {
        Err(StoreError::BadUrl(url.to_owned()))
    }
}

/// One transaction, with every repository on it. Dropping it without [`Tx::commit`] rolls back.
#[async_trait::async_trait]
pub trait Tx:
    ChainRepo
    + RegionRepo
    + StoreRepo
    + StaffRepo
    + TokenRepo
    + CatalogRepo
    + AuditRepo
    + OutboxRepo
    + IdempotencyRepo
    + InventoryRepo
    + OrderRepo
    + FlashSaleRepo
    + DocumentRepo
    + CustomerRepo
    + MarketingRepo
    + ReferralRepo
    + StoredValueRepo
    + GroupBuyRepo
    + EventRepo
    + ScoresRepo
    + TagRepo
    + CustomerAuthRepo
    + ReportRepo
    + Send
{
    async fn commit(self: Box<Self>) -> StoreResult<()>;
}
