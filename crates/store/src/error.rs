//! The store's error type: what went wrong, without SQL details leaking upwards.

/// Which unique rule a write broke, so the layers above can name the field at fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UniqueKey {
    RegionCode,
    StoreCode,
    Username,
    StaffPhone,
    BrandName,
    CategoryName,
    SkuCode,
    Barcode,
    IdempotencyKey,
    /// The idempotency key of a stock ledger entry.
    StockEntryKey,
    /// A customer identifier (phone, openid…) that another profile holds.
    CustomerIdentity,
    /// A membership tier code.
    TierCode,
    /// A flash-sale reservation's request key within its sale (`buyer:key`).
    FlashReservationKey,
    /// A table's open eat-first bill: one per table of a store.
    OpenTableBill,
    /// A unique rule this enum does not name yet; the string is `table_column`.
    Other,
}

impl UniqueKey {
    /// From a normalised `table_column` name (SQLite reports `table.column`, PostgreSQL the
    /// constraint name `table_column_key`; both normalise to `table_column`).
    pub fn from_normalised(name: &str) -> UniqueKey {
        match name {
            "regions_code" => UniqueKey::RegionCode,
            "stores_code" => UniqueKey::StoreCode,
            "staff_username" => UniqueKey::Username,
            "staff_phone" => UniqueKey::StaffPhone,
            "brands_name" => UniqueKey::BrandName,
            "categories_parent_name" | "categories_parent_key_name" => UniqueKey::CategoryName,
            "skus_code" => UniqueKey::SkuCode,
            "skus_barcode" => UniqueKey::Barcode,
            "idempotency_keys_actor_id_key" | "idempotency_keys_actor_id_idem_key" => UniqueKey::IdempotencyKey,
            "stock_ledger_idem_key" => UniqueKey::StockEntryKey,
            "customer_identities_kind_value" => UniqueKey::CustomerIdentity,
            "member_tiers_code" => UniqueKey::TierCode,
            "flash_sale_reservations_sale_id_member_id_buyer_idem_key" => UniqueKey::FlashReservationKey,
            "orders_store_id_table_label" => UniqueKey::OpenTableBill,
            _ => UniqueKey::Other,
        }
    }
}

/// What the rule keeps unique, in words for messages and logs ("a flash-sale reservation key
/// with this value already exists").
impl std::fmt::Display for UniqueKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UniqueKey::RegionCode => "region code",
            UniqueKey::StoreCode => "store code",
            UniqueKey::Username => "staff username",
            UniqueKey::StaffPhone => "staff phone",
            UniqueKey::BrandName => "brand name",
            UniqueKey::CategoryName => "category name",
            UniqueKey::SkuCode => "SKU code",
            UniqueKey::Barcode => "barcode",
            UniqueKey::IdempotencyKey => "idempotency key",
            UniqueKey::StockEntryKey => "stock ledger entry key",
            UniqueKey::CustomerIdentity => "customer identifier",
            UniqueKey::TierCode => "membership tier code",
            UniqueKey::FlashReservationKey => "flash-sale reservation key",
            UniqueKey::OpenTableBill => "table's open bill",
            UniqueKey::Other => "record",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not a database URL (expected sqlite://PATH or postgres://…): {0}")]
    BadUrl(String),
    #[error("a {0} with this value already exists")]
    Duplicate(UniqueKey),
    #[error("a referenced row does not exist")]
    MissingReference,
    #[error("the database is unreachable: {0}")]
    Unavailable(String),
    #[error("stored data cannot be read back: {0}")]
    Corrupt(String),
    #[error("migration {version} was changed after it was applied")]
    MigrationChanged { version: i64 },
    #[error(transparent)]
    Database(sqlx::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

impl StoreError {
    /// Whether the database undid the transaction to break a deadlock (`40P01`) or a
    /// serialization conflict (`40001`): nothing of it was kept, and running it again may
    /// succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            StoreError::Database(sqlx::Error::Database(db)) => matches!(db.code().as_deref(), Some("40P01" | "40001")),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        use sqlx::error::ErrorKind;
        match &err {
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => StoreError::Duplicate(unique_key(db.as_ref())),
                ErrorKind::ForeignKeyViolation => StoreError::MissingReference,
                _ => StoreError::Database(err),
            },
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
                StoreError::Unavailable(err.to_string())
            }
            sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) | sqlx::Error::ColumnNotFound(_) => {
                StoreError::Corrupt(err.to_string())
            }
            _ => StoreError::Database(err),
        }
    }
}

fn unique_key(db: &dyn sqlx::error::DatabaseError) -> UniqueKey {
    if let Some(constraint) = db.constraint() {
        // PostgreSQL: `stores_code_key`.
        return UniqueKey::from_normalised(constraint.strip_suffix("_key").unwrap_or(constraint));
    }
    // SQLite: "UNIQUE constraint failed: stores.code" or "…: t.a, t.b".
    let message = db.message();
    let columns = message.rsplit(": ").next().unwrap_or_default();
    let mut parts = columns.split(", ");
    let first = parts.next().unwrap_or_default();
    let mut name = first.replace('.', "_");
    for column in parts {
        name.push('_');
        name.push_str(column.rsplit('.').next().unwrap_or_default());
    }
    UniqueKey::from_normalised(&name)
}
