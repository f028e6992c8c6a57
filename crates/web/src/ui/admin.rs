//! The admin face (`/admin`).

use axum::{Router, response::IntoResponse, routing::get};

use super::page::{Staff, UiError};
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(index))
}

async fn index(staff: Staff) -> Result<impl IntoResponse, UiError> {
    staff.render("admin/index.html", minijinja::context! {})
}
