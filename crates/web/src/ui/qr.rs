//! QR codes drawn on the server as inline SVG (invite links, share links): no script, no image
//! request, crisp at any size.

use qrcode::{EcLevel, QrCode, render::svg};

/// `text` as an SVG QR code ready to inline in HTML (medium error correction, with its quiet
/// zone). Empty when `text` is too long for a QR code, which no share link is.
pub fn svg(text: &str) -> String {
    let code = match QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) {
        Ok(code) => code,
        Err(err) => {
            tracing::warn!(error = %err, len = text.len(), "text too long for a QR code");
            return String::new();
        }
    };
    let rendered = code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(svg::Color("#1f2328"))
        .light_color(svg::Color("#ffffff"))
        .quiet_zone(true)
        .build();
    // Inline SVG takes no XML declaration.
    match rendered.find("<svg") {
        Some(start) => rendered[start..].to_owned(),
        None => rendered,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn links_become_inline_svg_and_oversized_text_does_not() {
        let drawing = super::svg("http://127.0.0.1:8080/m/p/0192?ref=ABCD2345");
        assert!(drawing.starts_with("<svg") && drawing.contains("</svg>"), "{drawing}");
        assert!(drawing.contains("<path"), "modules are drawn as a path");
        assert_ne!(drawing, super::svg("http://127.0.0.1:8080/m/p/0193?ref=ABCD2345"));
        assert_eq!(super::svg(&"x".repeat(8000)), "");
    }
}
