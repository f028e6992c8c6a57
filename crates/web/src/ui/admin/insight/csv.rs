//! CSV exports of admin lists: the first page is read before the response starts (so a refusal
//! is an error page, not a broken file), then every further page is read through the same use
//! case and streamed as it comes. UTF-8 with a BOM, so spreadsheet programs read Chinese
//! correctly; cells that a spreadsheet would run as a formula are quoted with `'`.

use std::future::Future;

use axum::{
    body::{Body, Bytes},
    http::header,
    response::{IntoResponse, Response},
};

use crate::ui::page::UiError;

/// One page of rows and the cursor of the next page.
pub type CsvPage = (Vec<Vec<String>>, Option<String>);

/// Streams `header` then the rows of every page `fetch(cursor)` returns, starting with no
/// cursor and stopping after a page without a next cursor.
pub async fn export<F, Fut>(filename: &str, header_row: &[String], mut fetch: F) -> Result<Response, UiError>
where
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<CsvPage, UiError>> + Send + 'static,
{
    let (rows, next) = fetch(None).await?;
    let mut first = Vec::from("\u{feff}".as_bytes());
    first.extend(encode(std::slice::from_ref(&header_row.to_vec())));
    first.extend(encode(&rows));
    let rest = futures::stream::unfold((next, fetch), |(cursor, mut fetch)| async move {
        let cursor = cursor?;
        match fetch(Some(cursor)).await {
            Ok((rows, next)) => Some((Ok::<_, std::io::Error>(Bytes::from(encode(&rows))), (next, fetch))),
            Err(err) => {
                tracing::warn!(?err, "CSV export stopped part-way");
                Some((Err(std::io::Error::other("export failed")), (None, fetch)))
            }
        }
    });
    let body = futures::stream::iter([Ok(Bytes::from(first))]);
    let body = Body::from_stream(futures::StreamExt::chain(body, rest));
    let disposition = format!("attachment; filename=\"{filename}\"");
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)],
        body,
    )
        .into_response())
}

/// Rows as CSV bytes.
fn encode(rows: &[Vec<String>]) -> Vec<u8> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    for row in rows {
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(row.iter().map(|cell| defuse(cell).into_owned()));
    }
    writer.into_inner().unwrap_or_default()
}

/// A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@` first) gets a leading `'`, except
/// plain numbers such as `-12.50`.
fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
    let number = cell.parse::<f64>().is_ok();
    if risky && !number { format!("'{cell}").into() } else { cell.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let rows = vec![vec!["a,b".to_owned(), "=SUM(A1)".to_owned(), "-12.50".to_owned(), "牛奶".to_owned()]];
        assert_eq!(String::from_utf8(encode(&rows)).unwrap(), "\"a,b\",'=SUM(A1),-12.50,牛奶\n");
    }
}
