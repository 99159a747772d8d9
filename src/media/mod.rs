//! Uploads: a client asks for an upload URL, puts the file there, and completes the
//! upload; the server checks the stored file (its size, and its real type from its
//! first bytes) and processes it in a job of the `media` queue.
//!
//! - [`images`]: uploaded images as post covers and avatars;
//! - [`kinds`]: the allowed types and sizes;
//! - [`processing`]: image variants, orientation, metadata removal and blurhash;
//! - [`storage`]: where files live (a directory under the data directory, or an S3
//!   bucket);
//! - [`uploads`]: the flow, from the upload URL to the processed file;
//! - [`bench`]: `sparkle bench-media`, processing time and memory of a 12 MP JPEG.

pub mod bench;
pub mod config;
pub mod images;
pub mod kinds;
pub mod processing;
pub mod storage;
pub mod uploads;

pub use config::MediaConfig;

use chrono::{DateTime, TimeDelta, Utc};

use crate::{config::Config, error::AppResult, signing::LinkSigner};
use storage::Storage;

/// How long a stored file may be cached: its key never names other bytes.
pub const CACHE_FOR_GOOD: &str = "public, max-age=31536000, immutable";

/// What uploads need: the storage, the upload-URL signer and the public addresses.
pub struct MediaService {
    pub storage: Storage,
    signer: LinkSigner,
    public_url: String,
    cdn_url: Option<String>,
}

impl MediaService {
    /// The media service of `config`; local upload URLs are signed with a key derived
    /// from `secret`.
    pub fn new(config: &Config, secret: &[u8]) -> AppResult<Self> {
        Ok(Self {
            storage: Storage::new(config)?,
            signer: LinkSigner::new(secret, "uploads"),
            public_url: config.public_url(),
            cdn_url: config
                .media
                .cdn_url
                .as_ref()
                .map(|url| url.trim_end_matches('/').to_owned()),
        })
    }

    /// An address of this API (`path` starts with `/`).
    pub fn api_link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// The public address of the stored file `key`: behind `CDN_URL` when set, else
    /// this server's `/media/…`.
    pub fn file_url(&self, key: &str) -> String {
        match &self.cdn_url {
            Some(cdn) => format!("{cdn}/{key}"),
            None => self.api_link(&format!("/media/{key}")),
        }
    }

    /// Where the client puts the bytes of upload `file_id` (stored as `key`): a URL
    /// signed for exactly `content_type` and `size`, issued at `issued_at` for `ttl`.
    /// The bucket's own presigned URL, or this server's local upload target.
    pub async fn upload_url(
        &self,
        file_id: &str,
        key: &str,
        content_type: &str,
        size: u64,
        issued_at: DateTime<Utc>,
        ttl: TimeDelta,
    ) -> AppResult<String> {
        match &self.storage {
            Storage::S3(bucket) => {
                let ttl = ttl.to_std().unwrap_or_default();
                bucket.presigned_put(key, content_type, size, ttl)
            }
            Storage::Local(_) => {
                let expires = (issued_at + ttl).timestamp();
                let fields = local_upload_fields(file_id, expires, content_type, size);
                let signature = self
                    .signer
                    .sign(LOCAL_UPLOAD_PURPOSE, &fields.each_ref().map(String::as_str));
                Ok(self.api_link(&format!(
                    "/api/upload/local/{file_id}?expires={expires}&size={size}&sig={signature}"
                )))
            }
        }
    }

    /// Whether `signature` signs a local upload of `file_id` of exactly `content_type`
    /// and `size` until `expires`.
    pub fn verify_local_upload(
        &self,
        file_id: &str,
        expires: i64,
        content_type: &str,
        size: u64,
        signature: &str,
    ) -> bool {
        let fields = local_upload_fields(file_id, expires, content_type, size);
        self.signer.verify(
            LOCAL_UPLOAD_PURPOSE,
            &fields.each_ref().map(String::as_str),
            signature,
        )
    }
}

/// What a local upload URL signs: the file, its expiry, type and size.
fn local_upload_fields(file_id: &str, expires: i64, content_type: &str, size: u64) -> [String; 4] {
    [
        file_id.to_owned(),
        expires.to_string(),
        content_type.to_owned(),
        size.to_string(),
    ]
}

/// What local upload URLs are signed for.
const LOCAL_UPLOAD_PURPOSE: &str = "put";
