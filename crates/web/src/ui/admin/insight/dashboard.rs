//! The dashboard (`/admin`): sales today, in 7 and 30 days, online and member shares, daily
//! sales and orders by channel as charts, top stores and SKUs, for the viewer's scope. It
//! renders the same report DTO as `GET /api/v1/reports/sales`.

use axum::{
    extract::State,
    response::{IntoResponse, Redirect, Response},
};
use chrono::Utc;
use minijinja::Value;
use quanyu_store::PlaceFilter;

use super::super::{
    charts::{self, ChannelBar, DailyLabels, DayPoint},
    first_section, page,
};
use crate::{
    AppState, Lang,
    routes::reports::SalesReportOut,
    ui::page::{Staff, UiError, templates},
};

pub async fn dashboard(State(state): State<AppState>, staff: Staff) -> Result<Response, UiError> {
    // Staff who may not read reports (pickers, couriers) start on their first section instead.
    if !super::super::may_open(&staff, "dashboard")
        && let Some(href) = first_section(&staff)
    {
        return Ok(Redirect::to(href).into_response());
    }
    let lang = staff.lang;
    let report = state
        .app
        .sales_report(&staff.ctx, PlaceFilter::default(), Utc::now())
        .await
        .map_err(|e| UiError::api(e, lang))?;
    let scope_name = match (report.place.store_id, report.place.region_id) {
        (Some(store), _) => Some(state.app.get_store(&staff.ctx, store).await.map_err(|e| UiError::api(e, lang))?.name),
        (None, Some(region)) => {
            Some(state.app.get_region(&staff.ctx, region).await.map_err(|e| UiError::api(e, lang))?.name)
        }
        (None, None) => None,
    };
    let text = |key: &str| templates().text(lang, key);
    let points: Vec<DayPoint> = report
        .daily
        .iter()
        .map(|d| DayPoint {
            label: d.day.format("%m-%d").to_string(),
            net: d.totals.net.fen(),
            online: d.totals.online.fen(),
        })
        .collect();
    let daily_labels = DailyLabels {
        title: &text("admin-dash-chart-daily"),
        yuan: &text("admin-dash-yuan"),
        total: &text("admin-dash-net"),
        online: &text("admin-dash-online"),
    };
    let daily_svg = charts::daily_sales(&points, &daily_labels).map_err(chart_error)?;
    let bars: Vec<ChannelBar> = report
        .by_channel
        .iter()
        .map(|c| ChannelBar { label: channel_label(lang, c.channel.as_str()), orders: c.orders })
        .collect();
    let channel_svg = charts::orders_by_channel(&bars, &text("admin-dash-chart-channels")).map_err(chart_error)?;
    page(
        &staff,
        "admin/dashboard.html",
        "dashboard",
        minijinja::context! {
            report => Value::from_serialize(SalesReportOut::from(&report)),
            scope_name,
            daily_svg => Value::from_safe_string(daily_svg),
            channel_svg => Value::from_safe_string(channel_svg),
        },
    )
    .map(IntoResponse::into_response)
}

/// A channel's name in the reader's language.
pub fn channel_label(lang: Lang, channel: &str) -> String {
    templates().text(lang, &format!("admin-channel-{channel}"))
}

fn chart_error(message: String) -> UiError {
    UiError::Render(minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, message))
}
