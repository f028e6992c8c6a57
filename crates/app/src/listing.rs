//! Cursor-paginated listings: a page of items and the cursor of the next page.

use quanyu_domain::DomainError;
use quanyu_domain::Expected;
use quanyu_store::{Page, SortKey, SortOrder, SortValue, Sorted, Sorting};
use uuid::Uuid;

use crate::{AppError, AppResult};

pub const DEFAULT_LIMIT: u32 = 50;

/// An opaque page cursor as clients see it: the last id of the previous page, and in a listing
/// sorted by a column also that row's value of the column and the sort it belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub String);

impl Cursor {
    /// Parses a client's cursor and limit into a store page that asks for one extra row, so
    /// [`Listing::from_rows`] knows whether another page exists.
    pub fn page(cursor: Option<&str>, limit: Option<u32>) -> AppResult<Page> {
        let after = match cursor.map(str::trim).filter(|c| !c.is_empty()) {
            None => None,
            Some(raw) => Some(Uuid::parse_str(raw).map_err(|_| malformed_cursor())?),
        };
        Ok(Page { after, limit: page_limit(limit)? })
    }

    /// [`Cursor::page`] for a listing in `sorting`'s order, which also learns the cursor's sort
    /// value. A cursor of a listing sorted by a column reads `<sort>~<value>~<id>` (the value
    /// `i<integer>` or `s<hex of the UTF-8 text>`) and is refused under any other sort, so a
    /// client that changes the order starts again at the top.
    pub fn sorted_page<K: SortKey>(
        cursor: Option<&str>,
        limit: Option<u32>,
        sorting: &mut Sorting<K>,
    ) -> AppResult<Page> {
        let order = sorting.order;
        let Some(key) = order.key else { return Cursor::page(cursor, limit) };
        let Some(raw) = cursor.map(str::trim).filter(|c| !c.is_empty()) else {
            return Cursor::page(None, limit);
        };
        let mut parts = raw.splitn(3, '~');
        let (Some(sort), Some(value), Some(id)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(malformed_cursor());
        };
        if sort != sort_param(key, order.descending) {
            return Err(malformed_cursor());
        }
        let after_value = decode_value(value).ok_or_else(malformed_cursor)?;
        let after = Uuid::parse_str(id).map_err(|_| malformed_cursor())?;
        let page = Page { after: Some(after), limit: page_limit(limit)? };
        sorting.after = Some(after_value);
        Ok(page)
    }
}

/// Checks a listing's search text (`q`, a barcode…) before it reaches a query: text with a
/// control character matches nothing stored, and PostgreSQL refuses a NUL outright.
pub fn searchable(field: &'static str, search: Option<&str>) -> AppResult<()> {
    match search {
        Some(search) => Ok(quanyu_domain::text::plain(field, search)?),
        None => Ok(()),
    }
}

fn malformed_cursor() -> AppError {
    AppError::Invalid(DomainError::Malformed { field: "cursor", expected: Expected::Cursor })
}

fn page_limit(limit: Option<u32>) -> AppResult<u32> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if limit == 0 || limit > Page::MAX_LIMIT {
        return Err(AppError::Invalid(DomainError::OutOfRange { field: "limit", min: 1, max: Page::MAX_LIMIT.into() }));
    }
    // One row more than asked for, so [`Listing::from_rows`] knows whether another page exists.
    Ok(limit + 1)
}

/// The name of creation order in a `sort` parameter; every listing accepts it.
pub const CREATED_AT: &str = "created_at";

/// Parses a list's `sort` parameter: a key of `K` or `created_at`, descending when prefixed
/// with `-`; absent or empty is creation order, oldest first.
pub fn parse_sort<K: SortKey>(raw: Option<&str>) -> AppResult<SortOrder<K>> {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else { return Ok(SortOrder::default()) };
    let (descending, name) = match raw.strip_prefix('-') {
        Some(name) => (true, name),
        None => (false, raw),
    };
    if name == CREATED_AT {
        return Ok(SortOrder { key: None, descending });
    }
    let key = K::NAMES.iter().find(|(known, _)| *known == name).map(|(_, key)| *key);
    key.map(|key| SortOrder { key: Some(key), descending })
        .ok_or_else(|| AppError::Invalid(DomainError::UnknownValue { field: "sort", value: raw.to_owned() }))
}

/// The `sort` parameter that asks for `key` in this direction.
pub fn sort_param<K: SortKey>(key: K, descending: bool) -> String {
    format!("{}{}", if descending { "-" } else { "" }, key.name())
}

fn encode_value(value: &SortValue) -> String {
    match value {
        SortValue::Int(n) => format!("i{n}"),
        SortValue::Text(text) => format!("s{}", quanyu_domain::text::hex(text.as_bytes())),
    }
}

fn decode_value(raw: &str) -> Option<SortValue> {
    if let Some(n) = raw.strip_prefix('i') {
        return n.parse().ok().map(SortValue::Int);
    }
    let hex = raw.strip_prefix('s')?;
    if hex.len() % 2 != 0 || !hex.is_ascii() {
        return None;
    }
    let bytes: Option<Vec<u8>> =
        (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect();
    // Sort values come from stored text, which holds no control characters (nor can
    // PostgreSQL compare with a NUL).
    let text = String::from_utf8(bytes?).ok().filter(|t| quanyu_domain::text::plain("cursor", t).is_ok())?;
    Some(SortValue::Text(text))
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

    /// [`Listing::from_rows`] for a listing in `order`: the next cursor also carries the last
    /// row's value of the sort column.
    pub fn from_sorted_rows<K: SortKey>(
        rows: Vec<T>,
        page: Page,
        order: SortOrder<K>,
        id_of: impl Fn(&T) -> Uuid,
    ) -> Listing<T>
    where
        T: Sorted<K>,
    {
        let Some(key) = order.key else { return Listing::from_rows(rows, page, id_of) };
        let mut listing = Listing::from_rows(rows, page, &id_of);
        if listing.next_cursor.is_some()
            && let Some(last) = listing.items.last()
        {
            let value = encode_value(&last.sort_value(key));
            let sort = sort_param(key, order.descending);
            listing.next_cursor = Some(Cursor(format!("{sort}~{value}~{}", id_of(last))));
        }
        listing
    }

    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Listing<U> {
        Listing { items: self.items.into_iter().map(f).collect(), next_cursor: self.next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use quanyu_store::StoreSort;

    use super::*;

    #[test]
    fn sort_parameters_parse_and_round_trip() {
        assert_eq!(parse_sort::<StoreSort>(None).unwrap(), SortOrder::default());
        assert_eq!(parse_sort::<StoreSort>(Some("-created_at")).unwrap(), SortOrder { key: None, descending: true });
        let by_name = parse_sort::<StoreSort>(Some("-name")).unwrap();
        assert_eq!(by_name, SortOrder { key: Some(StoreSort::Name), descending: true });
        assert_eq!(sort_param(StoreSort::Area, false), "area_m2");
        assert!(matches!(
            parse_sort::<StoreSort>(Some("colour")),
            Err(AppError::Invalid(DomainError::UnknownValue { field: "sort", .. }))
        ));
    }

    #[test]
    fn a_sorted_cursor_carries_the_value_and_only_fits_its_own_sort() {
        let order = SortOrder { key: Some(StoreSort::Name), descending: true };
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = Cursor::sorted_page(None, Some(2), &mut order.into()).unwrap();
        struct Row(Uuid, &'static str);
        impl Sorted<StoreSort> for Row {
            fn sort_value(&self, _: StoreSort) -> SortValue {
                SortValue::Text(self.1.to_owned())
            }
        }
        let names = ["北京路店", "a~b", "z"];
        let rows: Vec<Row> = ids.iter().zip(names).map(|(id, name)| Row(*id, name)).collect();
        let listing = Listing::from_sorted_rows(rows, page, order, |r| r.0);
        let cursor = listing.next_cursor.expect("a third row means another page").0;
        let mut sorting = Sorting::from(order);
        let next = Cursor::sorted_page(Some(&cursor), Some(2), &mut sorting).unwrap();
        assert_eq!(next.after, Some(ids[1]));
        assert_eq!(sorting.after, Some(SortValue::Text("a~b".into())));
        let ascending = SortOrder { descending: false, ..order };
        assert!(Cursor::sorted_page(Some(&cursor), Some(2), &mut ascending.into()).is_err());
        assert!(Cursor::sorted_page(Some("-name~s4g~x"), None, &mut order.into()).is_err());
        let mut by_area = Sorting::from(SortOrder { key: Some(StoreSort::Area), descending: false });
        let int_cursor = format!("area_m2~i-42~{}", ids[0]);
        Cursor::sorted_page(Some(&int_cursor), None, &mut by_area).unwrap();
        assert_eq!(by_area.after, Some(SortValue::Int(-42)));
    }
}
