//! Versioned migrations, one folder per backend, applied by a small runner of our own: each
//! pending migration in order, recorded with a checksum so an edited migration is caught.
//! (sqlx's `migrate!` would pull in its macros feature; this runner is the same on both
//! backends.) Also the logical schema both backends are compared by.

use sha2::{Digest as _, Sha256};

/// A migration shipped in the binary.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Migration {
    pub version: i64,
    pub name: &'static str,
    pub sql: &'static str,
}

impl Migration {
    pub fn checksum(&self) -> String {
        quanyu_domain::text::hex(&Sha256::digest(self.sql.as_bytes()))
    }
}

pub(crate) const SQLITE: &[Migration] = &[
    Migration { version: 1, name: "foundation", sql: include_str!("../migrations/sqlite/0001_foundation.sql") },
    Migration { version: 2, name: "inventory", sql: include_str!("../migrations/sqlite/0002_inventory.sql") },
    Migration { version: 3, name: "orders", sql: include_str!("../migrations/sqlite/0003_orders.sql") },
    Migration { version: 4, name: "flash_sales", sql: include_str!("../migrations/sqlite/0004_flash_sales.sql") },
    Migration { version: 5, name: "documents", sql: include_str!("../migrations/sqlite/0005_documents.sql") },
    Migration { version: 6, name: "customers", sql: include_str!("../migrations/sqlite/0006_customers.sql") },
    Migration { version: 7, name: "marketing", sql: include_str!("../migrations/sqlite/0007_marketing.sql") },
    Migration { version: 8, name: "referral", sql: include_str!("../migrations/sqlite/0008_referral.sql") },
    Migration { version: 9, name: "stored_value", sql: include_str!("../migrations/sqlite/0009_stored_value.sql") },
    Migration { version: 10, name: "group_buys", sql: include_str!("../migrations/sqlite/0010_group_buys.sql") },
    Migration { version: 11, name: "birthdays", sql: include_str!("../migrations/sqlite/0011_birthdays.sql") },
    Migration { version: 12, name: "events", sql: include_str!("../migrations/sqlite/0012_events.sql") },
    Migration {
        version: 13,
        name: "customer_scores",
        sql: include_str!("../migrations/sqlite/0013_customer_scores.sql"),
    },
    Migration { version: 14, name: "tags", sql: include_str!("../migrations/sqlite/0014_tags.sql") },
    Migration {
        version: 15,
        name: "paid_membership",
        sql: include_str!("../migrations/sqlite/0015_paid_membership.sql"),
    },
    Migration { version: 16, name: "guide_tasks", sql: include_str!("../migrations/sqlite/0016_guide_tasks.sql") },
    Migration {
        version: 17,
        name: "customer_sign_in",
        sql: include_str!("../migrations/sqlite/0017_customer_sign_in.sql"),
    },
    Migration { version: 18, name: "sales_reports", sql: include_str!("../migrations/sqlite/0018_sales_reports.sql") },
    Migration { version: 19, name: "merge_undo", sql: include_str!("../migrations/sqlite/0019_merge_undo.sql") },
    Migration { version: 20, name: "flash_journal", sql: include_str!("../migrations/sqlite/0020_flash_journal.sql") },
    Migration { version: 21, name: "event_ingest", sql: include_str!("../migrations/sqlite/0021_event_ingest.sql") },
    Migration { version: 22, name: "cash_tendered", sql: include_str!("../migrations/sqlite/0022_cash_tendered.sql") },
    Migration {
        version: 23,
        name: "event_ids_unindexed",
        sql: include_str!("../migrations/sqlite/0023_event_ids_unindexed.sql"),
    },
    Migration {
        version: 24,
        name: "anonymous_event_index",
        sql: include_str!("../migrations/sqlite/0024_anonymous_event_index.sql"),
    },
    Migration {
        version: 25,
        name: "event_time_once",
        sql: include_str!("../migrations/sqlite/0025_event_time_once.sql"),
    },
    Migration {
        version: 26,
        name: "audience_changes",
        sql: include_str!("../migrations/sqlite/0026_audience_changes.sql"),
    },
    Migration {
        version: 27,
        name: "audience_store_changes",
        sql: include_str!("../migrations/sqlite/0027_audience_store_changes.sql"),
    },
    Migration {
        version: 28,
        name: "flash_keys_per_sale",
        sql: include_str!("../migrations/sqlite/0028_flash_keys_per_sale.sql"),
    },
    Migration { version: 29, name: "order_tables", sql: include_str!("../migrations/sqlite/0029_order_tables.sql") },
    Migration {
        version: 30,
        name: "delivery_location",
        sql: include_str!("../migrations/sqlite/0030_delivery_location.sql"),
    },
    Migration {
        version: 31,
        name: "flash_buyers_by_id",
        sql: include_str!("../migrations/sqlite/0031_flash_buyers_by_id.sql"),
    },
];

pub(crate) const POSTGRES: &[Migration] = &[
    Migration { version: 1, name: "foundation", sql: include_str!("../migrations/postgres/0001_foundation.sql") },
    Migration { version: 2, name: "inventory", sql: include_str!("../migrations/postgres/0002_inventory.sql") },
    Migration { version: 3, name: "orders", sql: include_str!("../migrations/postgres/0003_orders.sql") },
    Migration { version: 4, name: "flash_sales", sql: include_str!("../migrations/postgres/0004_flash_sales.sql") },
    Migration { version: 5, name: "documents", sql: include_str!("../migrations/postgres/0005_documents.sql") },
    Migration { version: 6, name: "customers", sql: include_str!("../migrations/postgres/0006_customers.sql") },
    Migration { version: 7, name: "marketing", sql: include_str!("../migrations/postgres/0007_marketing.sql") },
    Migration { version: 8, name: "referral", sql: include_str!("../migrations/postgres/0008_referral.sql") },
    Migration { version: 9, name: "stored_value", sql: include_str!("../migrations/postgres/0009_stored_value.sql") },
    Migration { version: 10, name: "group_buys", sql: include_str!("../migrations/postgres/0010_group_buys.sql") },
    Migration { version: 11, name: "birthdays", sql: include_str!("../migrations/postgres/0011_birthdays.sql") },
    Migration { version: 12, name: "events", sql: include_str!("../migrations/postgres/0012_events.sql") },
    Migration {
        version: 13,
        name: "customer_scores",
        sql: include_str!("../migrations/postgres/0013_customer_scores.sql"),
    },
    Migration { version: 14, name: "tags", sql: include_str!("../migrations/postgres/0014_tags.sql") },
    Migration {
        version: 15,
        name: "paid_membership",
        sql: include_str!("../migrations/postgres/0015_paid_membership.sql"),
    },
    Migration { version: 16, name: "guide_tasks", sql: include_str!("../migrations/postgres/0016_guide_tasks.sql") },
    Migration {
        version: 17,
        name: "customer_sign_in",
        sql: include_str!("../migrations/postgres/0017_customer_sign_in.sql"),
    },
    Migration {
        version: 18,
        name: "sales_reports",
        sql: include_str!("../migrations/postgres/0018_sales_reports.sql"),
    },
    Migration { version: 19, name: "merge_undo", sql: include_str!("../migrations/postgres/0019_merge_undo.sql") },
    Migration {
        version: 20,
        name: "flash_journal",
        sql: include_str!("../migrations/postgres/0020_flash_journal.sql"),
    },
    Migration { version: 21, name: "event_ingest", sql: include_str!("../migrations/postgres/0021_event_ingest.sql") },
    Migration {
        version: 22,
        name: "cash_tendered",
        sql: include_str!("../migrations/postgres/0022_cash_tendered.sql"),
    },
    Migration {
        version: 23,
        name: "event_ids_unindexed",
        sql: include_str!("../migrations/postgres/0023_event_ids_unindexed.sql"),
    },
    Migration {
        version: 24,
        name: "event_time_once",
        sql: include_str!("../migrations/postgres/0024_event_time_once.sql"),
    },
    Migration {
        version: 25,
        name: "audience_changes",
        sql: include_str!("../migrations/postgres/0025_audience_changes.sql"),
    },
    Migration {
        version: 26,
        name: "audience_store_changes",
        sql: include_str!("../migrations/postgres/0026_audience_store_changes.sql"),
    },
    Migration {
        version: 27,
        name: "flash_keys_per_sale",
        sql: include_str!("../migrations/postgres/0027_flash_keys_per_sale.sql"),
    },
    Migration { version: 28, name: "order_tables", sql: include_str!("../migrations/postgres/0028_order_tables.sql") },
    Migration {
        version: 29,
        name: "delivery_location",
        sql: include_str!("../migrations/postgres/0029_delivery_location.sql"),
    },
    Migration {
        version: 30,
        name: "flash_buyers_by_id",
        sql: include_str!("../migrations/postgres/0030_flash_buyers_by_id.sql"),
    },
];

/// A migration applied by a call to `migrate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedMigration {
    pub version: i64,
    pub name: String,
}

/// One column as both backends can describe it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogicalColumn {
    pub table: String,
    pub column: String,
    /// `uuid`, `text`, `int`, `bool`, `timestamp`, `json`, `bytes` or `float`.
    pub logical_type: String,
    pub nullable: bool,
}

/// Columns only one backend has, for the way it stores something both keep: SQLite's
/// anonymous-event index, filled in bulk (`sqlite::anonymous_index`), and the event row numbers
/// it points at. PostgreSQL indexes the same events as it inserts them.
const BACKEND_LOCAL: &[(&str, &str)] =
    &[("anonymous_event_index", "visitor"), ("anonymous_event_index", "seq"), ("customer_events", "seq")];

/// Every table and column of the application schema (not the migrations table), sorted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogicalSchema {
    pub columns: Vec<LogicalColumn>,
}

impl LogicalSchema {
    pub(crate) fn new(mut columns: Vec<LogicalColumn>) -> LogicalSchema {
        columns.retain(|c| {
            c.table != "schema_migrations"
                && !c.table.starts_with("sqlite_")
                && !BACKEND_LOCAL.contains(&(c.table.as_str(), c.column.as_str()))
        });
        columns.sort();
        LogicalSchema { columns }
    }
}

/// Maps a SQLite declared type to the logical type.
pub(crate) fn sqlite_logical_type(declared: &str) -> String {
    match declared.to_ascii_uppercase().as_str() {
        "UUID BLOB" => "uuid",
        "TIMESTAMP TEXT" => "timestamp",
        "JSON TEXT" => "json",
        "BOOLEAN" => "bool",
        "BLOB" => "bytes",
        "REAL" => "float",
        "TEXT" => "text",
        "INTEGER" | "BIGINT" | "SMALLINT" => "int",
        other => return format!("unknown:{other}"),
    }
    .to_owned()
}

/// Maps a PostgreSQL `information_schema` data type to the logical type.
pub(crate) fn postgres_logical_type(data_type: &str) -> String {
    match data_type {
        "uuid" => "uuid",
        "timestamp with time zone" => "timestamp",
        "jsonb" | "json" => "json",
        "boolean" => "bool",
        "bytea" => "bytes",
        "double precision" | "real" => "float",
        "text" | "character varying" => "text",
        "bigint" | "integer" | "smallint" => "int",
        other => return format!("unknown:{other}"),
    }
    .to_owned()
}

/// Flash-sale rows as they were kept before `flash_buyers_by_id` (SQLite 31, PostgreSQL 30),
/// and what they must read as after it: each backend's tests write them at the version before,
/// migrate, and [`check`](flash_buyers_fixture::check) them.
#[cfg(test)]
pub(crate) mod flash_buyers_fixture {
    use quanyu_domain::{
        flash::{Buyer, BuyerBuf, HoldStatus},
        ids::CustomerId,
    };
    use uuid::Uuid;

    use crate::Database;

    pub const SALE: Uuid = Uuid::from_u128(0x5a1e);
    const MEMBER: Uuid = Uuid::from_u128(0x0193_ccce_b880_7089_ab0c_6c75_7c6f_d842);
    const PHONE: &str = "13800138000";
    const HELD: Uuid = Uuid::from_u128(1);
    const RELEASED: Uuid = Uuid::from_u128(2);
    const SHOUTED: Uuid = Uuid::from_u128(3);

    fn member_name() -> String {
        format!("customer:{MEMBER}")
    }

    /// Not exactly a member's name (upper case): it stays a name.
    fn shouted_name() -> String {
        member_name().to_uppercase()
    }

    /// Reservations: id, buyer, key (scoped to the buyer, as then), status.
    pub fn reservations() -> Vec<(Uuid, String, String, &'static str)> {
        vec![
            (HELD, member_name(), format!("{}:k1", member_name()), "held"),
            (RELEASED, PHONE.to_owned(), format!("{PHONE}:k1"), "released"),
            (SHOUTED, shouted_name(), "unscoped".to_owned(), "held"),
        ]
    }

    /// Buyer counts: buyer, quantity.
    pub fn buyers() -> Vec<(String, i64)> {
        vec![(member_name(), 2), (PHONE.to_owned(), 0), (shouted_name(), 1)]
    }

    /// Releases: reservation, buyer, quantity.
    pub fn releases() -> Vec<(Uuid, String, i64)> {
        vec![(RELEASED, PHONE.to_owned(), 1)]
    }

    /// Writes the rows on `$conn`, a connection of either backend at the version before, with
    /// foreign keys off (the fixture has no sale, store or SKU).
    macro_rules! write_rows {
        ($conn:expr) => {{
            use crate::migrate::flash_buyers_fixture::{SALE, buyers, releases, reservations};
            let at = chrono::Utc::now();
            sqlx::query(
                "INSERT INTO flash_sales (id, store_id, sku_id, price, quota, sold, per_customer_limit, hold_minutes, \
                 starts_at, ends_at, created_at) VALUES ($1, $2, $2, 100, 10, 3, 2, 15, $3, $3, $3)",
            )
            .bind(SALE)
            .bind(uuid::Uuid::nil())
            .bind(at)
            .execute(&mut *$conn)
            .await
            .expect("a sale as it was");
            for (id, buyer, key, status) in reservations() {
                sqlx::query(
                    "INSERT INTO flash_sale_reservations (id, sale_id, buyer, quantity, idem_key, at, status, expires_at) \
                     VALUES ($1, $2, $3, 1, $4, $5, $6, $5)",
                )
                .bind(id)
                .bind(SALE)
                .bind(buyer)
                .bind(key)
                .bind(at)
                .bind(status)
                .execute(&mut *$conn)
                .await
                .expect("a reservation as it was");
            }
            for (buyer, quantity) in buyers() {
                sqlx::query("INSERT INTO flash_sale_buyers (sale_id, buyer, quantity) VALUES ($1, $2, $3)")
                    .bind(SALE)
                    .bind(buyer)
                    .bind(quantity)
                    .execute(&mut *$conn)
                    .await
                    .expect("a buyer as it was");
            }
            for (id, buyer, quantity) in releases() {
                sqlx::query(
                    "INSERT INTO flash_sale_releases (reservation_id, sale_id, buyer, quantity) VALUES ($1, $2, $3, $4)",
                )
                .bind(id)
                .bind(SALE)
                .bind(buyer)
                .bind(quantity)
                .execute(&mut *$conn)
                .await
                .expect("a release as it was");
            }
        }};
    }
    pub(crate) use write_rows;

    /// The rows after the migration: members by id, names kept, keys the buyer's own.
    pub async fn check(db: &dyn Database) {
        let member = BuyerBuf::Member(CustomerId::from_uuid(MEMBER));
        let phone = BuyerBuf::Named(PHONE.to_owned());
        let shouted = BuyerBuf::Named(shouted_name());
        let mut tx = db.read().await.expect("a read");
        let mut rows = tx.flash_sale_reservations(SALE).await.expect("reservations");
        rows.sort_by_key(|r| r.id);
        let found: Vec<_> =
            rows.iter().map(|r| (r.id, r.buyer.clone(), r.idempotency_key.as_str(), r.quantity, r.status)).collect();
        assert_eq!(
            found,
            vec![
                (HELD, member.clone(), "k1", 1, HoldStatus::Held),
                (RELEASED, phone.clone(), "k1", 1, HoldStatus::Released),
                (SHOUTED, shouted.clone(), "unscoped", 1, HoldStatus::Held),
            ]
        );
        let mut buyers = tx.flash_sale_buyers(SALE).await.expect("buyers");
        buyers.sort();
        let mut expect = vec![(member, 2), (phone.clone(), 0), (shouted, 1)];
        expect.sort();
        assert_eq!(buyers, expect);
        let released = tx.flash_released_units(SALE, &[Buyer::Named(PHONE)]).await.expect("releases");
        assert_eq!(released, vec![(phone, 1)]);
    }
}
