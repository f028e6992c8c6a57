//! Charts drawn on the server as SVG (plotters): the dashboard's daily sales and orders by
//! channel. Each chart has a fixed `viewBox`, so the page keeps its layout while it loads and
//! scales the chart to its column; text is left to the browser's fonts. Labels arrive
//! translated: this module knows no language.

use plotters::{
    coord::ranged1d::{IntoSegmentedCoord, SegmentValue},
    prelude::*,
    style::text_anchor::{HPos, Pos, VPos},
};

/// The size of every chart's `viewBox` (CSS scales it to the column's width).
const SIZE: (u32, u32) = (720, 280);
const FONT: &str = "sans-serif";
const BRAND: RGBColor = RGBColor(0xc2, 0x41, 0x0c);
const ACCENT: RGBColor = RGBColor(0x0f, 0x76, 0x6e);
const GRID: RGBColor = RGBColor(0xec, 0xea, 0xe6);
const INK: RGBColor = RGBColor(0x5f, 0x66, 0x70);

/// One point of the daily sales chart.
pub struct DayPoint {
    /// `12-02`: how the day is labelled under the axis.
    pub label: String,
    /// Net sales of the day (分).
    pub net: i64,
    /// The online part of `net` (分).
    pub online: i64,
}

/// The translated words of the daily chart.
pub struct DailyLabels<'a> {
    pub title: &'a str,
    pub yuan: &'a str,
    pub total: &'a str,
    pub online: &'a str,
}

/// Net sales per day (area) with the online part (line), in yuan.
pub fn daily_sales(points: &[DayPoint], labels: &DailyLabels<'_>) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let top = points.iter().map(|p| p.net.max(p.online)).max().unwrap_or(0);
        // Leave a tenth above the best day; at least ¥100 so an empty month still has an axis.
        let y_max = ((top as f64 / 100.0) * 1.1).max(100.0);
        let last = points.len().saturating_sub(1).max(1) as i32;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(32)
            .y_label_area_size(64)
            .build_cartesian_2d(0..last, 0.0..y_max)
            .map_err(err)?;
        chart
            .configure_mesh()
            .light_line_style(GRID)
            .bold_line_style(GRID)
            .axis_style(INK)
            .label_style((FONT, 16).into_font().color(&INK))
            .x_labels(8)
            .x_label_formatter(&|i| points.get(*i as usize).map(|p| p.label.clone()).unwrap_or_default())
            .y_labels(5)
            .y_label_formatter(&|v| format!("{v:.0}"))
            .y_desc(labels.yuan)
            .draw()
            .map_err(err)?;
        let total = points.iter().enumerate().map(|(i, p)| (i as i32, p.net as f64 / 100.0));
        chart
            .draw_series(AreaSeries::new(total, 0.0, BRAND.mix(0.18)).border_style(BRAND.stroke_width(2)))
            .map_err(err)?
            .label(labels.total)
            .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], BRAND.mix(0.5).filled()));
        let online = points.iter().enumerate().map(|(i, p)| (i as i32, p.online as f64 / 100.0));
        chart
            .draw_series(LineSeries::new(online, ACCENT.stroke_width(2)))
            .map_err(err)?
            .label(labels.online)
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], ACCENT.stroke_width(2)));
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(GRID)
            .label_font((FONT, 16).into_font().color(&INK))
            .draw()
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(titled(svg, labels.title))
}

/// One bar of the channel chart.
pub struct ChannelBar {
    /// The channel's translated name.
    pub label: String,
    pub orders: i64,
}

/// Orders per channel as horizontal bars.
pub fn orders_by_channel(bars: &[ChannelBar], title: &str) -> Result<String, String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let x_max = bars.iter().map(|b| b.orders).max().unwrap_or(0).max(1);
        let x_max = x_max + (x_max / 10).max(1);
        let count = bars.len().max(1) as i32;
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(110)
            .build_cartesian_2d(0..x_max, (0..count).into_segmented())
            .map_err(err)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .light_line_style(GRID)
            .bold_line_style(GRID)
            .axis_style(INK)
            .label_style((FONT, 16).into_font().color(&INK))
            .x_labels(6)
            .y_labels(bars.len().max(1))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) | SegmentValue::Exact(i) => {
                    bars.get(*i as usize).map(|b| b.label.clone()).unwrap_or_default()
                }
                SegmentValue::Last => String::new(),
            })
            .draw()
            .map_err(err)?;
        chart
            .draw_series(bars.iter().enumerate().map(|(i, bar)| {
                let i = i as i32;
                let mut rect = Rectangle::new(
                    [(0, SegmentValue::Exact(i)), (bar.orders, SegmentValue::Exact(i + 1))],
                    ACCENT.filled(),
                );
                rect.set_margin(5, 5, 0, 0);
                rect
            }))
            .map_err(err)?;
        chart
            .draw_series(bars.iter().enumerate().filter(|(_, b)| b.orders > 0).map(|(i, bar)| {
                Text::new(
                    bar.orders.to_string(),
                    (bar.orders, SegmentValue::CenterOf(i as i32)),
                    (FONT, 16).into_font().color(&INK).pos(Pos::new(HPos::Left, VPos::Center)),
                )
            }))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(titled(svg, title))
}

fn err(e: impl std::fmt::Display) -> String {
    format!("chart: {e}")
}

/// Gives the SVG an accessible name: `role="img"` and a `<title>` (escaped).
fn titled(svg: String, title: &str) -> String {
    let title = title.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    match svg.find('>') {
        Some(end) if svg.starts_with("<svg") => {
            format!(
                "{} role=\"img\" aria-label=\"{}\">\n<title>{title}</title>{}",
                &svg[..end],
                title.replace('"', "&quot;"),
                &svg[end + 1..]
            )
        }
        _ => svg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_chart_has_a_fixed_view_box_and_its_labels() {
        let points: Vec<_> =
            (0..30).map(|d| DayPoint { label: format!("11-{:02}", d + 1), net: d * 1_000, online: d * 300 }).collect();
        let labels = DailyLabels { title: "近30天 <销售>", yuan: "元", total: "销售额", online: "线上" };
        let svg = daily_sales(&points, &labels).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("viewBox=\"0 0 720 280\""), "{svg}");
        assert!(svg.contains("<title>近30天 &lt;销售&gt;</title>") && svg.contains("role=\"img\""));
        assert!(svg.contains("销售额") && svg.contains("线上") && svg.contains("11-01"));
    }

    #[test]
    fn channel_chart_names_each_channel_and_draws_empty_data() {
        let bars =
            vec![ChannelBar { label: "门店收银".into(), orders: 12 }, ChannelBar { label: "到家".into(), orders: 0 }];
        let svg = orders_by_channel(&bars, "各渠道订单").unwrap();
        assert!(svg.contains("门店收银") && svg.contains("到家") && svg.contains("\n12\n</text>"), "{svg}");
        assert!(orders_by_channel(&[], "x").unwrap().contains("viewBox"));
        let empty = daily_sales(&[], &DailyLabels { title: "t", yuan: "y", total: "a", online: "b" }).unwrap();
        assert!(empty.contains("viewBox"));
    }
}
