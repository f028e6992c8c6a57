//! The server-rendered faces of Quanyu, served by the same binary as the API: the admin console
//! (`/admin`), the POS (`/pos`), the H5 mall (`/m`) and the guide workbench (`/guide`), with the
//! staff login page, the language switch and the embedded assets.
//!
//! Pages are rendered on the server from the same use cases the API calls; what a page changes
//! it changes through the JSON API (`ui/static/app.js` sends the session cookie, the reader's
//! language and an `Idempotency-Key`), so there is one write path and one error table. The API
//! accepts the cookie only with a JSON body, which a cross-site form cannot send.

mod admin;
mod assets;
mod guide;
mod i18n;
mod mall;
pub mod page;
mod pos;
mod qr;
mod render;

use axum::{
    Router,
    extract::{Path, Query, State},
    http::{HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use quanyu_domain::org::Role;
use serde::Deserialize;

use crate::{AppState, extract::credential};
use page::{LANG_COOKIE, UiError, UiLang, render, safe_next};

/// Every page route.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/login", get(login))
        .route("/lang/{lang}", get(switch_language))
        .route("/assets/{*path}", get(assets::serve))
        .nest("/admin", admin::router())
        .nest("/pos", pos::router())
        .nest("/m", mall::router())
        .nest("/guide", guide::router())
}

/// The face a role starts on after signing in.
pub fn home_of(role: Role) -> &'static str {
    match role {
        Role::Cashier => "/pos",
        Role::Guide => "/guide",
        Role::Customer => "/m",
        Role::HqAdmin | Role::HqOps | Role::RegionManager | Role::StoreManager | Role::Picker | Role::Courier => {
            "/admin"
        }
    }
}

/// `/`: signed-in staff go to their face; everyone else sees the four doors.
async fn home(State(state): State<AppState>, UiLang(lang): UiLang, headers: axum::http::HeaderMap) -> Response {
    if let Some(secret) = credential(&headers)
        && let Ok(actor) = state.app.authenticate(&secret).await
    {
        return Redirect::to(home_of(actor.role())).into_response();
    }
    render("home.html", lang, minijinja::context! {}).into_response()
}

#[derive(Deserialize)]
struct LoginQuery {
    next: Option<String>,
}

/// The staff login form (it signs in through `POST /api/v1/auth/login`).
async fn login(UiLang(lang): UiLang, Query(query): Query<LoginQuery>) -> Result<impl IntoResponse, UiError> {
    let next = safe_next(query.next.as_deref()).unwrap_or("/");
    render("login.html", lang, minijinja::context! { next })
}

#[derive(Deserialize)]
struct SwitchQuery {
    next: Option<String>,
}

/// `/lang/en` or `/lang/zh`: remembers the choice for a year and goes back.
async fn switch_language(Path(lang): Path<String>, Query(query): Query<SwitchQuery>) -> Response {
    let value = match lang.as_str() {
        "en" => "en",
        _ => "zh",
    };
    let next = safe_next(query.next.as_deref()).unwrap_or("/");
    let mut response = Redirect::to(next).into_response();
    let cookie = format!("{LANG_COOKIE}={value}; Path=/; SameSite=Lax; Max-Age=31536000");
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests;
