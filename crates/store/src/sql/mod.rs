//! The SQL of every repository, written once and compiled into each backend module (`sqlite`
//! and `postgres` both declare `mod sql` pointing here), against that backend's `Db` and
//! `SqlTx`. Only portable SQL lives here: `$n` placeholders, `ON CONFLICT`, `RETURNING`,
//! `LOWER(…) LIKE … ESCAPE '\'`.

mod catalog;
mod customer_auth;
mod customers;
mod documents;
mod events;
mod flash;
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
}
