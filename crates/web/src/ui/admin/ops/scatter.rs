//! A map-like scatter of store coordinates, drawn on the server as SVG: one dot per store,
//! coloured by region, each a link to the store with its name as tooltip. Longitude is scaled
//! by the cosine of the middle latitude so distances look right at Chinese latitudes.

use std::fmt::Write as _;

/// Region colours, distinguishable for common colour-vision deficiencies (Okabe–Ito).
pub const PALETTE: [&str; 8] = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#7a5c00", "#000000"];

/// One store on the scatter.
#[derive(Debug, Clone)]
pub struct Dot {
    pub lat: f64,
    pub lng: f64,
    /// Shown next to the dot when there is room.
    pub code: String,
    /// The tooltip.
    pub label: String,
    pub href: String,
    /// Index into [`PALETTE`] (wraps).
    pub group: usize,
    /// Hollow dot: a warehouse or a closed store.
    pub hollow: bool,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 360.0;
const PAD: f64 = 36.0;

/// The SVG of `dots`, titled `title` for screen readers.
pub fn svg(dots: &[Dot], title: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{}" class="scatter">"#,
        escape(title)
    );
    let _ = write!(out, r##"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#f7f9fb" rx="6"/>"##);
    if dots.is_empty() {
        out.push_str("</svg>");
        return out;
    }
    let (min_lat, max_lat) = span(dots.iter().map(|d| d.lat));
    let (min_lng, max_lng) = span(dots.iter().map(|d| d.lng));
    let cos = ((min_lat + max_lat) / 2.0).to_radians().cos().max(0.1);
    // Degrees to pixels, the same on both axes after the cosine, fitted to the box.
    let lng_range = ((max_lng - min_lng) * cos).max(1e-3);
    let lat_range = (max_lat - min_lat).max(1e-3);
    let scale = ((WIDTH - 2.0 * PAD) / lng_range).min((HEIGHT - 2.0 * PAD) / lat_range);
    let x_offset = (WIDTH - lng_range * scale) / 2.0;
    let y_offset = (HEIGHT - lat_range * scale) / 2.0;
    let x = |lng: f64| x_offset + (lng - min_lng) * cos * scale;
    let y = |lat: f64| HEIGHT - y_offset - (lat - min_lat) * scale;
    grid(&mut out, (min_lat, max_lat), (min_lng, max_lng), &x, &y);
    let labelled = dots.len() <= 40;
    for dot in dots {
        let colour = PALETTE[dot.group % PALETTE.len()];
        let (cx, cy) = (x(dot.lng), y(dot.lat));
        let fill = if dot.hollow { "#fff" } else { colour };
        let _ = write!(
            out,
            r#"<a href="{}"><circle cx="{cx:.1}" cy="{cy:.1}" r="7" fill="{fill}" stroke="{colour}" stroke-width="2.5"><title>{}</title></circle>"#,
            escape(&dot.href),
            escape(&dot.label)
        );
        if labelled {
            let _ = write!(
                out,
                r##"<text x="{:.1}" y="{:.1}" font-size="11" fill="#1f2328">{}</text>"##,
                cx + 10.0,
                cy + 4.0,
                escape(&dot.code)
            );
        }
        out.push_str("</a>");
    }
    out.push_str("</svg>");
    out
}

fn span(values: impl Iterator<Item = f64>) -> (f64, f64) {
    values.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)))
}

/// Light lines at round coordinates, labelled on the edges.
fn grid(out: &mut String, lat: (f64, f64), lng: (f64, f64), x: &impl Fn(f64) -> f64, y: &impl Fn(f64) -> f64) {
    for (lo, hi, is_lat) in [(lat.0, lat.1, true), (lng.0, lng.1, false)] {
        let step = nice_step((hi - lo).max(0.01) / 4.0);
        let mut value = (lo / step).floor() * step;
        while value <= hi + step {
            if is_lat {
                let py = y(value);
                if (4.0..HEIGHT - 4.0).contains(&py) {
                    let _ = write!(
                        out,
                        r##"<line x1="0" x2="{WIDTH}" y1="{py:.1}" y2="{py:.1}" stroke="#e3e8ee"/><text x="4" y="{:.1}" font-size="10" fill="#5f6670">{value:.2}°N</text>"##,
                        py - 3.0
                    );
                }
            } else {
                let px = x(value);
                if (4.0..WIDTH - 4.0).contains(&px) {
                    let _ = write!(
                        out,
                        r##"<line y1="0" y2="{HEIGHT}" x1="{px:.1}" x2="{px:.1}" stroke="#e3e8ee"/><text x="{:.1}" y="{:.1}" font-size="10" fill="#5f6670">{value:.2}°E</text>"##,
                        px + 3.0,
                        HEIGHT - 4.0
                    );
                }
            }
            value += step;
        }
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(10.0 * power)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(lat: f64, lng: f64, code: &str, group: usize) -> Dot {
        Dot {
            lat,
            lng,
            code: code.into(),
            label: format!("{code} <店>"),
            href: format!("/admin/stores/{code}"),
            group,
            hollow: false,
        }
    }

    #[test]
    fn dots_are_placed_north_up_linked_and_coloured_by_region() {
        let svg = svg(&[dot(31.20, 121.40, "A", 0), dot(31.30, 121.50, "B", 1)], "门店分布");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"aria-label="门店分布""#));
        assert!(svg.contains(r#"<a href="/admin/stores/A">"#) && svg.contains("<title>A &lt;店&gt;</title>"));
        assert!(svg.contains(PALETTE[0]) && svg.contains(PALETTE[1]));
        let cy = |code: &str| {
            let at = svg.find(&format!("/admin/stores/{code}")).unwrap();
            let rest = &svg[at..];
            let start = rest.find("cy=\"").unwrap() + 4;
            rest[start..start + rest[start..].find('"').unwrap()].parse::<f64>().unwrap()
        };
        assert!(cy("B") < cy("A"), "north is up");
    }

    #[test]
    fn one_store_or_none_still_draws() {
        assert!(svg(&[], "x").ends_with("</svg>"));
        let one = svg(&[dot(39.9, 116.4, "BJ", 9)], "x");
        assert!(one.contains("<circle") && !one.contains("NaN") && !one.contains("inf"));
    }
}
