//! Uploads: a client asks for an upload URL, puts the file there, and completes the
//! upload; the server checks the stored file (its size, and its real type from its
//! first bytes) and processes it in a job of the `media` queue.
//!
//! - [`kinds`]: the allowed types and sizes;
//! - [`processing`]: image variants, orientation, metadata removal and blurhash;
//! - [`storage`]: where files live (a directory under the data directory);
//! - [`uploads`]: the flow, from the upload URL to the processed file;
//! - [`bench`]: `sparkle bench-media`, processing time and memory of a 12 MP JPEG.

pub mod bench;
pub mod config;
pub mod kinds;
pub mod processing;
pub mod storage;
pub mod uploads;

pub use config::MediaConfig;

use crate::{config::Config, error::AppResult, signing::LinkSigner};
use storage::Storage;

/// What uploads need: the storage, the upload-URL signer and the public address.
pub struct MediaService {
    pub storage: Storage,
    pub signer: LinkSigner,
    public_url: String,
}

impl MediaService {
    /// The media service of `config`; upload URLs are signed with a key derived from
    /// `secret`.
    pub fn new(config: &Config, secret: &[u8]) -> AppResult<Self> {
        Ok(Self {
            storage: Storage::local(&config.server.data_dir)?,
            signer: LinkSigner::new(secret, "uploads"),
            public_url: config.public_url(),
        })
    }

    /// An address of this API (`path` starts with `/`).
    pub fn api_link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}
