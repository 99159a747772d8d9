//! Automatic persisted queries, as Apollo's clients speak them: a client sends the
//! SHA-256 of its document in `extensions.persistedQuery` instead of the document.
//! An unknown hash answers `PersistedQueryNotFound`; the client then sends the hash
//! with the document, which is checked against the hash and remembered; afterwards
//! the hash alone is enough, over POST or GET.
//!
//! Documents are remembered in this process (the most recently used
//! `GRAPHQL_PERSISTED_QUERIES`); an instance that does not know a hash makes the
//! client send the document once more, as the protocol expects.

use std::{
    num::NonZeroUsize,
    sync::{Arc, Mutex, PoisonError},
};

use async_graphql::{Request, ServerError, Value};
use lru::LruCache;
use sha2::{Digest, Sha256};

/// Longest document remembered: a persisted query saves sending it, and the memory
/// is bounded by count × this.
const MAX_PERSISTED_DOCUMENT_BYTES: usize = 64 * 1024;

/// Documents by the hex SHA-256 of their text (`None`: persisted queries are off).
#[derive(Clone)]
pub struct PersistedQueries(Option<Arc<DocumentsByHash>>);

/// Documents by hash, least recently used forgotten first.
type DocumentsByHash = Mutex<LruCache<String, Arc<str>>>;

impl PersistedQueries {
    /// Remembers up to `capacity` documents; zero turns persisted queries off.
    pub fn new(capacity: usize) -> Self {
        Self(
            NonZeroUsize::new(capacity)
                .map(|capacity| Arc::new(Mutex::new(LruCache::new(capacity)))),
        )
    }

    /// Fills in the document of a request that names one by hash, or remembers the
    /// document a request sends with its hash. Requests without a hash pass as they are.
    pub fn resolve(&self, request: &mut Request) -> Result<(), ServerError> {
        let Some(persisted) = request.extensions.0.get("persistedQuery") else {
            return Ok(());
        };
        let Some(documents) = &self.0 else {
            return Err(error(
                "PersistedQueryNotSupported",
                "PERSISTED_QUERY_NOT_SUPPORTED",
            ));
        };
        let (version, hash) = match persisted {
            Value::Object(fields) => (fields.get("version"), fields.get("sha256Hash")),
            _ => (None, None),
        };
        let (Some(Value::Number(version)), Some(Value::String(hash))) = (version, hash) else {
            return Err(error(
                "persistedQuery needs a version and a sha256Hash",
                "BAD_REQUEST",
            ));
        };
        if version.as_u64() != Some(1) {
            return Err(error("Unsupported persisted query version", "BAD_REQUEST"));
        }
        let hash = hash.to_ascii_lowercase();
        let mut documents = documents.lock().unwrap_or_else(PoisonError::into_inner);
        if request.query.is_empty() {
            let document = documents
                .get(&hash)
                .ok_or_else(|| error("PersistedQueryNotFound", "PERSISTED_QUERY_NOT_FOUND"))?;
            request.query = document.to_string();
            return Ok(());
        }
        if hex::encode(Sha256::digest(request.query.as_bytes())) != hash {
            return Err(error("provided sha does not match query", "BAD_REQUEST"));
        }
        if request.query.len() <= MAX_PERSISTED_DOCUMENT_BYTES && !documents.contains(&hash) {
            documents.put(hash, request.query.as_str().into());
        }
        Ok(())
    }
}

fn error(message: &str, code: &str) -> ServerError {
    let mut error = ServerError::new(message, None);
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("code", code);
    error
}
