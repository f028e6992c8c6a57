//! Orders (`/admin/orders`): the list with filters (store, channel, status, dates, member),
//! cursor pages and newest/oldest order, its CSV export (`/admin/orders.csv`, every page of the
//! same filter, a delivery's address and point included), and one order (`/admin/orders/{id}`) with lines, price breakdown, payments,
//! refunds, the timeline and the actions the role may take (through the API).

use axum::{
    extract::{Path, Query, State},
    response::{IntoResponse, Response},
};
use chrono::NaiveDate;
use minijinja::Value;
use quanyu_app::{App, Ctx};
use quanyu_domain::{
    authz::Permission,
    ids::{CustomerId, OrderId, StoreId},
    order::{OrderChannel, OrderEvent, OrderStatus, next_events},
};
use quanyu_store::{OrderFilter, PlaceFilter};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    export::{self as csv, CsvPage},
    guard, query_string, store_names,
};
use crate::{
    AppState, Lang,
    routes::orders::OrderOut,
    ui::{
        admin::{page, sorting},
        page::{Staff, UiError, templates},
    },
};

/// The list's filters, as the page's form sends them.
#[derive(Debug, Default, Clone, Deserialize, Serialize)]
pub struct OrdersQuery {
    #[serde(default, deserialize_with = "super::empty_as_none")]
    store_id: Option<Uuid>,
    #[serde(default, deserialize_with = "super::empty_as_none")]
    channel: Option<String>,
    #[serde(default, deserialize_with = "super::empty_as_none")]
    status: Option<String>,
    /// First day (the chain's calendar), inclusive.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    from: Option<NaiveDate>,
    /// Last day, inclusive.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    to: Option<NaiveDate>,
    /// A member's phone number.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    phone: Option<String>,
    #[serde(default, deserialize_with = "super::empty_as_none")]
    customer_id: Option<Uuid>,
    /// The API's order sort: `newest` (the default here), `oldest`, `total` or `-total`.
    #[serde(default, deserialize_with = "super::empty_as_none")]
    sort: Option<String>,
    #[serde(default, skip_serializing, deserialize_with = "super::empty_as_none")]
    cursor: Option<String>,
}

/// The order of the list when none is chosen.
const NEWEST: &str = "newest";

/// Rows per page on screen, and per page read while exporting.
const PAGE: u32 = 50;
const EXPORT_PAGE: u32 = 500;

impl OrdersQuery {
    /// The store filter: dates become instants in the chain's time zone; a phone becomes the
    /// member holding it (none: no orders match).
    async fn filter(&self, app: &App, ctx: &Ctx) -> Result<Option<OrderFilter>, quanyu_app::AppError> {
        let time_zone = app.chain().await?.time_zone;
        let customer_id = match (&self.customer_id, self.phone.as_deref().map(str::trim)) {
            (Some(id), _) => Some(CustomerId::from_uuid(*id)),
            (None, Some(phone)) if !phone.is_empty() => match app.find_customer(ctx, "phone", phone).await {
                Ok(found) => Some(found.customer.id),
                Err(quanyu_app::AppError::NotFound { .. }) => return Ok(None),
                Err(err) => return Err(err),
            },
            _ => None,
        };
        Ok(Some(OrderFilter {
            place: PlaceFilter { store_id: self.store_id.map(StoreId::from_uuid), region_id: None },
            status: self.status.clone(),
            channel: self.channel.clone(),
            created_from: self.from.map(|d| time_zone.day_start(d)),
            created_before: self.to.and_then(|d| d.succ_opt()).map(|d| time_zone.day_start(d)),
            customer_id,
            table: None,
            sort: quanyu_app::order_sort(Some(self.sort.as_deref().unwrap_or(NEWEST)))?.into(),
        }))
    }
}

/// One row of the list, as the template and the CSV see it.
#[derive(Serialize)]
struct OrderRow {
    #[serde(flatten)]
    order: OrderOut,
    store_name: String,
}

async fn rows(
    app: &App,
    ctx: &Ctx,
    query: &OrdersQuery,
    cursor: Option<&str>,
    limit: u32,
) -> Result<(Vec<quanyu_domain::order::Order>, Option<String>), quanyu_app::AppError> {
    let Some(filter) = query.filter(app, ctx).await? else {
        return Ok((Vec::new(), None));
    };
    let listing = app.list_orders(ctx, filter, cursor, Some(limit)).await?;
    Ok((listing.items, listing.next_cursor.map(|c| c.0)))
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<OrdersQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "orders")?;
    let stores = store_names(&state.app, &staff.ctx).await.map_err(|e| UiError::api(e, lang))?;
    let (orders, next_cursor) =
        rows(&state.app, &staff.ctx, &query, query.cursor.as_deref(), PAGE).await.map_err(|e| UiError::api(e, lang))?;
    let rows: Vec<OrderRow> = orders
        .iter()
        .map(|o| OrderRow {
            order: OrderOut::new(o, None, None),
            store_name: stores.iter().find(|(id, _)| *id == o.store_id).map(|(_, n)| n.clone()).unwrap_or_default(),
        })
        .collect();
    let store_options: Vec<(String, String)> = stores.iter().map(|(id, name)| (id.to_string(), name.clone())).collect();
    page(
        &staff,
        "admin/orders.html",
        "orders",
        minijinja::context! {
            orders => Value::from_serialize(&rows),
            filter => Value::from_serialize(&query),
            query => query_string(&query),
            sorts => {
                let unsorted = format!("/admin/orders?{}", query_string(&OrdersQuery { sort: None, ..query.clone() }));
                let current = match query.sort.as_deref().unwrap_or(NEWEST) {
                    NEWEST => "-created_at",
                    "oldest" => "created_at",
                    other => other,
                };
                sorting::links(unsorted.trim_end_matches('?'), "sort", Some(current), &["created_at", "total"])
            },
            cursor => query.cursor,
            next_cursor,
            stores => store_options,
            channels => OrderChannel::ALL.iter().map(|c| c.as_str()).collect::<Vec<_>>(),
            statuses => OrderStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
        },
    )
    .map(IntoResponse::into_response)
}

/// `/admin/orders.csv`: every order of the filter, streamed page by page.
pub async fn export(
    State(state): State<AppState>,
    staff: Staff,
    Query(query): Query<OrdersQuery>,
) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "orders")?;
    let stores = store_names(&state.app, &staff.ctx).await.map_err(|e| UiError::api(e, lang))?;
    let text = |key: &str| templates().text(lang, key);
    let header: Vec<String> = [
        "admin-col-order",
        "admin-col-created",
        "admin-col-store",
        "admin-col-channel",
        "admin-col-status",
        "admin-col-phone",
        "admin-col-member-id",
        "admin-col-subtotal",
        "admin-col-discount",
        "admin-col-delivery-fee",
        "admin-col-total",
        "admin-col-paid",
        "admin-col-refunded",
        "admin-col-delivery-address",
        "admin-col-delivery-lat",
        "admin-col-delivery-lng",
        "admin-col-delivery-distance",
    ]
    .iter()
    .map(|k| text(k))
    .collect();
    let (app, ctx) = (state.app.clone(), staff.ctx.clone());
    csv::export("orders.csv", &header, move |cursor| {
        let (app, ctx, query, stores) = (app.clone(), ctx.clone(), query.clone(), stores.clone());
        async move {
            let (orders, next) =
                rows(&app, &ctx, &query, cursor.as_deref(), EXPORT_PAGE).await.map_err(|e| UiError::api(e, lang))?;
            let yuan = |m: quanyu_domain::Money| m.to_yuan_string();
            let rows = orders
                .iter()
                .map(|o| {
                    vec![
                        o.id.to_string(),
                        o.created_at.with_timezone(&chrono_tz::Asia::Shanghai).format("%Y-%m-%d %H:%M:%S").to_string(),
                        stores.iter().find(|(id, _)| *id == o.store_id).map(|(_, n)| n.clone()).unwrap_or_default(),
                        channel_text(lang, o.channel),
                        status_text(lang, o.status),
                        o.customer_phone.as_ref().map(|p| p.as_str().to_owned()).unwrap_or_default(),
                        o.customer_id.map(|c| c.to_string()).unwrap_or_default(),
                        yuan(o.subtotal),
                        yuan(o.discount),
                        yuan(o.delivery_fee),
                        yuan(o.total),
                        yuan(o.paid),
                        yuan(o.refunded),
                        o.delivery_address.clone().unwrap_or_default(),
                        // Rust prints the shortest text that reads back as the same double.
                        csv::cell(o.delivery_location.map(|l| l.point.lat())),
                        csv::cell(o.delivery_location.map(|l| l.point.lng())),
                        csv::cell(o.delivery_location.map(|l| l.distance_m)),
                    ]
                })
                .collect();
            Ok::<CsvPage, UiError>((rows, next))
        }
    })
    .await
}

fn channel_text(lang: Lang, channel: OrderChannel) -> String {
    templates().text(lang, &format!("admin-channel-{}", channel.as_str()))
}

fn status_text(lang: Lang, status: OrderStatus) -> String {
    templates().text(lang, &format!("admin-status-{}", status.as_str()))
}

/// `/admin/orders/{id}`: one order with its timeline and the actions the role may take.
pub async fn detail(State(state): State<AppState>, staff: Staff, Path(id): Path<Uuid>) -> Result<Response, UiError> {
    let lang = staff.lang;
    guard(&staff, "orders")?;
    let detail = state.app.get_order(&staff.ctx, OrderId::from_uuid(id)).await.map_err(|e| UiError::api(e, lang))?;
    let store = state.app.get_store(&staff.ctx, detail.order.store_id).await.map_err(|e| UiError::api(e, lang))?;
    let actor = &staff.ctx.actor;
    let order = &detail.order;
    let events = next_events(order.channel, order.status);
    let steps: Vec<&str> = events
        .iter()
        .filter(|e| {
            matches!(e, OrderEvent::StartPicking | OrderEvent::MarkReady | OrderEvent::Dispatch | OrderEvent::Complete)
        })
        .filter(|_| actor.can(Permission::FulfilOrders))
        .map(|e| e.as_str())
        .collect();
    let may_cancel = events.contains(&OrderEvent::Cancel) && actor.can(Permission::SellOrders);
    let may_refund = events.iter().any(|e| matches!(e, OrderEvent::Refund { .. }))
        && actor.can(Permission::SellOrders)
        && order.lines.iter().any(|l| l.refunded_quantity < l.breakdown.quantity);
    page(
        &staff,
        "admin/orders-detail.html",
        "orders",
        minijinja::context! {
            order => Value::from_serialize(OrderOut::detail(&detail)),
            store_name => store.name,
            steps,
            may_cancel,
            may_refund,
        },
    )
    .map(IntoResponse::into_response)
}
