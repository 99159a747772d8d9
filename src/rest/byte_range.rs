//! `Range: bytes=…` requests on served files (RFC 9110, §14): a video player seeks
//! with them, and Safari plays no video without them. One range is served (206);
//! several, or a malformed header, get the whole file (200), as the RFC allows; a
//! range past the end gets 416.

use std::ops::Range;

/// What to send of a file of `size` bytes.
#[derive(Debug, PartialEq, Eq)]
pub enum Requested {
    /// All of it (200).
    Whole,
    /// These bytes (206).
    Part(Range<u64>),
    /// Nothing the file holds (416).
    Unsatisfiable,
}

/// The part of a file of `size` bytes that the `Range` header `header` asks for.
pub fn requested(header: Option<&str>, size: u64) -> Requested {
    let Some(spec) = header.and_then(|header| header.trim().strip_prefix("bytes=")) else {
        return Requested::Whole;
    };
    if spec.contains(',') {
        return Requested::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Requested::Whole;
    };
    let number = |text: &str| text.trim().parse::<u64>().ok();
    let range = match (first.trim().is_empty(), number(first), number(last)) {
        // `bytes=-N`: the last N bytes.
        (true, _, Some(suffix)) if suffix > 0 => size.saturating_sub(suffix)..size,
        (true, _, _) => return Requested::Unsatisfiable,
        (false, Some(start), None) if last.trim().is_empty() => start..size,
        (false, Some(start), Some(end)) if start <= end => start..end.saturating_add(1).min(size),
        _ => return Requested::Whole,
    };
    if range.start >= size {
        Requested::Unsatisfiable
    } else {
        Requested::Part(range)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_single_ranges_and_ignores_the_rest() {
        assert_eq!(requested(None, 100), Requested::Whole);
        assert_eq!(requested(Some("bytes=0-9"), 100), Requested::Part(0..10));
        assert_eq!(requested(Some("bytes=90-"), 100), Requested::Part(90..100));
        assert_eq!(requested(Some("bytes=-10"), 100), Requested::Part(90..100));
        assert_eq!(requested(Some("bytes=-500"), 100), Requested::Part(0..100));
        assert_eq!(
            requested(Some("bytes=50-500"), 100),
            Requested::Part(50..100)
        );
        assert_eq!(requested(Some("bytes=100-"), 100), Requested::Unsatisfiable);
        assert_eq!(requested(Some("bytes=-0"), 100), Requested::Unsatisfiable);
        assert_eq!(requested(Some("bytes=0-1,5-6"), 100), Requested::Whole);
        assert_eq!(requested(Some("bytes=9-1"), 100), Requested::Whole);
        assert_eq!(requested(Some("items=0-1"), 100), Requested::Whole);
        assert_eq!(requested(Some("bytes=x-"), 100), Requested::Whole);
    }
}
