//! Admin console pages for running the chain: regions and stores, staff, catalog, inventory,
//! stock documents, the audit log.

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
