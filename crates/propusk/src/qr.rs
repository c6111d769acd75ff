//! Reading QR codes back from photos (drawing them is the server's `qr` module).

use anyhow::{anyhow, Context, Result};
use image::{imageops, GrayImage, Luma};

/// Reads the QR codes in a photo (PNG or JPEG). Phone photos are often blurred,
/// tilted or large, so when the first look finds nothing it tries again on a
/// smaller copy and on a contrast-stretched one.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<String>> {
    let img = image::load_from_memory(bytes)
        .context("not a readable PNG or JPEG image")?
        .to_luma8();
    let mut attempts = vec![img.clone()];
    let longest = img.width().max(img.height());
    if longest > 1000 {
        let scale = 1000.0 / longest as f32;
        let (w, h) = (
            (img.width() as f32 * scale) as u32,
            (img.height() as f32 * scale) as u32,
        );
        attempts.push(imageops::resize(
            &img,
            w.max(1),
            h.max(1),
            imageops::FilterType::Triangle,
        ));
    }
    attempts.push(stretch_contrast(&img));
    for attempt in attempts {
        let texts = decode_gray(attempt);
        if !texts.is_empty() {
            return Ok(texts);
        }
    }
    Err(anyhow!("no readable QR code found in the image"))
}

fn decode_gray(img: GrayImage) -> Vec<String> {
    let mut prepared = rqrr::PreparedImage::prepare(img);
    prepared
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, text)| text))
        .collect()
}

fn stretch_contrast(img: &GrayImage) -> GrayImage {
    let (lo, hi) = img
        .pixels()
        .fold((255u8, 0u8), |(lo, hi), p| (lo.min(p[0]), hi.max(p[0])));
    let range = f32::from(hi.saturating_sub(lo).max(1));
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let v = f32::from(img.get_pixel(x, y)[0] - lo) / range;
        Luma([if v < 0.5 { 0 } else { 255 }])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_round_trip() {
        let text = "PR1:6BF7*5XPQ$EOAL3NA2A8:6Q/80 47E9";
        let png = propusk_server::qr::render_png(text, 6).unwrap();
        assert_eq!(decode_image(&png).unwrap(), vec![text.to_string()]);
        assert!(propusk_server::qr::render_svg(text)
            .unwrap()
            .starts_with("<?xml"));
        assert!(decode_image(b"not an image").is_err());
    }
}
