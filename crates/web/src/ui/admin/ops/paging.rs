//! Cursor paging for the console's tables: the API's cursors only go forward, so a page's link
//! carries the trail of cursors that led to it, and "previous" pops the last one. The table's
//! sort travels with every link, since a cursor belongs to one order.

use serde::{Deserialize, Serialize};

use crate::ui::page::encode;

/// The paging part of a list page's query string.
#[derive(Debug, Default, Deserialize)]
pub struct PageParams {
    /// The `next_cursor` that opened this page; absent on the first page.
    pub cursor: Option<String>,
    /// The cursors of the pages before this one, oldest first, comma-separated (`-` is the
    /// first page).
    pub trail: Option<String>,
    /// The API's `sort` parameter, when a column header chose one.
    pub sort: Option<String>,
}

impl PageParams {
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().filter(|c| !c.is_empty())
    }

    pub fn sort(&self) -> Option<&str> {
        self.sort.as_deref().filter(|s| !s.is_empty())
    }

    /// The column headers of a table at `path` filtered by `filters`, sortable by `keys`.
    pub fn sort_links(
        &self,
        path: &str,
        filters: &[(&str, &str)],
        keys: &[&str],
    ) -> std::collections::BTreeMap<String, crate::ui::admin::sorting::SortLink> {
        crate::ui::admin::sorting::links(&format!("{path}{}", query_string(filters)), "sort", self.sort(), keys)
    }

    /// `filters` and the sort: the query of this listing without its position, for the CSV.
    pub fn with_sort<'a>(&'a self, filters: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut pairs = filters.to_vec();
        pairs.push(("sort", self.sort().unwrap_or("")));
        pairs
    }

    fn trail(&self) -> Vec<&str> {
        self.trail.as_deref().unwrap_or("").split(',').filter(|c| !c.is_empty()).collect()
    }
}

/// Links to the neighbouring pages of a table, for `ops_macros.html`'s pager.
#[derive(Debug, Serialize)]
pub struct Pager {
    pub first: Option<String>,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// 1 on the first page.
    pub number: usize,
}

/// A query string built from `pairs`, leaving out empty values.
pub fn query_string(pairs: &[(&str, &str)]) -> String {
    let parts: Vec<String> =
        pairs.iter().filter(|(_, v)| !v.is_empty()).map(|(k, v)| format!("{k}={}", encode(v))).collect();
    if parts.is_empty() { String::new() } else { format!("?{}", parts.join("&")) }
}

/// The pager of a page of `path` filtered by `filters`, opened with `params`, whose listing
/// says `next_cursor`.
pub fn pager(path: &str, filters: &[(&str, &str)], params: &PageParams, next_cursor: Option<&str>) -> Pager {
    let trail = params.trail();
    let link = |cursor: &str, trail: &[&str]| {
        let joined = trail.join(",");
        let mut pairs = params.with_sort(filters);
        pairs.push(("cursor", cursor));
        pairs.push(("trail", &joined));
        format!("{path}{}", query_string(&pairs))
    };
    let on_first = params.cursor().is_none();
    let prev = (!on_first).then(|| match trail.split_last() {
        Some((last, before)) if *last != "-" => link(last, before),
        _ => link("", &[]),
    });
    let next = next_cursor.map(|next| {
        let mut longer = trail.clone();
        longer.push(params.cursor().unwrap_or("-"));
        link(next, &longer)
    });
    Pager { first: (!on_first).then(|| link("", &[])), prev, next, number: if on_first { 1 } else { trail.len() + 1 } }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pager_walks_forward_and_back() {
        let filters = [("q", "牛奶"), ("status", "")];
        let first = PageParams::default();
        let p1 = pager("/admin/x", &filters, &first, Some("c1"));
        assert_eq!((p1.first, p1.prev, p1.number), (None, None, 1));
        assert_eq!(p1.next.as_deref(), Some("/admin/x?q=%E7%89%9B%E5%A5%B6&cursor=c1&trail=-"));
        let second = PageParams { cursor: Some("c1".into()), trail: Some("-".into()), sort: None };
        let p2 = pager("/admin/x", &filters, &second, Some("c2"));
        assert_eq!(p2.number, 2);
        assert_eq!(p2.prev.as_deref(), Some("/admin/x?q=%E7%89%9B%E5%A5%B6"));
        assert_eq!(p2.next.as_deref(), Some("/admin/x?q=%E7%89%9B%E5%A5%B6&cursor=c2&trail=-%2Cc1"));
        let third = PageParams { cursor: Some("c2".into()), trail: Some("-,c1".into()), sort: Some("-name".into()) };
        let p3 = pager("/admin/x", &filters, &third, None);
        assert_eq!((p3.number, p3.next), (3, None));
        assert_eq!(p3.prev.as_deref(), Some("/admin/x?q=%E7%89%9B%E5%A5%B6&sort=-name&cursor=c1&trail=-"));
        assert_eq!(query_string(&[("a", ""), ("b", "")]), "");
    }
}
