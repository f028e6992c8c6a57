//! The customer side of authentication: the `quanyu_customer` session cookie (a principal
//! separate from staff sessions), the [`Customer`] extractor for the shop API and the mall's
//! pages, and the `quanyu_ref` cookie that remembers the last share link a visitor came through.

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, header, request::Parts},
    response::Response,
};
use quanyu_app::{AppError, Shopper};

use crate::{ApiError, AppState, extract::origin};

/// The customer session cookie's name.
pub const CUSTOMER_COOKIE: &str = "quanyu_customer";
/// The share-link attribution cookie: the invite code of the last link clicked.
pub const REF_COOKIE: &str = "quanyu_ref";
/// How long a share link's attribution is remembered (7 days).
pub const REF_MAX_AGE: i64 = 7 * 24 * 3600;

pub use crate::extract::cookie;

/// The signed-in customer; 401 `unauthenticated` without a live customer session.
pub struct Customer(pub Shopper);

impl FromRequestParts<AppState> for Customer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Customer, ApiError> {
        let secret = cookie(&parts.headers, CUSTOMER_COOKIE).ok_or(AppError::Unauthenticated)?;
        Ok(Customer(state.app.authenticate_customer(&secret, &origin(parts)).await?))
    }
}

/// Adds a `Set-Cookie` header.
pub fn set_cookie(response: &mut Response, cookie: &str) {
    if let Ok(value) = HeaderValue::from_str(cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The customer session cookie (HttpOnly, SameSite=Lax), or its removal with `None`.
pub fn session_cookie(secret: Option<&str>, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match secret {
        Some(secret) => {
            format!("{CUSTOMER_COOKIE}={secret}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}")
        }
        None => format!("{CUSTOMER_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"),
    }
}

/// The attribution cookie for an invite code: seven days, the last click wins.
pub fn ref_cookie(code: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{REF_COOKIE}={code}; Path=/; HttpOnly; SameSite=Lax; Max-Age={REF_MAX_AGE}{secure}")
}
