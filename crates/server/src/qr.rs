//! QR codes of pass tokens, as SVG for pages and PNG for downloads and printing.

use anyhow::{anyhow, Result};
use image::{GrayImage, Luma};
use qrcode::{EcLevel, QrCode};

/// The quiet zone the QR standard asks for, in modules.
const QUIET_ZONE: u32 = 4;

fn code(text: &str) -> Result<QrCode> {
    // Level M survives a scuffed phone screen and keeps the code small enough to scan.
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| anyhow!("cannot make a QR code: {e}"))
}

/// A grayscale image of the QR code, `module_px` pixels per module.
pub fn render_image(text: &str, module_px: u32) -> Result<GrayImage> {
    let code = code(text)?;
    let width = code.width() as u32;
    let colors = code.to_colors();
    let side = (width + 2 * QUIET_ZONE) * module_px;
    let inside = |m: u32| (QUIET_ZONE..QUIET_ZONE + width).contains(&m);
    Ok(GrayImage::from_fn(side, side, |x, y| {
        let (mx, my) = (x / module_px, y / module_px);
        let dark = inside(mx)
            && inside(my)
            && colors[((my - QUIET_ZONE) * width + (mx - QUIET_ZONE)) as usize]
                == qrcode::Color::Dark;
        Luma([if dark { 0 } else { 255 }])
    }))
}

/// PNG bytes of the QR code.
pub fn render_png(text: &str, module_px: u32) -> Result<Vec<u8>> {
    let mut out = std::io::Cursor::new(Vec::new());
    render_image(text, module_px)?.write_to(&mut out, image::ImageFormat::Png)?;
    Ok(out.into_inner())
}

/// An SVG drawing of the QR code that scales to its container.
pub fn render_svg(text: &str) -> Result<String> {
    Ok(code(text)?
        .render::<qrcode::render::svg::Color>()
        .quiet_zone(true)
        .min_dimensions(256, 256)
        .build())
}
