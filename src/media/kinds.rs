//! What may be uploaded: the allowed types, the kind each belongs to, and the largest
//! size of each kind (PRODUCT_RULES, "Uploads").

use serde::Serialize;

use super::config::MediaConfig;

/// The kind of an uploaded file.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema, async_graphql::Enum,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum MediaKind {
    Image,
    Video,
    Document,
}

impl MediaKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "IMAGE",
            Self::Video => "VIDEO",
            Self::Document => "DOCUMENT",
        }
    }

    /// Parses a stored name.
    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Image, Self::Video, Self::Document]
            .into_iter()
            .find(|kind| kind.as_str() == stored)
    }

    /// The largest file of this kind, in bytes.
    pub fn max_bytes(self, config: &MediaConfig) -> u64 {
        match self {
            Self::Image => config.upload_max_image_bytes,
            Self::Video => config.upload_max_video_bytes,
            Self::Document => config.upload_max_document_bytes,
        }
    }
}

/// The allowed content types, each with its kind and file extension.
const ALLOWED: [(&str, MediaKind, &str); 7] = [
    ("image/jpeg", MediaKind::Image, "jpg"),
    ("image/png", MediaKind::Image, "png"),
    ("image/webp", MediaKind::Image, "webp"),
    ("image/gif", MediaKind::Image, "gif"),
    ("video/mp4", MediaKind::Video, "mp4"),
    ("video/webm", MediaKind::Video, "webm"),
    ("application/pdf", MediaKind::Document, "pdf"),
];

/// The kind of an allowed content type (`None`: not allowed).
pub fn kind_of(content_type: &str) -> Option<MediaKind> {
    ALLOWED
        .iter()
        .find(|(allowed, _, _)| *allowed == content_type)
        .map(|(_, kind, _)| *kind)
}

/// The file extension of an allowed content type.
pub fn extension_of(content_type: &str) -> Option<&'static str> {
    ALLOWED
        .iter()
        .find(|(allowed, _, _)| *allowed == content_type)
        .map(|(_, _, extension)| *extension)
}

/// The content type of an allowed file extension.
pub fn content_type_of_extension(extension: &str) -> Option<&'static str> {
    ALLOWED
        .iter()
        .find(|(_, _, allowed)| *allowed == extension)
        .map(|(content_type, _, _)| *content_type)
}

/// Every allowed content type, for messages.
pub fn allowed_list() -> String {
    ALLOWED
        .iter()
        .map(|(content_type, _, _)| *content_type)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The content type the first bytes of a file show, if it is one we know.
pub fn sniff(first_bytes: &[u8]) -> Option<&'static str> {
    let found = infer::get(first_bytes)?.mime_type();
    ALLOWED
        .iter()
        .find(|(allowed, _, _)| *allowed == found)
        .map(|(content_type, _, _)| *content_type)
}
