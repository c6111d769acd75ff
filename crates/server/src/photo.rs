//! Photos from a phone's camera (reference selfies and check-ins), from the patient's pages
//! and from the device API alike: checked against a pixel budget read from the file's
//! header *before* anything is decoded, decoded a few at a time, turned upright, scaled to
//! fit 1280 px and stored as a fresh JPEG.
//!
//! Why each step:
//! - A picture's header says how large it decodes. A 420 KB PNG of zeros can claim
//!   12000×12000 pixels and take 576 MB to decode; the budget refuses it unread.
//! - Decoding is bounded in memory ([`MAX_DECODE_BYTES`]) and in number at once
//!   ([`PhotoBudget`]'s decoder threads), so eight such uploads at once cannot take the server's
//!   memory either.
//! - Re-encoding drops the file's metadata: EXIF can hold the phone's GPS position, which
//!   an officer must never see as coordinates. Nothing is stored as it arrived.

use std::io::Cursor;

use fluent_bundle::FluentArgs;
use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ExtendedColorType, ImageDecoder, ImageReader, Limits};
use propusk_core::{Lang, Localized};

use crate::web::Texts;
use crate::workers::Workers;

/// The largest upload the photo forms accept (a 12-megapixel camera's JPEG, with room).
pub const MAX_UPLOAD: usize = 15 * 1024 * 1024;
/// The longest side of a stored photo: plenty to compare two faces.
const MAX_SIDE: u32 = 1280;
/// The most memory one decode may take: a 4096×4096 RGB picture with room, not a 16-bit one.
pub const MAX_DECODE_BYTES: u64 = 64 * 1024 * 1024;

/// How large, and how many at once, photos may be decoded.
#[derive(Clone)]
pub struct PhotoBudget {
    /// The most pixels a photo may have (4096 × 4096 by default).
    pub max_pixels: u64,
    /// The threads that decode (as many decodes run at once), with a short queue.
    decoders: Workers,
}

impl PhotoBudget {
    pub fn new(max_pixels: u64, concurrent_decodes: usize) -> Self {
        Self {
            max_pixels,
            decoders: Workers::start("photos", concurrent_decodes, 4 * concurrent_decodes),
        }
    }
}

impl Default for PhotoBudget {
    fn default() -> Self {
        Self::new(4096 * 4096, 2)
    }
}

/// Why an upload is not a photo we keep.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PhotoError {
    #[error("not a JPEG or PNG picture ({0})")]
    NotAPicture(String),
    #[error("{width}×{height} pixels is more than {max} pixels")]
    TooLarge { width: u32, height: u32, max: u64 },
    #[error("every photo decoder is busy")]
    Busy,
}

impl PhotoError {
    /// What the patient is told, in their language.
    pub fn message(&self, t: Texts) -> String {
        match self {
            Self::NotAPicture(_) => t.t("photo-invalid"),
            Self::TooLarge { width, height, max } => {
                let mut args = FluentArgs::new();
                args.set("width", *width);
                args.set("height", *height);
                args.set("megapixels", format!("{:.1}", *max as f64 / 1_000_000.0));
                t.format("photo-too-large", Some(&args))
            }
            Self::Busy => t.t("photo-busy"),
        }
    }

    /// [`PhotoError::message`] in both languages, for the API.
    pub fn localized(&self) -> Localized {
        Localized::new(
            self.message(Texts::new(Lang::Ru)),
            self.message(Texts::new(Lang::En)),
        )
    }
}

/// [`normalize`] on a decoder thread, one of a bounded number at a time: the photo ready to
/// store, or why not (busy when the decoders and their queue are all taken).
pub async fn normalize_upload(budget: &PhotoBudget, bytes: &[u8]) -> Result<Vec<u8>, PhotoError> {
    // The header is read on the async thread: it is small, and a refusal costs no decoder.
    let (width, height) = dimensions(bytes)?;
    if u64::from(width) * u64::from(height) > budget.max_pixels {
        return Err(PhotoError::TooLarge {
            width,
            height,
            max: budget.max_pixels,
        });
    }
    let bytes = bytes.to_vec();
    let max_pixels = budget.max_pixels;
    budget
        .decoders
        .run(move || normalize(&bytes, max_pixels))
        .await
        .map_err(|_| PhotoError::Busy)?
}

fn reader(bytes: &[u8]) -> Result<ImageReader<Cursor<&[u8]>>, PhotoError> {
    if crate::monitoring_rules::photo_type(bytes).is_none() {
        return Err(PhotoError::NotAPicture("neither JPEG nor PNG".into()));
    }
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| PhotoError::NotAPicture(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    Ok(reader)
}

/// Width and height from the header alone.
pub fn dimensions(bytes: &[u8]) -> Result<(u32, u32), PhotoError> {
    reader(bytes)?
        .into_dimensions()
        .map_err(|e| PhotoError::NotAPicture(e.to_string()))
}

/// The photo ready to store, or why it cannot be one.
pub fn normalize(bytes: &[u8], max_pixels: u64) -> Result<Vec<u8>, PhotoError> {
    let bad = |e: image::ImageError| PhotoError::NotAPicture(e.to_string());
    let mut decoder = reader(bytes)?.into_decoder().map_err(bad)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > max_pixels {
        return Err(PhotoError::TooLarge {
            width,
            height,
            max: max_pixels,
        });
    }
    let orientation = decoder.orientation().map_err(bad)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(bad)?;
    image.apply_orientation(orientation);
    if image.width() > MAX_SIDE || image.height() > MAX_SIDE {
        // Area averaging in integers: as good as a filter for a face this size, and without
        // the filters' intermediate floating-point copy of the whole picture.
        image = image.thumbnail(MAX_SIDE, MAX_SIDE);
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
        .map_err(bad)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn png(width: u32, height: u32) -> Vec<u8> {
        let img =
            image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90]));
        let mut png = Vec::new();
        DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        png
    }

    #[test]
    fn a_large_png_becomes_a_small_jpeg() {
        let jpeg = normalize(&png(2000, 1500), 4096 * 4096).unwrap();
        assert!(jpeg.starts_with(&[0xFF, 0xD8, 0xFF]));
        let back = image::load_from_memory(&jpeg).unwrap();
        assert_eq!((back.width(), back.height()), (1280, 960));
    }

    #[test]
    fn not_a_picture_is_refused() {
        assert!(normalize(b"not a photo at all", 4096 * 4096).is_err());
        assert!(normalize(&[0xFF, 0xD8, 0xFF, 0xE0], 4096 * 4096).is_err());
    }

    #[test]
    fn too_many_pixels_are_refused_from_the_header() {
        assert_eq!(dimensions(&png(300, 200)).unwrap(), (300, 200));
        assert_eq!(
            normalize(&png(300, 200), 299 * 200),
            Err(PhotoError::TooLarge {
                width: 300,
                height: 200,
                max: 299 * 200
            })
        );
    }
}
