//! The local storage: a directory under the data directory (the embedded default).
//! The server itself takes the bytes put to an upload URL ([`LocalStorage::write_exactly`]).

use std::{
    io::SeekFrom,
    ops::Range,
    path::{Path, PathBuf},
};

use axum::body::Body;
use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

use super::plain_key;
use crate::error::{AppError, AppResult};

/// The local storage directory.
pub struct LocalStorage {
    root: PathBuf,
}

impl LocalStorage {
    /// Storage under `<data_dir>/media`.
    pub fn new(data_dir: &Path) -> AppResult<Self> {
        let root = data_dir.join("media");
        std::fs::create_dir_all(&root).map_err(|err| {
            AppError::Internal(format!(
                "cannot create the media folder {}: {err}",
                root.display()
            ))
        })?;
        Ok(Self { root })
    }

    /// The file of `key`.
    fn path(&self, key: &str) -> AppResult<PathBuf> {
        Ok(self.root.join(plain_key(key)?))
    }

    /// Stores `body` as `key`: exactly `size` bytes, or nothing (a longer body is
    /// refused as soon as it passes `size`, a shorter one at its end).
    pub async fn write_exactly(&self, key: &str, body: Body, size: u64) -> AppResult<()> {
        let path = self.path(key)?;
        let io = |err: std::io::Error| AppError::Internal(format!("storing {key}: {err}"));
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        let partial = path.with_extension("partial");
        let mut file = tokio::fs::File::create(&partial).await.map_err(io)?;
        let mut stream = body.into_data_stream();
        let mut written: u64 = 0;
        let outcome = async {
            while let Some(chunk) = stream.next().await {
                let chunk = chunk
                    .map_err(|err| AppError::BadRequest(format!("upload interrupted: {err}")))?;
                written += chunk.len() as u64;
                if written > size {
                    return Err(AppError::PayloadTooLarge);
                }
                file.write_all(&chunk).await.map_err(io)?;
            }
            if written != size {
                return Err(AppError::field(
                    "body",
                    format!("has {written} bytes; the upload URL was signed for {size}"),
                ));
            }
            file.flush().await.map_err(io)?;
            Ok(())
        }
        .await;
        drop(file);
        match outcome {
            Ok(()) => tokio::fs::rename(&partial, &path).await.map_err(io),
            Err(err) => {
                let _ = tokio::fs::remove_file(&partial).await;
                Err(err)
            }
        }
    }

    /// The size of `key`, or `None` when nothing is stored there.
    pub async fn size(&self, key: &str) -> AppResult<Option<u64>> {
        match tokio::fs::metadata(self.path(key)?).await {
            Ok(metadata) => Ok(Some(metadata.len())),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(AppError::Internal(format!("reading {key}: {err}"))),
        }
    }

    /// Up to `count` first bytes of `key`.
    pub async fn first_bytes(&self, key: &str, count: usize) -> AppResult<Vec<u8>> {
        let io = |err: std::io::Error| AppError::Internal(format!("reading {key}: {err}"));
        let file = tokio::fs::File::open(self.path(key)?).await.map_err(io)?;
        let mut bytes = Vec::with_capacity(count);
        file.take(count as u64)
            .read_to_end(&mut bytes)
            .await
            .map_err(io)?;
        Ok(bytes)
    }

    /// The whole of `key`.
    pub async fn read_all(&self, key: &str) -> AppResult<Vec<u8>> {
        tokio::fs::read(self.path(key)?)
            .await
            .map_err(|err| AppError::Internal(format!("reading {key}: {err}")))
    }

    /// Stores `bytes` as `key`.
    pub async fn put(&self, key: &str, bytes: &[u8]) -> AppResult<()> {
        let path = self.path(key)?;
        let io = |err: std::io::Error| AppError::Internal(format!("storing {key}: {err}"));
        if let Some(parent) = path.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        tokio::fs::write(path, bytes).await.map_err(io)
    }

    /// Moves `from` to `to`.
    pub async fn rename(&self, from: &str, to: &str) -> AppResult<()> {
        let target = self.path(to)?;
        let io = |err: std::io::Error| AppError::Internal(format!("moving {from}: {err}"));
        if let Some(parent) = target.parent() {
            tokio::fs::create_dir_all(parent).await.map_err(io)?;
        }
        tokio::fs::rename(self.path(from)?, target)
            .await
            .map_err(io)
    }

    /// Bytes `range` of `key`, as a response body.
    pub async fn body(&self, key: &str, range: Range<u64>) -> AppResult<Body> {
        let mut file = tokio::fs::File::open(self.path(key)?)
            .await
            .map_err(|_| AppError::NotFound("File"))?;
        file.seek(SeekFrom::Start(range.start))
            .await
            .map_err(|err| AppError::Internal(format!("reading {key}: {err}")))?;
        let part = file.take(range.end.saturating_sub(range.start));
        Ok(Body::from_stream(tokio_util::io::ReaderStream::new(part)))
    }

    /// Whether the directory is there.
    pub fn reachable(&self) -> bool {
        self.root.is_dir()
    }

    /// The keys in `folder` (which ends in `/`) last written before `before`.
    pub async fn written_before(
        &self,
        folder: &str,
        before: DateTime<Utc>,
    ) -> AppResult<Vec<String>> {
        let io = |err: std::io::Error| AppError::Internal(format!("listing {folder}: {err}"));
        let mut entries = match tokio::fs::read_dir(self.path(folder.trim_end_matches('/'))?).await
        {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => return Err(io(err)),
        };
        let mut keys = Vec::new();
        while let Some(entry) = entries.next_entry().await.map_err(io)? {
            let metadata = entry.metadata().await.map_err(io)?;
            let written = metadata.modified().map(DateTime::<Utc>::from).map_err(io)?;
            if metadata.is_file() && written < before {
                keys.push(format!("{folder}{}", entry.file_name().to_string_lossy()));
            }
        }
        Ok(keys)
    }

    /// Removes `key` (nothing happens when it is not there).
    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match tokio::fs::remove_file(self.path(key)?).await {
            Err(err) if err.kind() != std::io::ErrorKind::NotFound => {
                Err(AppError::Internal(format!("removing {key}: {err}")))
            }
            _ => Ok(()),
        }
    }
}
