//! Admin console pages for reading the business: the dashboard, orders, members, marketing,
//! referral and commissions, audiences. Reads are rendered here from the same use cases (and
//! response DTOs) as the JSON API; changes go through the API from the page's script.

mod audiences;
mod dashboard;
mod marketing;
mod members;
mod orders;
mod referral;

use axum::{Router, routing::get};
use quanyu_app::{App, AppResult, Ctx};
use quanyu_domain::ids::StoreId;
use quanyu_store::StoreFilter;
use serde::{Deserialize, Deserializer, Serialize};

use super::{export, guard};
use crate::{AppState, ui::page::encode};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::dashboard))
        .route("/orders", get(orders::list))
        .route("/orders.csv", get(orders::export))
        .route("/orders/{id}", get(orders::detail))
        .route("/members", get(members::list))
        .route("/members.csv", get(members::export))
        .route("/members/{id}", get(members::profile))
        .route("/marketing", get(marketing::marketing))
        .route("/marketing/coupons.csv", get(marketing::export_coupons))
        .route("/marketing/promotions.csv", get(marketing::export_promotions))
        .route("/referral", get(referral::referral))
        .route("/referral/promoters.csv", get(referral::export_promoters))
        .route("/referral/payouts.csv", get(referral::export_payouts))
        .route("/audiences", get(audiences::audiences))
}

/// The stores (not warehouses) the viewer may see, by id, for filters and names in lists.
async fn store_names(app: &App, ctx: &Ctx) -> AppResult<Vec<(StoreId, String)>> {
    let filter = StoreFilter { kind: Some(quanyu_domain::org::StoreKind::Store), ..StoreFilter::default() };
    let mut stores = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = app.list_stores(ctx, filter.clone(), cursor.as_deref(), Some(quanyu_store::Page::MAX_LIMIT)).await?;
        stores.extend(page.items.into_iter().map(|s| (s.id, s.name)));
        match page.next_cursor {
            Some(next) => cursor = Some(next.0),
            None => return Ok(stores),
        }
    }
}

/// A filter as a query string (without the cursor), for pager links and exports.
fn query_string<T: Serialize>(filter: &T) -> String {
    let Ok(serde_json::Value::Object(fields)) = serde_json::to_value(filter) else {
        return String::new();
    };
    fields
        .iter()
        .filter_map(|(name, value)| match value {
            serde_json::Value::Null => None,
            serde_json::Value::String(text) => Some(format!("{name}={}", encode(text))),
            other => Some(format!("{name}={}", encode(&other.to_string()))),
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Reads an empty form field (`?store_id=`) as absent.
fn empty_as_none<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    let raw: Option<String> = Option::deserialize(deserializer)?;
    match raw.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(serde::de::Error::custom),
    }
}

#[cfg(test)]
mod tests {
    use quanyu_domain::order::{OrderChannel, OrderEvent, OrderStatus, next_events};

    use crate::{Lang, ui::render::Templates};

    /// Keys the insight pages build at render time (`'admin-channel-' ~ c`), which the
    /// template scan cannot see.
    #[test]
    fn every_key_built_from_a_domain_value_exists_in_both_languages() {
        let templates = Templates::load();
        let mut keys: Vec<String> = Vec::new();
        keys.extend(OrderChannel::ALL.iter().map(|c| format!("admin-channel-{}", c.as_str())));
        for &status in OrderStatus::ALL {
            keys.push(format!("admin-status-{}", status.as_str()));
            for &channel in OrderChannel::ALL {
                for event in next_events(channel, status) {
                    if !matches!(event, OrderEvent::Cancel | OrderEvent::Refund { .. }) {
                        keys.push(format!("admin-step-{}", event.as_str()));
                    }
                }
            }
        }
        for event in [
            "created",
            "pay",
            "start_picking",
            "mark_ready",
            "dispatch",
            "complete",
            "cancel",
            "expire",
            "refund",
            "add_lines",
        ] {
            keys.push(format!("admin-event-{event}"));
        }
        for stage in quanyu_audience::Stage::ALL {
            keys.push(format!("admin-stage-{}", stage.as_str()));
        }
        for kind in ["phone", "wechat_openid", "wechat_unionid", "wecom_external_id", "member_card"] {
            keys.push(format!("admin-identity-{kind}"));
        }
        for key in ["today", "7d", "30d"] {
            keys.push(format!("admin-dash-sales-{key}"));
        }
        let missing: Vec<String> = keys
            .iter()
            .flat_map(|key| [Lang::Zh, Lang::En].map(|lang| (key, lang)))
            .filter(|(key, lang)| !templates.catalog().has(*lang, key))
            .map(|(key, lang)| format!("{key} ({lang:?})"))
            .collect();
        assert!(missing.is_empty(), "missing UI strings: {missing:?}");
    }
}
