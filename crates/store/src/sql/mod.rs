//! The SQL of every repository, written once and compiled into each backend module (`sqlite`
//! and `postgres` both declare `mod sql` pointing here), against that backend's `Db` and
//! `SqlTx`. Only portable SQL lives here: `$n` placeholders, `ON CONFLICT`, `RETURNING`,
//! `LOWER(…) LIKE … ESCAPE '\'`.

mod catalog;
mod documents;
mod flash;
mod inventory;
mod log;
mod orders;
mod org;
mod rows;
mod staff;

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
