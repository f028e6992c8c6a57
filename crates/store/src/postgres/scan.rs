//! Whole-table reads for the full scores rebuild (`sql/scores.rs`, `sql/tags.rs`): one
//! streaming query each, rows handed over as they arrive. The same interface as SQLite's, which
//! reads through the C API instead of sqlx.

use futures::TryStreamExt as _;
use quanyu_domain::time::Timestamp;
use sqlx::{AssertSqlSafe, Row as _, postgres::PgRow};
use uuid::Uuid;

use super::{
    SqlTx,
    sql::{Param, bind_param},
};
use crate::StoreResult;

/// The current row of a scan; columns by their position in the `SELECT`.
pub(super) struct ScanRow<'r> {
    row: &'r PgRow,
}

impl ScanRow<'_> {
    pub(super) fn uuid(&self, index: usize) -> StoreResult<Uuid> {
        Ok(self.row.try_get(index)?)
    }

    pub(super) fn int(&self, index: usize) -> StoreResult<i64> {
        Ok(self.row.try_get(index)?)
    }

    pub(super) fn text(&self, index: usize) -> StoreResult<String> {
        Ok(self.row.try_get(index)?)
    }

    pub(super) fn optional_text(&self, index: usize) -> StoreResult<Option<String>> {
        Ok(self.row.try_get(index)?)
    }

    pub(super) fn timestamp(&self, index: usize) -> StoreResult<Timestamp> {
        Ok(self.row.try_get(index)?)
    }

    pub(super) fn optional_timestamp(&self, index: usize) -> StoreResult<Option<Timestamp>> {
        Ok(self.row.try_get(index)?)
    }
}

/// Runs `sql` with `args` in `tx` and hands each row to `each`, which may stop the scan with
/// an error.
pub(super) async fn scan_rows(
    tx: &mut SqlTx,
    sql: &str,
    args: &[Param<'_>],
    each: &mut (dyn FnMut(&ScanRow<'_>) -> StoreResult<()> + Send),
) -> StoreResult<()> {
    let query = args.iter().fold(sqlx::query(AssertSqlSafe(sql.to_owned())), |query, &arg| bind_param(query, arg));
    let mut rows = query.fetch(&mut *tx.tx);
    while let Some(row) = rows.try_next().await? {
        each(&ScanRow { row: &row })?;
    }
    Ok(())
}
