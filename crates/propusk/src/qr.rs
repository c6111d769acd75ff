//! Reading QR codes back from photos (drawing them is the server's `qr` module).

use anyhow::{anyhow, Context, Result};
use image::{imageops, GrayImage, Luma};

/// Reads the QR codes in a photo (PNG or JPEG). Phone photos are often blurred,
/// tilted or large, and the detector's grid fitting is sensitive to the module size,
/// so when the first look finds nothing it tries again on smaller copies, each also
/// contrast-stretched.
pub fn decode_image(bytes: &[u8]) -> Result<Vec<String>> {
    let img = image::load_from_memory(bytes)
        .context("not a readable PNG or JPEG image")?
        .to_luma8();
    let longest = img.width().max(img.height()) as f32;
    // The first copy is at most 1000 px on its longest side; then 3/4 and 1/2 of it.
    let base = (1000.0 / longest).min(1.0);
    let first = decode_gray(img.clone());
    if !first.is_empty() {
        return Ok(first);
    }
    for factor in [1.0, 0.75, 0.5] {
        let scale = base * factor;
        let copy = if scale < 1.0 {
            let (w, h) = (
                (img.width() as f32 * scale) as u32,
                (img.height() as f32 * scale) as u32,
            );
            imageops::resize(&img, w.max(1), h.max(1), imageops::FilterType::Triangle)
        } else {
            img.clone()
        };
        if copy.width() < 21 || copy.height() < 21 {
            break;
        }
        let stretched = stretch_contrast(&copy);
        // The full-size copy was the first look.
        let again = (scale < 1.0).then_some(copy);
        for attempt in again.into_iter().chain([stretched]) {
            let texts = decode_gray(attempt);
            if !texts.is_empty() {
                return Ok(texts);
            }
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
