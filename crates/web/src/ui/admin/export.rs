//! CSV exports of the console's tables, for both halves: every page of the same use case the
//! table reads, streamed as it is read, so an export of any size holds one page in memory. A
//! UTF-8 byte-order mark leads the file so spreadsheet programs read Chinese text correctly;
//! cells a spreadsheet would run as a formula are defused with a leading `'`.

use std::future::Future;

use axum::{
    body::{Body, Bytes},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use quanyu_app::{AppResult, Listing};

/// The page size an export reads with (the largest the use cases accept).
pub const EXPORT_PAGE: u32 = 500;

/// One page of CSV rows and the cursor of the next page.
pub type CsvPage = (Vec<Vec<String>>, Option<String>);

/// Streams `header` then the rows of every page `fetch(cursor)` returns, starting with no
/// cursor and stopping after a page without a next cursor. The first page is read before the
/// response starts, so a refusal is an error page rather than a truncated file.
pub async fn export<F, Fut, E>(filename: &str, header: &[String], mut fetch: F) -> Result<Response, E>
where
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<CsvPage, E>> + Send + 'static,
    E: std::fmt::Debug + Send + 'static,
{
    let (rows, next) = fetch(None).await?;
    let mut head = Vec::from("\u{feff}".as_bytes());
    head.extend(encode(std::iter::once(header.to_vec())));
    head.extend(encode(rows.into_iter()));
    let rest = futures::stream::unfold((next, fetch), |(cursor, mut fetch)| async move {
        let cursor = cursor?;
        match fetch(Some(cursor)).await {
            Ok((rows, next)) => Some((Ok(Bytes::from(encode(rows.into_iter()))), (next, fetch))),
            Err(err) => {
                // The status line is gone; ending the body early is how the client learns.
                tracing::error!(?err, "CSV export failed mid-stream");
                Some((Err(std::io::Error::other("export failed")), (None, fetch)))
            }
        }
    });
    let body = futures::StreamExt::chain(futures::stream::iter([Ok(Bytes::from(head))]), rest);
    let disposition = format!("attachment; filename=\"{filename}\"");
    let mut response = Body::from_stream(body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// [`export`] over a use case's listing: `row(item)` for every item of every page.
pub async fn csv<T, F, Fut, R>(filename: &str, header: Vec<String>, mut fetch: F, row: R) -> AppResult<Response>
where
    T: Send + 'static,
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<Listing<T>>> + Send + 'static,
    R: Fn(&T) -> Vec<String> + Send + Sync + 'static,
{
    let row = std::sync::Arc::new(row);
    let pages = move |cursor| {
        let page = fetch(cursor);
        let row = row.clone();
        async move {
            let page = page.await?;
            Ok((page.items.iter().map(|item| row(item)).collect(), page.next_cursor.map(|c| c.0)))
        }
    };
    export(filename, &header, pages).await
}

/// Rows as CSV. A cell a spreadsheet would evaluate (`=`, `+`, `-`, `@` first) gets a leading
/// `'`, except plain numbers such as `-12.50`.
fn encode(rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        let cells = row.into_iter().map(|cell| {
            let risky = cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && cell.parse::<f64>().is_err();
            if risky { format!("'{cell}") } else { cell }
        });
        // Writing to a Vec cannot fail.
        let _ = writer.write_record(cells);
    }
    writer.into_inner().unwrap_or_default()
}

/// An optional value as a cell.
pub fn cell<T: ToString>(value: Option<T>) -> String {
    value.map(|v| v.to_string()).unwrap_or_default()
}

/// An amount of 分 as yuan with two decimals (`1250` → `12.50`): a number a spreadsheet can sum.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.unsigned_abs() / 100, fen.unsigned_abs() % 100)
}

#[cfg(test)]
mod tests {
    use http_body_util::BodyExt as _;
    use quanyu_app::{AppError, Cursor};

    use super::*;

    /// Pages of 0..7 three at a time, the cursor being the next number.
    async fn numbers(cursor: Option<String>) -> AppResult<Listing<u32>> {
        let start: u32 = cursor.map_or(0, |c| c.parse().unwrap());
        let items: Vec<u32> = (start..7).take(3).collect();
        let next_cursor = (start + 3 < 7).then(|| Cursor((start + 3).to_string()));
        Ok(Listing { items, next_cursor })
    }

    #[tokio::test]
    async fn an_export_streams_every_page_after_its_header() {
        let row = |n: &u32| vec![n.to_string(), format!("第{n}行")];
        let response = csv("n.csv", vec!["n".into(), "text".into()], numbers, row).await.unwrap();
        assert_eq!(response.headers()[axum::http::header::CONTENT_DISPOSITION], "attachment; filename=\"n.csv\"");
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let text = String::from_utf8(body.to_vec()).unwrap();
        let lines: Vec<&str> = text.strip_prefix('\u{feff}').unwrap().lines().collect();
        assert_eq!(lines.len(), 8, "{lines:?}");
        assert_eq!((lines[0], lines[1], lines[7]), ("n,text", "0,第0行", "6,第6行"));
    }

    #[tokio::test]
    async fn a_refusal_is_an_error_before_any_byte() {
        let refuse = |_: Option<String>| async { Err::<Listing<u32>, _>(AppError::Forbidden) };
        assert!(matches!(csv("x.csv", vec![], refuse, |_: &u32| vec![]).await, Err(AppError::Forbidden)));
    }

    #[test]
    fn cells_are_quoted_and_formulas_defused() {
        let rows = vec![vec!["a,b".to_owned(), "=SUM(A1)".to_owned(), "-5".to_owned(), "北区".to_owned()]];
        assert_eq!(String::from_utf8(encode(rows.into_iter())).unwrap(), "\"a,b\",'=SUM(A1),-5,北区\n");
        let rows = vec![vec!["-12.50".to_owned(), "-cmd".to_owned(), "@x".to_owned()]];
        assert_eq!(String::from_utf8(encode(rows.into_iter())).unwrap(), "-12.50,'-cmd,'@x\n");
        assert_eq!((yuan(1250), yuan(-5), yuan(0)), ("12.50".into(), "-0.05".into(), "0.00".into()));
    }
}
