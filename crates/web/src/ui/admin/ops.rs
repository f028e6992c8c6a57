//! Admin console pages for running the chain: regions and stores, staff, catalog, inventory,
//! stock documents, the audit log.
//!
//! Pages read through the same use cases as the API (and render the API's response shapes, so
//! a template sees what a client of `/api/v1` sees); forms write through the API from
//! `admin-ops.js`. Tables page with the API's cursors ([`paging`]) and export every page as
//! CSV ([`export`]).

mod audit;
mod catalog;
mod documents;
mod inventory;
mod paging;
mod places;
mod scatter;
mod staff;
mod stores;

use axum::{Router, routing::get};
use quanyu_app::{AppError, AppResult};
use quanyu_domain::DomainError;
use quanyu_domain::Expected;
use uuid::Uuid;

use super::{export, guard};
use crate::{
    AppState,
    ui::page::{Staff, UiError},
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stores", get(stores::list))
        .route("/stores/export.csv", get(stores::export))
        .route("/stores/new", get(stores::new_store))
        .route("/stores/{id}", get(stores::detail))
        .route("/staff", get(staff::list))
        .route("/staff/export.csv", get(staff::export))
        .route("/staff/{id}", get(staff::detail))
        .route("/catalog", get(catalog::list))
        .route("/catalog/export.csv", get(catalog::export))
        .route("/catalog/skus/{id}", get(catalog::sku))
        .route("/inventory", get(inventory::list))
        .route("/inventory/export.csv", get(inventory::export))
        .route("/inventory/{store_id}/{sku_id}", get(inventory::ledger))
        .route("/documents", get(documents::list))
        .route("/documents/export.csv", get(documents::export))
        .route("/documents/{id}", get(documents::detail))
        .route("/audit", get(audit::list))
        .route("/audit/export.csv", get(audit::export))
}

/// A use-case error as a page in the reader's language.
fn failed(staff: &Staff) -> impl Fn(AppError) -> UiError + '_ {
    move |err| UiError::api(err, staff.lang)
}

/// An optional id from a filter form (empty means none).
fn uuid_param(raw: Option<&str>, field: &'static str) -> AppResult<Option<Uuid>> {
    match raw.map(str::trim).filter(|r| !r.is_empty()) {
        None => Ok(None),
        Some(raw) => Uuid::parse_str(raw)
            .map(Some)
            .map_err(|_| AppError::Invalid(DomainError::Malformed { field, expected: Expected::Id })),
    }
}

/// An optional text filter (empty means none).
fn text_param(raw: &Option<String>) -> Option<String> {
    raw.as_deref().map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use quanyu_domain::{
        catalog::ProductKind,
        documents::{DocumentEvent, DocumentKind, DocumentStatus},
        org::{StoreKind, StoreStatus},
    };

    use crate::{Lang, ui::render::Templates};

    /// Keys the templates build at render time (`t("ops-status-" ~ status)`), for every value
    /// the domain can produce.
    #[test]
    fn every_built_key_exists_in_both_languages() {
        let mut keys = Vec::new();
        let statuses =
            StoreStatus::ALL.iter().map(|s| s.as_str()).chain(DocumentStatus::ALL.iter().map(|s| s.as_str()));
        keys.extend(statuses.chain(["active", "inactive", "disabled"]).map(|s| format!("ops-status-{s}")));
        keys.extend(StoreKind::ALL.iter().map(|k| format!("ops-kind-{}", k.as_str())));
        for kind in DocumentKind::ALL {
            keys.push(format!("ops-document-kind-{}", kind.as_str()));
            keys.push(format!("ops-document-quantity-{}", kind.as_str()));
        }
        keys.extend(super::inventory::known_changes().iter().map(|c| format!("ops-change-{c}")));
        keys.extend(DocumentEvent::STEPS.iter().map(|e| format!("ops-step-{}", e.as_str())));
        keys.extend(["approve", "ship", "receive", "count"].map(|s| format!("ops-step-quantity-{s}")));
        keys.extend(["reject", "cancel", "close"].map(|s| format!("ops-step-confirm-{s}")));
        keys.extend(ProductKind::ALL.iter().map(|k| format!("ops-product-kind-{}", k.as_str())));
        keys.extend(["base", "channel", "store_override"].map(|s| format!("ops-price-source-{s}")));
        keys.extend(["in_store", "online"].map(|c| format!("ops-channel-{c}")));
        let templates = Templates::load();
        let missing: Vec<String> = keys
            .iter()
            .flat_map(|key| [Lang::Zh, Lang::En].map(|lang| (key, lang)))
            .filter(|(key, lang)| !templates.catalog().has(*lang, key))
            .map(|(key, lang)| format!("{key} ({lang:?})"))
            .collect();
        assert!(missing.is_empty(), "missing UI strings: {missing:?}");
    }
}
