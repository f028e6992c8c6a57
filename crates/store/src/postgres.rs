//! The PostgreSQL adapter: a pool, with transactions of the default isolation. Several
//! `quanyu serve` instances may share one database; every write is a transaction there.

use std::{str::FromStr as _, time::Duration};

use sqlx::{
    Row as _,
    postgres::{PgConnectOptions, PgPool, PgPoolOptions},
};

use crate::{
    AppliedMigration, Backend, Database, LogicalSchema, StoreError, StoreResult, Tx,
    migrate::{self, LogicalColumn},
};

pub(crate) type Db = sqlx::Postgres;

/// Dynamically sized statements use `$1, $2…` placeholders, as PostgreSQL requires.
pub(crate) const NUMBERED_PLACEHOLDERS: bool = true;

/// Written after a table in `FROM` to read it whole (SQLite needs a hint; see its adapter).
pub(crate) const WHOLE_TABLE: &str = "";

/// The audience-change log's cursor is the oldest transaction still running (the snapshot's
/// `xmin`): every transaction below it has finished, so its entries are visible now, and every
/// entry not yet visible belongs to a transaction at or above it.
pub(crate) const AUDIENCE_CURSOR: &str = "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint";

impl SqlTx {
    /// The customers changed in transactions at or after the cursor whose changes are visible
    /// now and were not read before (at most `most` entries), and the transactions read since
    /// `next` (the new `xmin`). Not bounded by `next`: a transaction above it that has committed
    /// is read now, so a change shows at once even while a long transaction elsewhere holds
    /// `xmin` back; its id is kept in the cursor until `xmin` passes it, so its entries are not
    /// read again meanwhile (a transaction's entries become visible together).
    pub(crate) async fn audience_changes_to(
        &mut self,
        cursor: &crate::AudienceCursor,
        next: i64,
        most: i64,
    ) -> crate::StoreResult<(Vec<i64>, Vec<i64>)> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT DISTINCT a.xid, c.ordinal FROM audience_changes a JOIN customers c ON c.id = a.customer_id \
             WHERE a.xid >= $1 AND NOT (a.xid = ANY($2)) LIMIT $3",
        )
        .bind(cursor.position)
        .bind(&cursor.read)
        .bind(most)
        .fetch_all(&mut *self.tx)
        .await?;
        let earlier = cursor.read.iter().copied();
        let mut read: Vec<i64> = earlier.chain(rows.iter().map(|&(xid, _)| xid)).filter(|&xid| xid >= next).collect();
        read.sort_unstable();
        read.dedup();
        let mut ordinals: Vec<i64> = rows.into_iter().map(|(_, ordinal)| ordinal).collect();
        ordinals.sort_unstable();
        ordinals.dedup();
        Ok((ordinals, read))
    }
}

/// A transaction on PostgreSQL.
pub struct SqlTx {
    tx: sqlx::Transaction<'static, Db>,
}

// The shared SQL, compiled here against this backend's types (and again in the other backend).
#[allow(clippy::duplicate_mod)]
#[path = "sql/mod.rs"]
mod sql;

mod event_copy;
mod scan;
pub(crate) use event_copy::{insert_event_rows, stitch_events};

/// A flash-sale batch ([`crate::FlashSaleRepo::append_flash_batch`], parameters bound by
/// `sql::flash::bind_batch`) as one statement: the stock move (locking the stock row first, as
/// every path does), the compare-and-set on the sale only if the stock moved, and the journal
/// record and ledger entry only if the sale moved.
pub(crate) const FLASH_BATCH: &str = concat!(
    "WITH stock AS ( \
    UPDATE stock_levels SET on_hand = on_hand + $9, reserved = reserved + $10, committed = committed + $11, \
    unavailable = unavailable + $12, in_transit = in_transit + $13, updated_at = $20 \
    WHERE store_id = $7 AND sku_id = $8 AND ",
    stock_guard!("$9", "$10", "$11", "$12", "$13"),
    " RETURNING 1 \
), sale AS ( \
    UPDATE flash_sales SET sold = sold + $3, journal_seq = $2 + 1 \
    WHERE id = $1 AND journal_seq = $2 AND sold + $3 <= quota AND EXISTS (SELECT 1 FROM stock) RETURNING id \
), journal AS ( \
    INSERT INTO flash_sale_journal (sale_id, seq, at, reservations, units, payload) \
    SELECT id, $2 + 1, $6, $4, $3, $5 FROM sale \
), ledger AS ( \
    INSERT INTO stock_ledger (id, store_id, sku_id, change, delta_on_hand, delta_reserved, delta_committed, \
    delta_unavailable, delta_in_transit, reason, reference, idem_key, actor_id, at) \
    SELECT $14, $7, $8, $15, $9, $10, $11, $12, $13, $16, $17, $18, $19, $20 FROM sale \
) SELECT count(*) AS appended FROM sale"
);

/// Events per call of [`insert_event_rows`]: a whole commit of the ingest writer.
pub(crate) const EVENTS_PER_BULK_INSERT: usize = 10_000;

/// Serialises concurrent migrators (two instances starting at once) on one advisory lock.
const MIGRATION_LOCK: &str = "SELECT pg_advisory_xact_lock(7242024)";

pub struct PgDatabase {
    pool: PgPool,
}

impl PgDatabase {
    /// Connects to `url` (`postgres://user@host:port/db`).
    pub async fn connect(url: &str) -> StoreResult<PgDatabase> {
        Self::connect_options(PgConnectOptions::from_str(url)?, 20).await
    }

    /// Connects with every connection's `search_path` set to `schema`, so a test can own a
    /// schema of its own.
    pub async fn connect_with_schema(url: &str, schema: &str) -> StoreResult<PgDatabase> {
        let options = PgConnectOptions::from_str(url)?.options([("search_path", schema)]);
        Self::connect_options(options, 5).await
    }

    async fn connect_options(options: PgConnectOptions, max_connections: u32) -> StoreResult<PgDatabase> {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(PgDatabase { pool })
    }
}

#[async_trait::async_trait]
impl Database for PgDatabase {
    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    async fn read(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(SqlTx { tx: self.pool.begin_with("BEGIN READ ONLY").await? }))
    }

    async fn write(&self) -> StoreResult<Box<dyn Tx>> {
        Ok(Box::new(SqlTx { tx: self.pool.begin().await? }))
    }

    async fn migrate(&self) -> StoreResult<Vec<AppliedMigration>> {
        let tx = self.pool.begin().await?;
        sql::migrate::run(tx, migrate::POSTGRES, Some(MIGRATION_LOCK)).await
    }

    async fn logical_schema(&self) -> StoreResult<LogicalSchema> {
        let rows = sqlx::query(
            "SELECT table_name::text AS table_name, column_name::text AS column_name, data_type::text AS data_type, \
             is_nullable::text AS is_nullable FROM information_schema.columns WHERE table_schema = current_schema()",
        )
        .fetch_all(&self.pool)
        .await?;
        let mut columns = Vec::new();
        for row in rows {
            let nullable: String = row.try_get("is_nullable")?;
            columns.push(LogicalColumn {
                table: row.try_get("table_name")?,
                column: row.try_get("column_name")?,
                logical_type: migrate::postgres_logical_type(&row.try_get::<String, _>("data_type")?),
                nullable: nullable == "YES",
            });
        }
        Ok(LogicalSchema::new(columns))
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

#[cfg(test)]
mod tests {
    use sqlx::Connection as _;

    use super::*;

    #[tokio::test]
    async fn flash_buyers_kept_by_name_become_members_by_id() {
        use crate::{
            migrate::{POSTGRES, flash_buyers_fixture},
            testing::POSTGRES_VAR,
        };
        let Some(url) = std::env::var(POSTGRES_VAR).ok().filter(|u| !u.trim().is_empty()) else {
            eprintln!("skipped on PostgreSQL: {POSTGRES_VAR} is not set");
            return;
        };
        let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
        let mut admin = sqlx::PgConnection::connect(&url).await.expect("PostgreSQL");
        let create = format!("CREATE SCHEMA {schema}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create)).execute(&mut admin).await.expect("a schema");
        let options = PgConnectOptions::from_str(&url).expect("a URL").options([("search_path", schema.as_str())]);
        let mut old = sqlx::PgConnection::connect_with(&options).await.expect("a connection");
        // The fixture has no sale, store or SKU behind its rows: this connection skips the
        // foreign keys' triggers.
        sqlx::query("SET session_replication_role = replica").execute(&mut old).await.expect("replica role");
        let before = POSTGRES.iter().position(|m| m.name == "flash_buyers_by_id").expect("the migration");
        let tx = old.begin().await.expect("a transaction");
        sql::migrate::run(tx, &POSTGRES[..before], None).await.expect("migrating to the version before");
        flash_buyers_fixture::write_rows!(&mut old);
        old.close().await.expect("closing");
        let db = PgDatabase::connect_with_schema(&url, &schema).await.expect("connecting");
        let applied = db.migrate().await.expect("migrating");
        assert_eq!(applied.first().map(|m| m.name.as_str()), Some("flash_buyers_by_id"));
        flash_buyers_fixture::check(&db).await;
        db.close().await;
        let drop = format!("DROP SCHEMA {schema} CASCADE");
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut admin).await.expect("dropping the schema");
    }
}
