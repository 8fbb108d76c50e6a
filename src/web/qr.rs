//! QR codes for customers' pages (a coupon's code, a share link, a poster's link), rendered
//! on the server as inline SVG with `qrcode`: no script, and a scanner reads exactly the text
//! given — a coupon's QR is its code, which the till's scanner types into the redeem and cart
//! APIs as it would a typed code.

use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};

/// An inline `<svg>` of `text` (error correction M, with the quiet zone), or `None` when the
/// text is too long for a QR code.
pub fn svg(text: &str) -> Option<String> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M).ok()?;
    let image = code
        .render::<svg::Color>()
        .min_dimensions(240, 240)
        .dark_color(svg::Color("#111"))
        .light_color(svg::Color("#fff"))
        .build();
    // Inline in HTML: without the XML declaration, labelled for screen readers.
    let body = image.trim_start_matches(r#"<?xml version="1.0" standalone="yes"?>"#);
    Some(body.replacen(
        "<svg ",
        r#"<svg role="img" aria-label="QR code" class="qr" "#,
        1,
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn renders_an_inline_svg_and_refuses_what_does_not_fit() {
        let s = super::svg("ACME-7K2P9").unwrap();
        assert!(s.starts_with("<svg role=\"img\""), "{s}");
        assert!(s.contains("<path"));
        assert!(super::svg(&"x".repeat(5000)).is_none());
    }
}
