//! Image processing, off the async runtime: decode with bounds (a decompression bomb
//! fails cleanly), apply the EXIF orientation, drop every piece of metadata (GPS
//! included) by re-encoding, make the variants (150, 320, 640 and 1280 px wide,
//! never upscaled; JPEG, or PNG where the image has transparency) and a blurhash of
//! the smallest. An animated image keeps its first frame.

use std::io::Cursor;

use fast_image_resize::{ResizeOptions, Resizer};
use image::{
    DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, codecs::jpeg::JpegEncoder,
};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, AppResult};

/// The widths of the variants.
pub const VARIANT_WIDTHS: [u32; 4] = [150, 320, 640, 1280];

/// The longest side decoded (above it the image is refused before it is decoded).
const MAX_SIDE: u32 = 12_000;

/// The most memory decoding one image may take.
const MAX_DECODE_BYTES: u64 = 256 * 1024 * 1024;

/// JPEG quality of the variants.
const JPEG_QUALITY: u8 = 82;

/// One variant of an image, as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Variant {
    pub width: u32,
    pub height: u32,
    /// image/jpeg or image/png.
    pub content_type: String,
    /// Appended to the original's key (without its extension) to name the variant.
    pub suffix: String,
}

/// A processed image: its upright size, its variants (with their bytes) and blurhash.
pub struct ProcessedImage {
    pub width: u32,
    pub height: u32,
    pub variants: Vec<(Variant, Vec<u8>)>,
    pub blurhash: String,
}

/// Decodes `bytes` within the bounds and upright.
fn decode(bytes: &[u8]) -> AppResult<DynamicImage> {
    let refused = |err: image::ImageError| {
        AppError::field("file", format!("cannot be read as an image: {err}"))
    };
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|err| AppError::Internal(format!("reading an image: {err}")))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(refused)?;
    let orientation = decoder.orientation().map_err(refused)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(refused)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Makes the variants and blurhash of the image in `bytes` (CPU work: call it from a
/// blocking task).
pub fn process_image(bytes: &[u8]) -> AppResult<ProcessedImage> {
    let image = decode(bytes)?;
    let (width, height) = (image.width(), image.height());
    let transparent = image.color().has_alpha();
    let source = if transparent {
        DynamicImage::ImageRgba8(image.to_rgba8())
    } else {
        DynamicImage::ImageRgb8(image.to_rgb8())
    };
    let mut widths: Vec<u32> = VARIANT_WIDTHS
        .into_iter()
        .filter(|target| *target <= width)
        .collect();
    if widths.is_empty() {
        // Smaller than the smallest variant: one variant at its own size.
        widths.push(width);
    }
    let mut resizer = Resizer::new();
    let mut variants = Vec::with_capacity(widths.len());
    let mut smallest: Option<DynamicImage> = None;
    for target in widths {
        let target_height = scaled_height(width, height, target);
        let mut resized = DynamicImage::new(target, target_height, source.color());
        resizer
            .resize(&source, &mut resized, &ResizeOptions::new())
            .map_err(|err| AppError::Internal(format!("resizing an image: {err}")))?;
        let (content_type, extension, encoded) = encode(&resized, transparent)?;
        variants.push((
            Variant {
                width: target,
                height: target_height,
                content_type: content_type.to_owned(),
                suffix: format!("-{target}.{extension}"),
            },
            encoded,
        ));
        if smallest.is_none() {
            smallest = Some(resized);
        }
    }
    let smallest = smallest.ok_or_else(|| AppError::Internal("no variant was made".into()))?;
    let rgba = smallest.to_rgba8();
    let blurhash = blurhash::encode(4, 3, rgba.width(), rgba.height(), rgba.as_raw())
        .map_err(|err| AppError::Internal(format!("blurhash: {err}")))?;
    Ok(ProcessedImage {
        width,
        height,
        variants,
        blurhash,
    })
}

/// The height of `width × height` scaled to `target` wide (at least 1).
fn scaled_height(width: u32, height: u32, target: u32) -> u32 {
    let scaled = u64::from(height) * u64::from(target) / u64::from(width.max(1));
    u32::try_from(scaled).unwrap_or(u32::MAX).max(1)
}

/// Encodes a variant: PNG where it has transparency, JPEG otherwise.
fn encode(
    image: &DynamicImage,
    transparent: bool,
) -> AppResult<(&'static str, &'static str, Vec<u8>)> {
    let mut bytes = Vec::new();
    let failed = |err: image::ImageError| AppError::Internal(format!("encoding a variant: {err}"));
    if transparent {
        image
            .write_to(&mut Cursor::new(&mut bytes), ImageFormat::Png)
            .map_err(failed)?;
        Ok(("image/png", "png", bytes))
    } else {
        JpegEncoder::new_with_quality(&mut bytes, JPEG_QUALITY)
            .encode_image(image)
            .map_err(failed)?;
        Ok(("image/jpeg", "jpg", bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::scaled_height;

    #[test]
    fn variants_keep_the_aspect() {
        assert_eq!(scaled_height(4000, 3000, 150), 112);
        assert_eq!(scaled_height(1000, 1, 150), 1);
    }
}
