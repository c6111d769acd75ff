//! A photo from a phone's camera as the patient's pages take it: any size the camera makes,
//! decoded, turned upright, scaled to fit 1280 px and stored as a fresh JPEG. Re-encoding
//! keeps the store under the API's 1 MB and drops the file's metadata (EXIF can hold the
//! phone's GPS position, which the officer must never see as coordinates).

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageReader, Limits};

/// The largest upload the photo forms accept (a 12-megapixel camera's JPEG, with room).
pub const MAX_UPLOAD: usize = 15 * 1024 * 1024;
/// The longest side of a stored photo: plenty to compare two faces.
const MAX_SIDE: u32 = 1280;

/// [`normalize`] off the async threads: the photo ready to store, or `None` when the upload
/// is no picture (logged as `what`, e.g. "check-in photo", refused).
pub async fn normalize_upload(
    bytes: &[u8],
    what: &'static str,
) -> Result<Option<Vec<u8>>, tokio::task::JoinError> {
    let bytes = bytes.to_vec();
    Ok(
        match tokio::task::spawn_blocking(move || normalize(&bytes)).await? {
            Ok(jpeg) => Some(jpeg),
            Err(reason) => {
                tracing::info!(%reason, "{what} refused");
                None
            }
        },
    )
}

/// The photo ready to store, or why it cannot be one.
pub fn normalize(bytes: &[u8]) -> Result<Vec<u8>, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(12_000);
    limits.max_image_height = Some(12_000);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let orientation = decoder.orientation().map_err(|e| e.to_string())?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    image.apply_orientation(orientation);
    if image.width() > MAX_SIDE || image.height() > MAX_SIDE {
        image = image.resize(MAX_SIDE, MAX_SIDE, FilterType::Triangle);
    }
    let rgb = image.to_rgb8();
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 82)
        .encode(
            rgb.as_raw(),
            rgb.width(),
            rgb.height(),
            ExtendedColorType::Rgb8,
        )
        .map_err(|e| e.to_string())?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_png_becomes_a_small_jpeg() {
        let big = image::RgbImage::from_fn(2000, 1500, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(big)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let jpeg = normalize(&png).unwrap();
        assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (1280, 960));
    }

    #[test]
    fn not_a_picture_is_refused() {
        assert!(normalize(b"not a photo at all").is_err());
        assert!(normalize(&[0xFF, 0xD8, 0xFF, 0xE0]).is_err());
    }
}
