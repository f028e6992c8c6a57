//! Fresh databases for tests, on each backend, and the macro that runs one test body on both.
//!
//! SQLite always runs, on a file in a temporary directory. PostgreSQL runs when
//! `QUANYU_TEST_POSTGRES` holds a server URL; each test gets a schema of its own there. When
//! the variable is set and the server cannot be reached, the test fails saying so: a
//! PostgreSQL run that silently tested nothing would be worse than no run.

use std::sync::Arc;

use crate::{Database, PgDatabase, SqliteDatabase, SqliteDurability};

/// The variable that turns the PostgreSQL suite on.
pub const POSTGRES_VAR: &str = "QUANYU_TEST_POSTGRES";

/// A migrated, empty database that lives as long as this value.
pub struct TestDb {
    database: Arc<dyn Database>,
    label: &'static str,
    /// Where it is, for [`TestDb::execute`].
    place: Place,
    _dir: Option<tempfile::TempDir>,
}

enum Place {
    Sqlite(std::path::PathBuf),
    Postgres { url: String, schema: String },
}

impl TestDb {
    pub fn database(&self) -> Arc<dyn Database> {
        self.database.clone()
    }

    /// `sqlite` or `postgres`.
    pub fn label(&self) -> &'static str {
        self.label
    }

    /// Runs SQL of the test's own on a connection of its own: a fixture no use case makes, such
    /// as a trigger that fails on purpose.
    ///
    /// # Panics
    /// When the SQL fails.
    pub async fn execute(&self, sql: &str) {
        use sqlx::Connection as _;
        let sql = sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned()));
        let done = match &self.place {
            Place::Sqlite(path) => {
                let options = sqlx::sqlite::SqliteConnectOptions::new().filename(path);
                let mut connection = sqlx::SqliteConnection::connect_with(&options).await.expect("a SQLite connection");
                sql.execute(&mut connection).await.map(drop)
            }
            Place::Postgres { url, schema } => {
                let options: sqlx::postgres::PgConnectOptions = url.parse().expect("a PostgreSQL URL");
                let options = options.options([("search_path", schema.as_str())]);
                let mut connection = sqlx::PgConnection::connect_with(&options).await.expect("a PostgreSQL connection");
                sql.execute(&mut connection).await.map(drop)
            }
        };
        done.expect("the test's own SQL");
    }
}

/// A fresh SQLite database in a temporary directory.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("test.db");
    let db = SqliteDatabase::open(&path, SqliteDurability::Normal)
        .await
        .expect("opening a SQLite file in a temporary directory");
    db.migrate().await.expect("migrating SQLite");
    TestDb { database: Arc::new(db), label: "sqlite", place: Place::Sqlite(path), _dir: Some(dir) }
}

/// A fresh schema on the PostgreSQL server named by `QUANYU_TEST_POSTGRES`, or `None` when the
/// variable is unset.
///
/// # Panics
/// When the variable is set but the server cannot be reached or migrated.
pub async fn postgres() -> Option<TestDb> {
    let url = std::env::var(POSTGRES_VAR).ok().filter(|u| !u.trim().is_empty())?;
    let unreachable = |err: &dyn std::fmt::Display| -> ! {
        panic!("{POSTGRES_VAR} is set to {url} but PostgreSQL is unreachable: {err}; start it or unset the variable")
    };
    let schema = format!("t_{}", uuid::Uuid::now_v7().simple());
    let admin = sqlx::postgres::PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect(&url)
        .await
        .unwrap_or_else(|e| unreachable(&e));
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap_or_else(|e| unreachable(&e));
    admin.close().await;
    let db = PgDatabase::connect_with_schema(&url, &schema).await.unwrap_or_else(|e| unreachable(&e));
    db.migrate().await.expect("migrating PostgreSQL");
    Some(TestDb { database: Arc::new(db), label: "postgres", place: Place::Postgres { url, schema }, _dir: None })
}

#[doc(hidden)]
pub use tokio;

/// Turns `async fn name(db: Arc<dyn Database>)` test bodies into one `#[tokio::test]` per
/// backend: `sqlite::name` always, `postgres::name` when `QUANYU_TEST_POSTGRES` is set (it
/// returns at once, saying so, when the variable is unset). The calling crate needs `tokio`
/// with the `macros` and `rt-multi-thread` features.
///
/// ```text
/// async fn round_trips(db: std::sync::Arc<dyn quanyu_store::Database>) { /* … */ }
/// quanyu_store::backend_tests!(round_trips);
/// ```
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::testing::sqlite().await;
                    super::$name(db.database()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[::tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::testing::postgres().await else {
                        eprintln!("skipped on PostgreSQL: {} is not set", $crate::testing::POSTGRES_VAR);
                        return;
                    };
                    super::$name(db.database()).await;
                }
            )*
        }
    };
}
