//! QR codes drawn on the server as inline SVG (invite links, share links): no script, no image
//! request, crisp at any size.

use qrcode::{EcLevel, QrCode, render::svg};

/// `text` as an SVG QR code (medium error correction, with its quiet zone), ready to inline in
/// HTML; empty if the text is too long for a QR code.
pub fn svg(text: &str) -> String {
    let Ok(code) = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M) else { return String::new() };
    let rendered = code.render::<svg::Color<'_>>().min_dimensions(200, 200).quiet_zone(true).build();
    // Inline SVG takes no XML declaration.
    match rendered.find("<svg") {
        Some(start) => rendered[start..].to_owned(),
        None => rendered,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_an_inline_svg() {
        let svg = super::svg("/m/i/ABCD2345");
        assert!(svg.starts_with("<svg"), "{}", &svg[..40.min(svg.len())]);
        assert!(svg.contains("<path") || svg.contains("<rect"));
    }
}
