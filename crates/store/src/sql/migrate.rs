//! The migration runner, the same on both backends: in one transaction (so a failed migration
//! leaves nothing half-applied, and a concurrent starter waits), apply each pending migration
//! in version order and record it with its checksum.

use std::collections::HashMap;

use sqlx::Row as _;

use super::super::Db;
use crate::{AppliedMigration, StoreError, StoreResult, migrate::Migration};

pub(in super::super) async fn run(
    mut tx: sqlx::Transaction<'_, Db>,
    migrations: &[Migration],
    lock: Option<&'static str>,
) -> StoreResult<Vec<AppliedMigration>> {
    if let Some(lock) = lock {
        sqlx::query(lock).execute(&mut *tx).await?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, \
         checksum TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )
    .execute(&mut *tx)
    .await?;
    let rows = sqlx::query("SELECT version, checksum FROM schema_migrations").fetch_all(&mut *tx).await?;
    let mut applied = HashMap::new();
    for row in rows {
        applied.insert(row.try_get::<i64, _>("version")?, row.try_get::<String, _>("checksum")?);
    }
    let mut done = Vec::new();
    for migration in migrations {
        let checksum = migration.checksum();
        match applied.get(&migration.version) {
            Some(stored) if *stored != checksum => {
                return Err(StoreError::MigrationChanged { version: migration.version });
            }
            Some(_) => continue,
            None => {}
        }
        sqlx::raw_sql(migration.sql).execute(&mut *tx).await?;
        sqlx::query("INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)")
            .bind(migration.version)
            .bind(migration.name)
            .bind(&checksum)
            .bind(chrono::Utc::now().to_rfc3339())
            .execute(&mut *tx)
            .await?;
        done.push(AppliedMigration { version: migration.version, name: migration.name.to_owned() });
    }
    tx.commit().await?;
    Ok(done)
}
