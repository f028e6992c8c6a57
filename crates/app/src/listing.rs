//! Cursor-paginated listings: a page of items and the cursor of the next page.

use quanyu_store::Page;
use uuid::Uuid;

use crate::{AppError, AppResult};

pub const DEFAULT_LIMIT: u32 = 50;

/// An opaque page cursor as clients see it. Today it is the last id of the previous page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    /// Parses a client's cursor and limit into a store page that asks for one extra row, so
    /// [`Listing::from_rows`] knows whether another page exists.
    pub fn page(cursor: Option<&str>, limit: Option<u32>) -> AppResult<Page> {
        let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| {
                AppError::Invalid(quanyu_domain::DomainError::Malformed {
                    field: "cursor",
                    expected: "a cursor from next_cursor",
                })
            })?),
        };
        let limit = limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > Page::MAX_LIMIT {
            return Err(AppError::Invalid(quanyu_domain::DomainError::OutOfRange {
                field: "limit",
                min: 1,
                max: Page::MAX_LIMIT.into(),
            }));
        }
        Ok(Page { after, limit: limit + 1 })
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Listing<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<Cursor>,
}

impl<T> Listing<T> {
    /// Builds a page from rows fetched with the page of [`Cursor::page`] (one row more than the
    /// client asked for).
    pub fn from_rows(mut rows: Vec<T>, page: Page, id_of: impl Fn(&T) -> Uuid) -> Listing<T> {
        let wanted = (page.limit - 1) as usize;
        let next_cursor = if rows.len() > wanted {
            rows.truncate(wanted);
            rows.last().map(|last| Cursor(id_of(last).to_string()))
        } else {
            None
        };
        Listing { items: rows, next_cursor }
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listing<U> {
        Listing { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}
