//! The S3 storage: any S3-compatible bucket, through `object_store`. Clients upload
//! straight to the bucket with presigned `PUT` URLs ([`presign`](super::presign)) that
//! sign the content type and length, so the bucket itself refuses any other type or
//! size; the URLs are signed for the public endpoint, since the host is part of the
//! signature.

use std::{
    ops::Range,
    time::{Duration, Instant},
};

use axum::body::Body;
use chrono::{DateTime, Utc};
use futures_util::TryStreamExt;
use object_store::{
    Attribute, Attributes, BackoffConfig, ClientOptions, GetOptions, GetRange, ObjectStore,
    ObjectStoreExt, PutOptions, PutPayload, RetryConfig,
    aws::{AmazonS3, AmazonS3Builder},
    path::Path,
};
use reqwest::Url;

use super::{
    plain_key,
    presign::{Presigner, Unsigned},
};
use crate::{
    error::{AppError, AppResult},
    media::{CACHE_FOR_GOOD, MediaConfig},
};

/// How long one request to the bucket may take.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// How long a request to the bucket is retried before its error is reported.
const RETRY_FOR: Duration = Duration::from_secs(10);

/// How long the probe of `/ready` waits for the bucket, and how long its answer is
/// remembered.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
const PROBE_KEPT: Duration = Duration::from_secs(10);

/// A bucket, and how clients reach it (for signing upload URLs).
pub struct S3Storage {
    store: AmazonS3,
    presigner: Presigner,
    /// The bucket's address as clients reach it, ending in `/`.
    public_bucket_url: Url,
    /// The folder of this server's files in the bucket (empty, or ending in `/`).
    prefix: String,
    /// When the bucket was last probed, and whether it answered.
    last_probe: tokio::sync::Mutex<Option<(Instant, bool)>>,
}

impl S3Storage {
    /// The bucket `bucket` of `config`.
    pub fn new(config: &MediaConfig, bucket: &str) -> AppResult<Self> {
        // object_store's HTTP client uses rustls and needs a crypto provider; a second
        // install (tests build many servers) is refused harmlessly.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let settings = |message: String| AppError::Internal(format!("S3 settings: {message}"));
        let (Some(access_key_id), Some(secret)) =
            (&config.s3_access_key_id, &config.s3_secret_access_key)
        else {
            return Err(settings(
                "S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY are needed to sign upload URLs".into(),
            ));
        };
        let prefix = match config.s3_prefix.as_deref().map(|p| p.trim_matches('/')) {
            None | Some("") => String::new(),
            Some(prefix) => {
                let prefix = plain_key(prefix).map_err(|_| {
                    settings(format!(
                        "S3_PREFIX {prefix:?} must be folders of letters, digits, -, _ and ."
                    ))
                })?;
                format!("{prefix}/")
            }
        };
        let public_endpoint = config
            .s3_public_endpoint
            .as_deref()
            .or(config.s3_endpoint.as_deref());
        let public_bucket_url = match public_endpoint {
            // An endpoint of its own: path-style, as object_store addresses it too.
            Some(endpoint) => format!("{}/{bucket}/", endpoint.trim_end_matches('/')),
            None => format!("https://{bucket}.s3.{}.amazonaws.com/", config.s3_region),
        };
        let public_bucket_url = Url::parse(&public_bucket_url)
            .map_err(|err| settings(format!("the endpoint {public_bucket_url}: {err}")))?;
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(bucket)
            .with_region(&config.s3_region)
            .with_access_key_id(access_key_id)
            .with_secret_access_key(secret.expose())
            .with_client_options(ClientOptions::new().with_timeout(REQUEST_TIMEOUT))
            .with_retry(RetryConfig {
                backoff: BackoffConfig::default(),
                max_retries: 3,
                retry_timeout: RETRY_FOR,
            });
        if let Some(endpoint) = &config.s3_endpoint {
            builder = builder
                .with_endpoint(endpoint.trim_end_matches('/'))
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder
            .build()
            .map_err(|err| settings(format!("bucket {bucket}: {err}")))?;
        Ok(Self {
            store,
            presigner: Presigner {
                access_key_id: access_key_id.clone(),
                secret_access_key: secret.expose().to_owned(),
                region: config.s3_region.clone(),
            },
            public_bucket_url,
            prefix,
            last_probe: tokio::sync::Mutex::new(None),
        })
    }

    /// The object of `key`.
    fn path(&self, key: &str) -> AppResult<Path> {
        Ok(Path::from(format!("{}{}", self.prefix, plain_key(key)?)))
    }

    /// A URL that lets its holder `PUT` exactly `size` bytes of `content_type` as
    /// `key` for `ttl`.
    pub fn presigned_put(
        &self,
        key: &str,
        content_type: &str,
        size: u64,
        ttl: Duration,
    ) -> AppResult<String> {
        let object = format!("{}{}", self.prefix, plain_key(key)?);
        let url = self
            .public_bucket_url
            .join(&object)
            .map_err(|err| AppError::Internal(format!("S3 URL of {key}: {err}")))?;
        let signed = self.presigner.presign(Unsigned {
            method: "PUT",
            url,
            headers: &[
                ("content-length", size.to_string()),
                ("content-type", content_type.to_owned()),
            ],
            expires_in: ttl,
            at: Utc::now(),
        });
        Ok(signed.to_string())
    }

    /// The size of `key`, or `None` when nothing is stored there.
    pub async fn size(&self, key: &str) -> AppResult<Option<u64>> {
        match self.store.head(&self.path(key)?).await {
            Ok(meta) => Ok(Some(meta.size)),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(err) => Err(failed("reading", key, err)),
        }
    }

    /// The first `count` bytes of `key` (`count` at most its size).
    pub async fn first_bytes(&self, key: &str, count: usize) -> AppResult<Vec<u8>> {
        let bytes = self
            .store
            .get_range(&self.path(key)?, 0..count as u64)
            .await
            .map_err(|err| failed("reading", key, err))?;
        Ok(bytes.to_vec())
    }

    /// The whole of `key`.
    pub async fn read_all(&self, key: &str) -> AppResult<Vec<u8>> {
        let path = self.path(key)?;
        let read = async { self.store.get(&path).await?.bytes().await };
        let bytes = read.await.map_err(|err| failed("reading", key, err))?;
        Ok(bytes.to_vec())
    }

    /// Stores `bytes` as `key`, typed `content_type` and cacheable for good.
    pub async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> AppResult<()> {
        let options = PutOptions {
            attributes: Attributes::from_iter([
                (Attribute::ContentType, content_type.to_owned()),
                (Attribute::CacheControl, CACHE_FOR_GOOD.to_owned()),
            ]),
            ..PutOptions::default()
        };
        self.store
            .put_opts(&self.path(key)?, PutPayload::from(bytes), options)
            .await
            .map_err(|err| failed("storing", key, err))?;
        Ok(())
    }

    /// Moves `from` to `to` (a copy, then a delete).
    pub async fn rename(&self, from: &str, to: &str) -> AppResult<()> {
        self.store
            .rename(&self.path(from)?, &self.path(to)?)
            .await
            .map_err(|err| failed("moving", from, err))
    }

    /// Bytes `range` of `key`, streamed as a response body.
    pub async fn body(&self, key: &str, range: Range<u64>) -> AppResult<Body> {
        if range.is_empty() {
            return Ok(Body::empty());
        }
        let options = GetOptions {
            range: Some(GetRange::Bounded(range)),
            ..GetOptions::default()
        };
        match self.store.get_opts(&self.path(key)?, options).await {
            Ok(found) => Ok(Body::from_stream(
                found
                    .into_stream()
                    .map_err(|err| std::io::Error::other(err.to_string())),
            )),
            Err(object_store::Error::NotFound { .. }) => Err(AppError::NotFound("File")),
            Err(err) => Err(failed("reading", key, err)),
        }
    }

    /// Whether the bucket answers (remembered for a few seconds; callers arriving
    /// during a probe wait for its answer instead of probing again).
    pub async fn reachable(&self) -> bool {
        let mut last = self.last_probe.lock().await;
        if let Some((at, reachable)) = *last
            && at.elapsed() < PROBE_KEPT
        {
            return reachable;
        }
        let probe_path = Path::from(format!("{}.probe", self.prefix));
        let probe = self.store.head(&probe_path);
        let reachable = matches!(
            tokio::time::timeout(PROBE_TIMEOUT, probe).await,
            Ok(Ok(_) | Err(object_store::Error::NotFound { .. }))
        );
        *last = Some((Instant::now(), reachable));
        reachable
    }

    /// The keys in `folder` (which ends in `/`) last written before `before`.
    pub async fn written_before(
        &self,
        folder: &str,
        before: DateTime<Utc>,
    ) -> AppResult<Vec<String>> {
        let listed: Vec<_> = self
            .store
            .list(Some(&self.path(folder.trim_end_matches('/'))?))
            .try_collect()
            .await
            .map_err(|err| failed("listing", folder, err))?;
        Ok(listed
            .into_iter()
            .filter(|object| object.last_modified < before)
            .filter_map(|object| {
                object
                    .location
                    .as_ref()
                    .strip_prefix(&self.prefix)
                    .map(str::to_owned)
            })
            .collect())
    }

    /// Removes `key` (nothing happens when it is not there).
    pub async fn delete(&self, key: &str) -> AppResult<()> {
        match self.store.delete(&self.path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(err) => Err(failed("removing", key, err)),
        }
    }
}

/// The error of `doing` `key` in the bucket.
fn failed(doing: &str, key: &str, err: object_store::Error) -> AppError {
    AppError::Internal(format!("S3: {doing} {key}: {err}"))
}
