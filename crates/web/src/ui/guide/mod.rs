//! The guide workbench (`/guide`, 导购工作台), phone-sized: my customers and a customer's page
//! (tag, give a coupon, note a contact), follow-up tasks by due date, share links with QR codes
//! that attribute online sales to the guide, and my KPIs.
//!
//! Every page reads through the workbench use cases, which refuse staff who are not guides; the
//! writes (tag, coupon, task done) go through the JSON API from `guide.js`.

mod customers;
mod kpis;
mod share;
mod tasks;

use axum::{Router, routing::get};
use quanyu_app::AppError;

use super::page::UiError;
use crate::{AppState, Lang};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(customers::list))
        .route("/c/{id}", get(customers::customer))
        .route("/tasks", get(tasks::board))
        .route("/share", get(share::share))
        .route("/kpis", get(kpis::kpis))
}

/// Turns a use case's refusal into an error page in the reader's language.
fn failed(lang: Lang) -> impl Fn(AppError) -> UiError {
    move |err| UiError::api(err, lang)
}
