//! Whole-table reads through the C API ([`raw`](super::raw)) on the transaction's own handle:
//! the full scores rebuild's scans of customers, orders, order lines, scores and tags
//! (`sql/scores.rs`, `sql/tags.rs`). Through sqlx each row cost ~3 µs (a hand-off from the
//! connection's worker thread, a decoded copy of every column): 50 s of a rebuild of 1M
//! customers and 10M orders, where SQLite itself steps through the same rows in about 2 s. Here
//! a row is stepped and its columns read in place, in the transaction's snapshot.
//!
//! A scan runs on the calling thread, which it holds for as long as it reads (seconds at
//! millions of rows): on a multi-threaded runtime it tells tokio first (`block_in_place`), so
//! the worker's other tasks move to another thread meanwhile.

use std::ffi::CString;

use chrono::{DateTime, NaiveDate, NaiveDateTime, TimeZone as _, Utc};
use quanyu_domain::time::Timestamp;
use uuid::Uuid;

use super::{
    SqlTx, raw,
    raw::{Statement, corrupt},
    sql::Param,
};
use crate::{StoreError, StoreResult};

/// The current row of a scan; columns by their position in the `SELECT`.
pub(super) struct ScanRow<'s> {
    statement: &'s Statement,
}

impl ScanRow<'_> {
    pub(super) fn uuid(&self, index: i32) -> StoreResult<Uuid> {
        // SAFETY: a row is current (a scan hands out rows only then); the bytes are copied.
        Uuid::from_slice(unsafe { self.statement.column(index) }).map_err(|e| corrupt("a stored id", &e))
    }

    pub(super) fn int(&self, index: i32) -> StoreResult<i64> {
        Ok(self.statement.column_int(index))
    }

    pub(super) fn text(&self, index: i32) -> StoreResult<String> {
        // SAFETY: as for `uuid`.
        let bytes = unsafe { self.statement.column(index) };
        Ok(std::str::from_utf8(bytes).map_err(|e| corrupt("a stored text", &e))?.to_owned())
    }

    pub(super) fn optional_text(&self, index: i32) -> StoreResult<Option<String>> {
        if self.statement.is_null(index) { Ok(None) } else { self.text(index).map(Some) }
    }

    pub(super) fn timestamp(&self, index: i32) -> StoreResult<Timestamp> {
        // SAFETY: as for `uuid`.
        let bytes = unsafe { self.statement.column(index) };
        timestamp(bytes).ok_or_else(|| corrupt("a stored time", &String::from_utf8_lossy(bytes)))
    }

    pub(super) fn optional_timestamp(&self, index: i32) -> StoreResult<Option<Timestamp>> {
        if self.statement.is_null(index) { Ok(None) } else { self.timestamp(index).map(Some) }
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
    let sql = CString::new(sql).map_err(|e| StoreError::Unavailable(format!("a statement with a NUL: {e}")))?;
    let mut handle = tx.tx.lock_handle().await?;
    let db = handle.as_raw_handle();
    off_the_async_workers(|| {
        let statement = Statement::prepare(db, &sql)?;
        // Bound as sqlx binds them, so that comparisons with stored values go as they would there.
        let stepped = raw::with_values(args, |values| {
            statement.bind(values)?;
            let row = ScanRow { statement: &statement };
            // SAFETY: the parameters point into `values`, which outlive the statement's reset
            // below.
            while unsafe { statement.step() }? {
                each(&row)?;
            }
            Ok(())
        });
        statement.reset();
        stepped
    })
}

/// Runs `read` on this thread, telling a multi-threaded tokio runtime that it blocks.
fn off_the_async_workers<T>(read: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|runtime| runtime.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(read),
        _ => read(),
    }
}

/// A stored time as sqlx reads it back: RFC 3339 (how it writes them, read here without
/// chrono's general parser for the usual `YYYY-MM-DDTHH:MM:SS[.fraction]+00:00`), or SQLite's
/// own `YYYY-MM-DD HH:MM:SS[.fraction]` (UTC).
fn timestamp(bytes: &[u8]) -> Option<Timestamp> {
    if let Some(at) = utc_rfc3339(bytes) {
        return Some(at);
    }
    let text = std::str::from_utf8(bytes).ok()?;
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Some(at.with_timezone(&Utc));
    }
    ["%F %T%.f", "%FT%T%.f"]
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .map(|at| Utc.from_utc_datetime(&at))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](+00:00|Z)`, the form sqlx writes a UTC time in.
fn utc_rfc3339(bytes: &[u8]) -> Option<Timestamp> {
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes.get(range)?.iter().try_fold(0u32, |n, &b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
    };
    if bytes.len() < 20 || [bytes[4], bytes[7], bytes[10], bytes[13], bytes[16]] != *b"--T::" {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(i32::try_from(digits(0..4)?).ok()?, digits(5..7)?, digits(8..10)?)?;
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    let mut rest = &bytes[19..];
    let mut nanos = 0;
    if let Some((b'.', fraction)) = rest.split_first() {
        let places = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if places == 0 || places > 9 {
            return None;
        }
        nanos = digits(20..20 + places)? * 10u32.pow(9 - u32::try_from(places).ok()?);
        rest = &fraction[places..];
    }
    if rest != b"+00:00" && rest != b"Z" {
        return None;
    }
    let at = date.and_hms_nano_opt(hour, minute, second, nanos)?;
    Some(Utc.from_utc_datetime(&at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_back_as_sqlx_reads_them() {
        let written = [
            "2025-12-04T00:00:00+00:00",
            "2025-12-04T23:59:59.5+00:00",
            "2024-02-29T12:34:56.123456789+00:00",
            "2024-02-29T12:34:56.000123Z",
            "1999-01-01T01:02:03+08:00",
            "2025-12-04 10:11:12",
            "2025-12-04 10:11:12.25",
        ];
        for text in written {
            let general = DateTime::parse_from_rfc3339(text)
                .map(|at| at.with_timezone(&Utc))
                .ok()
                .or_else(|| NaiveDateTime::parse_from_str(text, "%F %T%.f").ok().map(|at| Utc.from_utc_datetime(&at)));
            assert_eq!(timestamp(text.as_bytes()), general, "{text}");
            assert!(general.is_some(), "{text}");
        }
        let at = Utc.with_ymd_and_hms(2025, 6, 1, 8, 0, 0).unwrap() + chrono::Duration::microseconds(1_250);
        assert_eq!(timestamp(super::super::raw::timestamp(at).as_bytes()), Some(at));
        for bad in ["", "2025-13-01T00:00:00+00:00", "2025-12-04T00:00:00", "2025-12-04T00:00:00.+00:00", "x"] {
            assert_eq!(utc_rfc3339(bad.as_bytes()), None, "{bad}");
        }
        assert_eq!(timestamp(b"2025-02-30T00:00:00+00:00"), None);
    }
}
