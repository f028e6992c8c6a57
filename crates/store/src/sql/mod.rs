//! The SQL of every repository, written once and compiled into each backend module (`sqlite`
//! and `postgres` both declare `mod sql` pointing here), against that backend's `Db` and
//! `SqlTx`. Only portable SQL lives here: `$n` placeholders, `ON CONFLICT`, `RETURNING`,
//! `LOWER(…) LIKE … ESCAPE '\'`.

mod catalog;
mod customer_auth;
mod customers;
mod documents;
mod events;
pub(super) mod flash;
mod group_buys;
mod inventory;
mod log;
mod marketing;
mod orders;
mod org;
mod referral;
mod reports;
mod rows;
mod scores;
mod staff;
mod stored_value;
mod tags;
mod timeline;

pub(super) mod migrate;

use super::SqlTx;

#[async_trait::async_trait]
impl crate::Tx for SqlTx {
    async fn commit(self: Box<Self>) -> crate::StoreResult<()> {
        self.tx.commit().await?;
        Ok(())
    }
}

/// A parameter of a statement bound both through sqlx ([`bind_param`]) and, on SQLite, through
/// the C API (`raw::with_values`): the whole-table scans, a flash sale's batch.
#[derive(Debug, Clone, Copy)]
pub(super) enum Param<'a> {
    Uuid(Option<uuid::Uuid>),
    Int(i64),
    Bytes(&'a [u8]),
    Text(Option<&'a str>),
    At(quanyu_domain::time::Timestamp),
}

type Query<'q> = sqlx::query::Query<'q, super::Db, <super::Db as sqlx::Database>::Arguments>;

/// `query` with `param` bound next, as sqlx binds its type.
pub(super) fn bind_param<'q>(query: Query<'q>, param: Param<'q>) -> Query<'q> {
    match param {
        Param::Uuid(id) => query.bind(id),
        Param::Int(n) => query.bind(n),
        Param::Bytes(bytes) => query.bind(bytes),
        Param::Text(text) => query.bind(text),
        Param::At(at) => query.bind(at),
    }
}

/// A case-insensitive substring pattern for `LIKE … ESCAPE '\'`, or `None` for no search.
fn like_pattern(search: Option<&str>) -> Option<String> {
    let term = search.map(str::trim).filter(|s| !s.is_empty())?;
    let mut pattern = String::with_capacity(term.len() + 2);
    pattern.push('%');
    for c in term.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    Some(pattern)
}

/// Placeholders for statements whose size depends on the data (multi-row inserts, `IN` lists),
/// handed out in textual order: `$1, $2…` on PostgreSQL, `?` on SQLite (see
/// `NUMBERED_PLACEHOLDERS`). Values are bound in the same order, a repeated value once per
/// placeholder. Only placeholders are generated, never values, so such statements stay
/// injection-free.
struct Placeholders {
    next: usize,
}

impl Placeholders {
    fn new() -> Placeholders {
        Placeholders { next: 1 }
    }

    /// The next placeholder.
    fn one(&mut self) -> String {
        let n = self.next;
        self.next += 1;
        if super::NUMBERED_PLACEHOLDERS { format!("${n}") } else { "?".to_owned() }
    }

    /// `count` placeholders separated by commas.
    fn list(&mut self, count: usize) -> String {
        (0..count).map(|_| self.one()).collect::<Vec<_>>().join(", ")
    }

    /// The `VALUES` of a multi-row insert: `rows` parenthesised lists of `columns` placeholders.
    fn rows(&mut self, rows: usize, columns: usize) -> String {
        (0..rows).map(|_| format!("({})", self.list(columns))).collect::<Vec<_>>().join(", ")
    }
}

impl SqlTx {
    /// Scans the rows of `sql` for any number of `keys` (see [`scan_rows`](super::scan::scan_rows)),
    /// 500 keys a statement: `sql` holds `{keys}` where the `IN` list's placeholders go.
    async fn scan_in(
        &mut self,
        sql: &str,
        keys: &[i64],
        each: &mut (dyn FnMut(&super::scan::ScanRow<'_>) -> crate::StoreResult<()> + Send),
    ) -> crate::StoreResult<()> {
        for chunk in keys.chunks(500) {
            let statement = sql.replace("{keys}", &Placeholders::new().list(chunk.len()));
            let args: Vec<Param<'_>> = chunk.iter().map(|&key| Param::Int(key)).collect();
            super::scan::scan_rows(self, &statement, &args, each).await?;
        }
        Ok(())
    }

    /// The rows of `sql` for any number of `keys`, 500 keys a statement: `sql` holds `{keys}`
    /// where the `IN` list's placeholders go, and each statement's rows come back in its own
    /// order. Only placeholders are generated (see [`Placeholders`]).
    async fn rows_in<K>(&mut self, sql: &str, keys: &[K]) -> crate::StoreResult<Vec<rows::Row>>
    where
        K: Copy + Send + Sync + 'static + for<'q> sqlx::Encode<'q, super::Db> + sqlx::Type<super::Db>,
    {
        let mut found = Vec::with_capacity(keys.len());
        for chunk in keys.chunks(500) {
            let statement = sql.replace("{keys}", &Placeholders::new().list(chunk.len()));
            let mut query = sqlx::query(sqlx::AssertSqlSafe(statement));
            for key in chunk {
                query = query.bind(*key);
            }
            found.extend(query.fetch_all(&mut *self.tx).await?);
        }
        Ok(found)
    }
}

/// A listing's sortable column as SQL: an expression over the listing's rows, and whether its
/// values are text (else integers).
trait SortColumn: crate::SortKey {
    fn sql(self) -> &'static str;
    fn is_text(self) -> bool;
}

/// The SQL of a sorted page: `condition` keeps the rows after the cursor and `order` is the
/// ORDER BY list (the sort column, then the id, so the order is total).
struct Keyset {
    condition: String,
    order: String,
}

/// The keyset of `sort` over rows whose id column is `id`. `after` is the placeholder of the
/// cursor's id and `value` that of its sort value, which [`bind_sort_value`] binds only when
/// the listing is sorted by a column, so `value` must be the statement's last placeholder.
/// Every piece of SQL here is a constant of the code, never input.
fn keyset<K: SortColumn>(sort: &crate::Sorting<K>, id: &str, after: &str, value: &str) -> Keyset {
    let (cmp, dir) = if sort.order.descending { ("<", "DESC") } else { (">", "ASC") };
    match sort.order.key {
        None => Keyset { condition: format!("({after} IS NULL OR {id} {cmp} {after})"), order: format!("{id} {dir}") },
        Some(key) => {
            let col = key.sql();
            Keyset {
                condition: format!(
                    "({after} IS NULL OR {col} {cmp} {value} OR ({col} = {value} AND {id} {cmp} {after}))"
                ),
                order: format!("{col} {dir}, {id} {dir}"),
            }
        }
    }
}

/// Binds the cursor's sort value when `sort` has a column (see [`keyset`]), typed as the column
/// is, so PostgreSQL compares like with like even when the value is absent.
fn bind_sort_value<'q, K: SortColumn>(
    query: sqlx::query::Query<'q, super::Db, <super::Db as sqlx::Database>::Arguments>,
    sort: &crate::Sorting<K>,
) -> sqlx::query::Query<'q, super::Db, <super::Db as sqlx::Database>::Arguments> {
    use crate::SortValue;
    match sort.order.key {
        None => query,
        Some(key) if key.is_text() => query.bind(match &sort.after {
            Some(SortValue::Text(text)) => Some(text.clone()),
            _ => None,
        }),
        Some(_) => query.bind(match sort.after {
            Some(SortValue::Int(value)) => Some(value),
            _ => None,
        }),
    }
}

/// Implements [`SortColumn`] for a listing's keys: `Key => ("sql", text?)`.
macro_rules! sort_columns {
    ($key:ty { $($variant:ident => ($sql:literal, $text:literal)),+ $(,)? }) => {
        impl super::SortColumn for $key {
            fn sql(self) -> &'static str {
                match self { $(<$key>::$variant => $sql),+ }
            }
            fn is_text(self) -> bool {
                match self { $(<$key>::$variant => $text),+ }
            }
        }
    };
}
pub(super) use sort_columns;
