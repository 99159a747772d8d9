//! Where uploaded files live, behind one interface: a directory under the data
//! directory (the embedded default) or an S3-compatible bucket. Bytes put to an upload
//! URL wait under `pending/<file>` until the upload is completed and checked; then
//! they move to `uploads/<user>/<file>/<name>`, beside their variants, and only
//! `uploads/` is served. A key holding anything but plain segments is refused, so no
//! key reaches outside the storage's folder.

mod local;
mod presign;
mod s3;

use std::ops::Range;

use axum::body::Body;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use sha2::{Digest, Sha256};

pub use local::LocalStorage;
pub use s3::S3Storage;

use super::MediaConfig;
use crate::{
    config::Config,
    error::{AppError, AppResult},
};

/// The storage of uploaded files.
pub enum Storage {
    /// A directory under the data directory; the server takes the uploads itself.
    Local(LocalStorage),
    /// An S3-compatible bucket; clients upload to it with presigned URLs.
    S3(Box<S3Storage>),
}

impl Storage {
    /// The storage `config` names: its S3 bucket when one is set, else the local one.
    pub fn new(config: &Config) -> AppResult<Self> {
        let media: &MediaConfig = &config.media;
        Ok(match &media.s3_bucket {
            Some(bucket) => Self::S3(Box::new(S3Storage::new(media, bucket)?)),
            None => Self::Local(LocalStorage::new(&config.server.data_dir)?),
        })
    }

    /// The size of `key`, or `None` when nothing is stored there.
    pub async fn size(&self, key: &str) -> AppResult<Option<u64>> {
        match self {
            Self::Local(local) => local.size(key).await,
            Self::S3(s3) => s3.size(key).await,
        }
    }

    /// The first `count` bytes of `key` (`count` at most its size).
    pub async fn first_bytes(&self, key: &str, count: usize) -> AppResult<Vec<u8>> {
        match self {
            Self::Local(local) => local.first_bytes(key, count).await,
            Self::S3(s3) => s3.first_bytes(key, count).await,
        }
    }

    /// The whole of `key`.
    pub async fn read_all(&self, key: &str) -> AppResult<Vec<u8>> {
        match self {
            Self::Local(local) => local.read_all(key).await,
            Self::S3(s3) => s3.read_all(key).await,
        }
    }

    /// The SHA-256 of `key` (hex), read as a stream.
    pub async fn sha256(&self, key: &str) -> AppResult<String> {
        let size = self.size(key).await?.ok_or(AppError::NotFound("File"))?;
        let mut stream = self.body(key, 0..size).await?.into_data_stream();
        let mut digest = Sha256::new();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|err| AppError::Internal(format!("reading {key}: {err}")))?;
            digest.update(&chunk);
        }
        Ok(hex::encode(digest.finalize()))
    }

    /// Stores `bytes` of `content_type` as `key`.
    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> AppResult<()> {
        match self {
            Self::Local(local) => local.put(key, &bytes).await,
            Self::S3(s3) => s3.put(key, bytes, content_type).await,
        }
    }

    /// Moves `from` to `to`.
    pub async fn rename(&self, from: &str, to: &str) -> AppResult<()> {
        match self {
            Self::Local(local) => local.rename(from, to).await,
            Self::S3(s3) => s3.rename(from, to).await,
        }
    }

    /// Bytes `range` of `key`, as a response body (not found when nothing is there).
    pub async fn body(&self, key: &str, range: Range<u64>) -> AppResult<Body> {
        match self {
            Self::Local(local) => local.body(key, range).await,
            Self::S3(s3) => s3.body(key, range).await,
        }
    }

    /// Removes `key` (nothing happens when it is not there).
    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self {
            Self::Local(local) => local.delete(key).await,
            Self::S3(s3) => s3.delete(key).await,
        }
    }

    /// Whether the storage can be reached now, for `/ready`.
    pub async fn health(&self) -> StorageHealth {
        match self {
            Self::Local(local) => StorageHealth {
                storage: "local",
                reachable: local.reachable(),
            },
            Self::S3(s3) => StorageHealth {
                storage: "s3",
                reachable: s3.reachable().await,
            },
        }
    }

    /// The keys in `folder` (which ends in `/`) last written before `before`.
    pub async fn written_before(
        &self,
        folder: &str,
        before: DateTime<Utc>,
    ) -> AppResult<Vec<String>> {
        match self {
            Self::Local(local) => local.written_before(folder, before).await,
            Self::S3(s3) => s3.written_before(folder, before).await,
        }
    }
}

/// Whether the storage of uploads could be reached when last probed.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StorageHealth {
    /// `local` or `s3`.
    pub storage: &'static str,
    pub reachable: bool,
}

/// `key`, if it is a plain relative path (segments of letters, digits, `-`, `_`, `.`).
fn plain_key(key: &str) -> AppResult<&str> {
    let plain = !key.is_empty()
        && key.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        });
    if plain {
        Ok(key)
    } else {
        Err(AppError::NotFound("File"))
    }
}
