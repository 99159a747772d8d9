//! `sparkle bench-media`: how long processing a 12-megapixel JPEG takes (all variants
//! and the blurhash) and how much the process's peak memory grows meanwhile
//! (`bench/media.sh` runs it). Linux only for the memory figure: the peak is reset
//! through `/proc/self/clear_refs` and read from `/proc/self/status`.

use std::time::{Duration, Instant};

use image::{DynamicImage, RgbImage, codecs::jpeg::JpegEncoder};

use super::processing::process_image;
use crate::error::{AppError, AppResult};

/// One processing run.
#[derive(Clone, Debug)]
pub struct MediaBenchRun {
    pub elapsed: Duration,
    pub variants: usize,
    /// Peak resident memory above the resident memory before the run, in KiB
    /// (`None` where `/proc` cannot tell).
    pub peak_growth_kib: Option<u64>,
}

/// A 4000×3000 photo-like JPEG (smooth gradients with grain), quality 90.
pub fn twelve_megapixel_jpeg() -> AppResult<Vec<u8>> {
    let image = RgbImage::from_fn(4000, 3000, |x, y| {
        let grain = (x.wrapping_mul(2_654_435_761) ^ y.wrapping_mul(40_503)) >> 28;
        image::Rgb([
            u8::try_from((x * 255 / 4000 + grain) % 256).unwrap_or(0),
            u8::try_from((y * 255 / 3000 + grain) % 256).unwrap_or(0),
            u8::try_from(((x + y) * 255 / 7000) % 256).unwrap_or(0),
        ])
    });
    let mut bytes = Vec::new();
    JpegEncoder::new_with_quality(&mut bytes, 90)
        .encode_image(&DynamicImage::ImageRgb8(image))
        .map_err(|err| AppError::Internal(format!("encoding the benchmark image: {err}")))?;
    Ok(bytes)
}

/// A `/proc/self/status` field, in KiB.
fn status_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Processes `jpeg` `runs` times, measuring each run.
pub fn run(jpeg: &[u8], runs: usize) -> AppResult<Vec<MediaBenchRun>> {
    let mut measured = Vec::with_capacity(runs);
    for _ in 0..runs {
        // Resets the peak (VmHWM) to the current resident size.
        let reset = std::fs::write("/proc/self/clear_refs", "5").is_ok();
        let before = status_kib("VmRSS:");
        let started = Instant::now();
        let processed = process_image(jpeg)?;
        let elapsed = started.elapsed();
        let peak = status_kib("VmHWM:");
        measured.push(MediaBenchRun {
            elapsed,
            variants: processed.variants.len(),
            peak_growth_kib: match (reset, before, peak) {
                (true, Some(before), Some(peak)) => Some(peak.saturating_sub(before)),
                _ => None,
            },
        });
    }
    Ok(measured)
}
