//! Sortable table headers: each sortable column's header links to the same page sorted by that
//! column (ascending first, then descending on a second click), keeping the filters and going
//! back to the first page; `admin/sort.html` renders them with `aria-sort`.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::ui::page::encode;

/// One column header's link and its current state.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct SortLink {
    pub href: String,
    /// `ascending`, `descending` or `none`, as `aria-sort` spells them.
    pub state: &'static str,
}

/// The header links of `keys` (the API's sort names) for a page at `base` (its path and filter
/// query, without sort or cursor) currently sorted by `current`, which the page reads from its
/// query parameter `param` (`sort`, or a table's own on a page of several tables).
pub fn links(base: &str, param: &str, current: Option<&str>, keys: &[&str]) -> BTreeMap<String, SortLink> {
    let current = current.map(str::trim).unwrap_or("");
    let separator = if base.contains('?') { '&' } else { '?' };
    keys.iter()
        .map(|&key| {
            let state = match current.strip_prefix('-') {
                Some(name) if name == key => "descending",
                None if current == key => "ascending",
                _ => "none",
            };
            let next = if state == "ascending" { format!("-{key}") } else { key.to_owned() };
            (key.to_owned(), SortLink { href: format!("{base}{separator}{param}={}", encode(&next)), state })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_header_sorts_ascending_then_descending_and_keeps_the_filters() {
        let none = links("/admin/stores?q=%E5%BA%97", "sort", None, &["code", "area_m2"]);
        assert_eq!(none["code"], SortLink { href: "/admin/stores?q=%E5%BA%97&sort=code".into(), state: "none" });
        let up = links("/admin/stores", "sort", Some("code"), &["code", "area_m2"]);
        assert_eq!(up["code"], SortLink { href: "/admin/stores?sort=-code".into(), state: "ascending" });
        assert_eq!(up["area_m2"].state, "none");
        let down = links("/admin/stores", "sort", Some("-code"), &["code"]);
        assert_eq!(down["code"], SortLink { href: "/admin/stores?sort=code".into(), state: "descending" });
    }
}
