//! My KPIs (`/guide/kpis`): customers bound and added this month, attributed online sales and
//! orders this month and in all, follow-ups done, and the last six months' sales as bars drawn
//! on the server.

use axum::{extract::State, response::Html};
use chrono::{Datelike, Utc};
use minijinja::{Value, context};
use serde::Serialize;

use super::failed;
use crate::{
    AppState,
    routes::workbench::GuideKpisOut,
    ui::page::{Staff, UiError},
};

/// The chart's drawing area, in SVG user units.
const CHART_WIDTH: i64 = 340;
const CHART_HEIGHT: i64 = 150;
/// Room above the bars for their values and below for the month.
const TOP: i64 = 22;
const BOTTOM: i64 = 22;

/// One month's bar.
#[derive(Debug, Serialize, PartialEq, Eq)]
struct Bar {
    /// 1–12, China Standard Time.
    month: u32,
    /// 分.
    sales: i64,
    orders: i64,
    x: i64,
    y: i64,
    width: i64,
    height: i64,
    /// Where the labels' centres sit.
    middle: i64,
}

pub async fn kpis(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, UiError> {
    let (app, ctx, lang) = (&state.app, &staff.ctx, staff.lang);
    let kpis = app.guide_kpis(ctx, ctx.actor.staff_id, Utc::now()).await.map_err(failed(lang))?;
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    let months: Vec<(u32, i64, i64)> =
        kpis.months.iter().map(|m| (m.starts_at.with_timezone(&china).month(), m.sales.fen(), m.orders)).collect();
    let out = GuideKpisOut::from(&kpis);
    staff.render(
        "guide/kpis.html",
        context! {
            section => "kpis",
            kpis => Value::from_serialize(&out),
            bars => Value::from_serialize(bars(&months)),
            chart_width => CHART_WIDTH,
            chart_height => CHART_HEIGHT + TOP + BOTTOM,
            baseline => TOP + CHART_HEIGHT,
        },
    )
}

/// Bars for (month, sales, orders), scaled so the best month fills the height; a month without
/// sales keeps a hairline so the axis reads.
fn bars(months: &[(u32, i64, i64)]) -> Vec<Bar> {
    let count = i64::try_from(months.len()).unwrap_or(1).max(1);
    let slot = CHART_WIDTH / count;
    let width = slot * 3 / 5;
    let best = months.iter().map(|(_, sales, _)| *sales).max().unwrap_or(0).max(1);
    months
        .iter()
        .enumerate()
        .map(|(i, &(month, sales, orders))| {
            let height = (sales.max(0) * CHART_HEIGHT / best).max(1);
            let x = i64::try_from(i).unwrap_or(0) * slot + (slot - width) / 2;
            Bar { month, sales, orders, x, y: TOP + CHART_HEIGHT - height, width, height, middle: x + width / 2 }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_month_fills_the_chart() {
        let drawn = bars(&[(11, 0, 0), (12, 5_000, 2), (1, 10_000, 3)]);
        assert_eq!(drawn.iter().map(|b| b.height).collect::<Vec<_>>(), [1, CHART_HEIGHT / 2, CHART_HEIGHT]);
        assert!(drawn.iter().all(|b| b.y + b.height == TOP + CHART_HEIGHT), "bars stand on one baseline");
        assert!(drawn.windows(2).all(|w| w[0].x + w[0].width < w[1].x), "bars do not overlap");
    }
}
