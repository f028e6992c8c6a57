//! CSV exports of the console's tables (`…/export.csv`): every page of the same use case the
//! table reads, streamed as it is read, so an export of any size holds one page in memory. A
//! UTF-8 byte-order mark leads the file so spreadsheet programs read Chinese text correctly.

use std::future::Future;

use axum::{
    body::{Body, Bytes},
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use quanyu_app::{AppResult, Listing};

/// The page size an export reads with (the largest the use cases accept).
pub const EXPORT_PAGE: u32 = 500;

/// Streams `header` and then `row(item)` for every item of every page `fetch(cursor)` returns.
/// The first page is read before the response starts, so a refusal is an error page rather than
/// a truncated file.
pub async fn csv<T, F, Fut, R>(filename: &str, header: Vec<String>, mut fetch: F, row: R) -> AppResult<Response>
where
    T: Send + 'static,
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = AppResult<Listing<T>>> + Send + 'static,
    R: Fn(&T) -> Vec<String> + Send + Sync + 'static,
{
    let first = fetch(None).await?;
    let mut head = vec![0xEF, 0xBB, 0xBF];
    head.extend(encode(std::iter::once(header)));
    head.extend(encode(first.items.iter().map(&row)));
    let state = Some((Some(Bytes::from(head)), first.next_cursor.map(|c| c.0), fetch, row));
    let stream = futures::stream::unfold(state, |state| async move {
        let (pending, cursor, mut fetch, row) = state?;
        if let Some(bytes) = pending {
            return Some((Ok(bytes), Some((None, cursor, fetch, row))));
        }
        let cursor = cursor?;
        match fetch(Some(cursor)).await {
            Ok(page) => {
                let bytes = Bytes::from(encode(page.items.iter().map(&row)));
                Some((Ok(bytes), Some((None, page.next_cursor.map(|c| c.0), fetch, row))))
            }
            Err(err) => {
                // The status line is gone; ending the body early is how the client learns.
                tracing::error!(error = %err, "CSV export failed mid-stream");
                Some((Err(std::io::Error::other(err.to_string())), None))
            }
        }
    });
    let disposition = format!("attachment; filename=\"{filename}\"");
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&disposition).unwrap_or(HeaderValue::from_static("attachment")),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Rows as CSV. A cell that a spreadsheet would run as a formula is prefixed with `'`.
fn encode(rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    for row in rows {
        let cells = row
            .into_iter()
            .map(|cell| if cell.starts_with(['=', '+', '@', '\t', '\r']) { format!("'{cell}") } else { cell });
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
        assert_eq!((yuan(1250), yuan(-5), yuan(0)), ("12.50".into(), "-0.05".into(), "0.00".into()));
    }
}
