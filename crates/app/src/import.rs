//! Bulk import and export (批量导入 / 导出) of regions, stores, staff and SKUs, as rows of text.
//!
//! A chain arrives with its stores, staff and catalog in a legacy POS or a spreadsheet; this
//! module turns such rows into domain values with the same validators the API uses, and back.
//! Rows are text (one `String` per column) so that every mistake in a file, a malformed number
//! as much as an unknown region, is reported the same way: as a [`RowIssue`] naming the line and
//! the column. An import is all or nothing: every row is checked first (in the file and against
//! the database), and only a clean file is written, in one transaction, with an audit entry and
//! an outbox event per created entity. References between entities are by *code* or *name*
//! (region code, store code, category path, brand name, product name), never by id, so a file
//! can be written by hand and exported from one deployment into another.
//!
//! The CSV format itself (headers, quoting) belongs to the CLI; this module never sees a file.

mod catalog;
mod org;

use quanyu_domain::Expected;
use std::{collections::HashMap, fmt};

use quanyu_store::{Page, UniqueKey};

use crate::AppError;

pub use catalog::SkuRow;
pub use org::{RegionRow, StaffRow, StoreRow};

/// One problem with one row of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowIssue {
    /// The 1-based line in the file (the header is line 1).
    pub line: usize,
    /// The column at fault, when one is.
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for RowIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, field {field}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// What an import created, by kind (`("stores", 60)`), in creation order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub created: Vec<(&'static str, usize)>,
}

impl fmt::Display for ImportSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.created.iter().map(|(kind, n)| format!("{n} {kind}")).collect();
        write!(f, "created {}", if parts.is_empty() { "nothing".to_owned() } else { parts.join(", ") })
    }
}

/// The outcome of an import that could run: either everything was written, or nothing was and
/// here is every row's problem. (Failures of the database itself are an `Err(AppError)`.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportOutcome {
    Imported(ImportSummary),
    Rejected(Vec<RowIssue>),
}

/// Collects the issues of a whole file, so that one run reports every bad row at once.
#[derive(Debug, Default)]
struct Issues(Vec<RowIssue>);

impl Issues {
    fn push(&mut self, line: usize, field: Option<&str>, message: impl Into<String>) {
        self.0.push(RowIssue { line, field: field.map(str::to_owned), message: message.into() });
    }

    /// Keeps the value, or records why there is none.
    fn check<T>(&mut self, line: usize, result: Result<T, AppError>) -> Option<T> {
        result.map_err(|err| self.0.push(issue_from(line, err))).ok()
    }

    /// Records that `key` in `field` repeats an earlier row of the same file.
    fn unique_in_file(&mut self, seen: &mut HashMap<String, usize>, line: usize, field: &str, key: &str) {
        if let Some(first) = seen.get(key) {
            self.push(line, Some(field), format!("{key:?} is also on line {first}"));
        } else {
            seen.insert(key.to_owned(), line);
        }
    }

    /// `Rejected` with the issues in line order, or `None` when the file is clean.
    fn into_rejection(mut self) -> Option<ImportOutcome> {
        if self.0.is_empty() {
            return None;
        }
        self.0.sort_by_key(|issue| issue.line);
        Some(ImportOutcome::Rejected(self.0))
    }
}

fn issue_from(line: usize, err: AppError) -> RowIssue {
    let (field, message) = match err {
        AppError::Row { source, .. } => return issue_from(line, *source),
        AppError::Invalid(e) => match e.field() {
            // The domain names API fields (`region_id`); a file's reader knows its columns.
            Some(field) => (Some(column_of(field)), e.to_string().replacen(field, &column_of(field), 1)),
            None => (None, e.to_string()),
        },
        AppError::UnknownReference { field, entity } => (Some(column_of(field)), format!("no such {entity}")),
        AppError::Duplicate(key) => (unique_column(key), "already exists".to_owned()),
        other => (None, other.to_string()),
    };
    RowIssue { line, field, message }
}

/// The CSV column of an API field name: files reference by code or name, the API by id.
fn column_of(field: &str) -> String {
    match field {
        "region_id" => "region",
        "store_id" => "store",
        "category_id" => "category",
        "brand_id" => "brand",
        "product_id" => "product",
        "location" => "lat",
        other => other,
    }
    .to_owned()
}

fn unique_column(key: UniqueKey) -> Option<String> {
    let column = match key {
        UniqueKey::RegionCode | UniqueKey::StoreCode | UniqueKey::SkuCode | UniqueKey::TierCode => "code",
        UniqueKey::Username => "username",
        UniqueKey::StaffPhone => "phone",
        UniqueKey::Barcode => "barcode",
        UniqueKey::BrandName => "brand",
        UniqueKey::CategoryName => "category",
        UniqueKey::CustomerIdentity => "value",
        UniqueKey::IdempotencyKey
        | UniqueKey::StockEntryKey
        | UniqueKey::FlashReservationKey
        | UniqueKey::OpenTableBill
        | UniqueKey::Other => {
            return None;
        }
    };
    Some(column.to_owned())
}

/// A text column that may be empty.
fn optional(raw: &str) -> Option<&str> {
    Some(raw.trim()).filter(|v| !v.is_empty())
}

/// `true`/`false` (also `1`/`0`, `yes`/`no`, `是`/`否`); empty is false.
fn parse_flag(field: &'static str, raw: &str) -> Result<bool, AppError> {
    match raw.trim().to_lowercase().as_str() {
        "" | "false" | "0" | "no" | "n" | "否" => Ok(false),
        "true" | "1" | "yes" | "y" | "是" => Ok(true),
        _ => Err(malformed(field, Expected::TrueOrFalse)),
    }
}

fn parse_number<T: std::str::FromStr>(field: &'static str, raw: &str) -> Result<T, AppError> {
    raw.trim().parse().map_err(|_| malformed(field, Expected::Number))
}

fn malformed(field: &'static str, expected: quanyu_domain::Expected) -> AppError {
    AppError::Invalid(quanyu_domain::DomainError::Malformed { field, expected })
}

fn page_all() -> Page {
    Page::first(Page::MAX_LIMIT)
}

/// Reads every row of a keyset-paginated listing: `all_pages!(|page| tx.list_x(page), |row| id)`.
macro_rules! all_pages {
    (|$page:ident| $fetch:expr, $id:expr) => {{
        let mut all = Vec::new();
        let mut $page = $crate::import::page_all();
        loop {
            let rows = $fetch.await?;
            let full = rows.len() >= ::quanyu_store::Page::MAX_LIMIT as usize;
            if let Some(last) = rows.last() {
                $page.after = Some(($id)(last));
            }
            all.extend(rows);
            if !full {
                break;
            }
        }
        all
    }};
}
use all_pages;

#[cfg(test)]
mod tests {
    use quanyu_domain::DomainError;

    use super::*;

    #[test]
    fn issues_name_the_csv_column() {
        let issue = issue_from(7, AppError::Invalid(DomainError::Required { field: "region_id" }));
        assert_eq!(issue.to_string(), "line 7, field region: region is required");
        let nested = AppError::Row { row: 0, source: Box::new(AppError::Duplicate(UniqueKey::Barcode)) };
        assert_eq!(issue_from(3, nested).field.as_deref(), Some("barcode"));
    }

    #[test]
    fn flags() {
        for (raw, want) in [("", false), ("TRUE", true), ("是", true), ("0", false)] {
            assert_eq!(parse_flag("online_only", raw).ok(), Some(want), "{raw}");
        }
        assert!(parse_flag("online_only", "maybe").is_err());
    }

    #[test]
    fn duplicates_in_a_file_point_at_the_first_line() {
        let (mut issues, mut seen) = (Issues::default(), HashMap::new());
        issues.unique_in_file(&mut seen, 2, "code", "SH-001");
        issues.unique_in_file(&mut seen, 5, "code", "SH-001");
        assert_eq!(issues.0.len(), 1);
        assert_eq!(issues.0[0].to_string(), "line 5, field code: \"SH-001\" is also on line 2");
    }
}
