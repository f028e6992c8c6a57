//! What every page handler starts from: the reader's language (the `quanyu_lang` cookie, else
//! `Accept-Language`), the signed-in staff member (or a redirect to the login page), rendering,
//! and errors shown as a page in the reader's language rather than as JSON.

use std::sync::LazyLock;

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, StatusCode, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
};
use minijinja::Value;
use quanyu_app::{AppError, Ctx};
use quanyu_domain::org::Scope;
use serde::Serialize;

use super::render::Templates;
use crate::{
    ApiError, AppState, Lang,
    extract::{cookie, credential, origin},
};

/// The language cookie set by `/lang/{zh|en}`.
pub const LANG_COOKIE: &str = "quanyu_lang";

static TEMPLATES: LazyLock<Templates> = LazyLock::new(Templates::load);

/// The process's templates (embedded, immutable).
pub fn templates() -> &'static Templates {
    &TEMPLATES
}

/// Renders a page.
pub fn render(name: &str, lang: Lang, context: Value) -> Result<Html<String>, UiError> {
    templates().render(name, lang, context).map(Html).map_err(UiError::Render)
}

/// The reader's language.
#[derive(Debug, Clone, Copy)]
pub struct UiLang(pub Lang);

impl<S: Send + Sync> FromRequestParts<S> for UiLang {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<UiLang, Self::Rejection> {
        Ok(UiLang(lang_of(&parts.headers)))
    }
}

/// The language cookie if set, else the `Accept-Language` preference.
pub fn lang_of(headers: &HeaderMap) -> Lang {
    match cookie(headers, LANG_COOKIE).as_deref() {
        Some("en") => Lang::En,
        Some("zh") | Some("zh-CN") => Lang::Zh,
        _ => Lang::from_headers(headers),
    }
}

/// A signed-in staff member on a page. Without a valid session the page answers with a
/// redirect to `/login?next=<this page>`.
pub struct Staff {
    pub ctx: Ctx,
    pub lang: Lang,
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = UiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Staff, UiError> {
        let lang = lang_of(&parts.headers);
        // Inside a nested router `parts.uri` has lost its prefix; the original one has not.
        let uri = parts.extensions.get::<axum::extract::OriginalUri>().map_or(&parts.uri, |o| &o.0);
        let next = uri.path_and_query().map_or("/", |pq| pq.as_str()).to_owned();
        let Some(secret) = credential(&parts.headers) else {
            return Err(UiError::Login { next });
        };
        match state.app.authenticate(&secret).await {
            Ok(actor) => Ok(Staff { ctx: Ctx { actor, origin: origin(parts), idempotency: None }, lang }),
            Err(AppError::Unauthenticated) => Err(UiError::Login { next }),
            Err(err) => Err(UiError::Api(ApiError::from(err), lang)),
        }
    }
}

/// Who is signed in, as templates see it (`me.username`, `me.role`, `me.store_id`).
#[derive(Debug, Serialize)]
pub struct Me {
    pub username: String,
    pub role: &'static str,
    pub staff_id: String,
    pub store_id: Option<String>,
    pub region_id: Option<String>,
}

impl Staff {
    pub fn me(&self) -> Me {
        let actor = &self.ctx.actor;
        let (store_id, region_id) = match actor.assignment.scope() {
            Scope::All => (None, None),
            Scope::Region(region) => (None, Some(region.to_string())),
            Scope::Store(store) => (Some(store.to_string()), actor.home_region.map(|r| r.to_string())),
        };
        Me {
            username: actor.username.clone(),
            role: actor.role().as_str(),
            staff_id: actor.staff_id.to_string(),
            store_id,
            region_id,
        }
    }

    /// Renders `name` with `context` plus `me`.
    pub fn render(&self, name: &str, context: Value) -> Result<Html<String>, UiError> {
        render(name, self.lang, minijinja::context! { me => Value::from_serialize(self.me()), ..context })
    }
}

/// Why a page could not be shown.
#[derive(Debug)]
pub enum UiError {
    /// Not signed in: go to the login page, then come back.
    Login { next: String },
    /// A use case refused or failed; shown as a page with the API's message.
    Api(ApiError, Lang),
    /// A template failed to render (a bug; the fast template tests should catch it first).
    Render(minijinja::Error),
}

impl UiError {
    pub fn api(err: impl Into<ApiError>, lang: Lang) -> UiError {
        UiError::Api(err.into(), lang)
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::Login { next } => Redirect::to(&format!("/login?next={}", encode(&next))).into_response(),
            UiError::Api(err, lang) => {
                let context = minijinja::context! {
                    status => err.status.as_u16(),
                    code => err.code,
                    message => err.message(lang),
                };
                match templates().render("error.html", lang, context) {
                    Ok(html) => (err.status, Html(html)).into_response(),
                    Err(render) => plain_error(&render),
                }
            }
            UiError::Render(err) => plain_error(&err),
        }
    }
}

fn plain_error(err: &minijinja::Error) -> Response {
    tracing::error!(error = %err, detail = %err.display_debug_info(), "template failed to render");
    (StatusCode::INTERNAL_SERVER_ERROR, "500 Internal Server Error").into_response()
}

/// Percent-encodes a path-and-query for use as a query value.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A `next` target that stays on this site (a path, never `//host` or a scheme).
pub fn safe_next(next: Option<&str>) -> Option<&str> {
    next.filter(|n| n.starts_with('/') && !n.starts_with("//") && !n.contains('\\'))
}
