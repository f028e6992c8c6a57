//! Admin console pages for reading the business: the dashboard, orders, members, marketing,
//! referral and commissions, audiences.

use axum::{Router, response::IntoResponse, routing::get};

use super::page;
use crate::{
    AppState,
    ui::page::{Staff, UiError},
};

pub fn router() -> Router<AppState> {
    Router::new().route("/", get(dashboard))
}

async fn dashboard(staff: Staff) -> Result<impl IntoResponse, UiError> {
    page(&staff, "admin/dashboard.html", "dashboard", minijinja::context! {})
}
