//! The tests' own view of where uploads are stored: the local media folder, or — when
//! `TEST_S3_URL` is set (`http://KEY:SECRET@HOST:PORT/BUCKET`, SeaweedFS in CI) — the
//! S3 bucket, read with a client of the tests' own. Each application gets a folder of
//! its own in the bucket, so tests running at once do not see each other's files.

use object_store::{
    ObjectStoreExt, PutPayload,
    aws::{AmazonS3, AmazonS3Builder},
    path::Path,
};
use sparkle_universe::Config;

/// The S3 server of the tests: endpoint, bucket, access key and secret.
struct TestBucket {
    endpoint: String,
    bucket: String,
    access_key: String,
    secret: String,
}

fn test_bucket() -> Option<TestBucket> {
    let url = std::env::var("TEST_S3_URL")
        .ok()
        .filter(|url| !url.is_empty())?;
    let url = reqwest::Url::parse(&url).expect("TEST_S3_URL is a URL");
    let endpoint = format!(
        "{}://{}:{}",
        url.scheme(),
        url.host_str().expect("TEST_S3_URL has a host"),
        url.port_or_known_default().expect("TEST_S3_URL has a port")
    );
    Some(TestBucket {
        endpoint,
        bucket: url.path().trim_matches('/').to_owned(),
        access_key: url.username().to_owned(),
        secret: url.password().expect("TEST_S3_URL has a secret").to_owned(),
    })
}

/// Whether uploads go to the test S3 server.
pub fn uses_s3() -> bool {
    test_bucket().is_some()
}

/// Points `config`'s uploads at a folder of its own in the test bucket, when there
/// is one (else they stay in the data directory).
pub fn store_uploads_in_test_bucket(config: &mut Config) {
    let Some(bucket) = test_bucket() else {
        return;
    };
    let media = &mut config.media;
    media.s3_bucket = Some(bucket.bucket);
    media.s3_endpoint = Some(bucket.endpoint);
    media.s3_access_key_id = Some(bucket.access_key);
    media.s3_secret_access_key = Some(bucket.secret.parse().expect("secret"));
    media.s3_prefix = Some(format!("test-{}", uuid::Uuid::new_v4().simple()));
}

/// What an application has stored, read behind its back.
pub enum TestStorage {
    Local(std::path::PathBuf),
    S3 { store: AmazonS3, prefix: String },
}

impl TestStorage {
    /// The storage of an application with `config`.
    pub fn of(config: &Config) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        match (&config.media.s3_prefix, test_bucket()) {
            (Some(prefix), Some(bucket)) => Self::S3 {
                store: AmazonS3Builder::new()
                    .with_endpoint(&bucket.endpoint)
                    .with_allow_http(true)
                    .with_region("us-east-1")
                    .with_bucket_name(&bucket.bucket)
                    .with_access_key_id(&bucket.access_key)
                    .with_secret_access_key(&bucket.secret)
                    .build()
                    .expect("a client of the test bucket"),
                prefix: prefix.clone(),
            },
            _ => Self::Local(config.server.data_dir.join("media")),
        }
    }

    fn path(prefix: &str, key: &str) -> Path {
        Path::from(format!("{prefix}/{key}"))
    }

    /// The bytes stored as `key`, if any.
    pub async fn read(&self, key: &str) -> Option<Vec<u8>> {
        match self {
            Self::Local(root) => std::fs::read(root.join(key)).ok(),
            Self::S3 { store, prefix } => match store.get(&Self::path(prefix, key)).await {
                Ok(found) => Some(found.bytes().await.expect("object bytes").to_vec()),
                Err(object_store::Error::NotFound { .. }) => None,
                Err(err) => panic!("reading {key}: {err}"),
            },
        }
    }

    /// Stores `bytes` as `key`, as a client going around the upload URL could.
    pub async fn write(&self, key: &str, bytes: Vec<u8>) {
        match self {
            Self::Local(root) => {
                let path = root.join(key);
                std::fs::create_dir_all(path.parent().expect("folder")).expect("folder");
                std::fs::write(path, bytes).expect("write");
            }
            Self::S3 { store, prefix } => {
                store
                    .put(&Self::path(prefix, key), PutPayload::from(bytes))
                    .await
                    .expect("put");
            }
        }
    }

    /// The keys stored under `folder` (a key prefix ending in `/`), sorted.
    pub async fn keys(&self, folder: &str) -> Vec<String> {
        let mut keys: Vec<String> = match self {
            Self::Local(root) => walk(&root.join(folder))
                .into_iter()
                .map(|path| {
                    path.strip_prefix(root)
                        .expect("under the root")
                        .to_string_lossy()
                        .into_owned()
                })
                .collect(),
            Self::S3 { store, prefix } => {
                use futures_util::TryStreamExt;
                let listed: Vec<_> = object_store::ObjectStore::list(
                    store,
                    Some(&Self::path(prefix, folder.trim_end_matches('/'))),
                )
                .try_collect()
                .await
                .expect("list");
                listed
                    .into_iter()
                    .map(|meta| {
                        meta.location
                            .as_ref()
                            .trim_start_matches(&format!("{prefix}/"))
                            .to_owned()
                    })
                    .collect()
            }
        };
        keys.sort();
        keys
    }
}

/// Every file under `folder`.
fn walk(folder: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(folder).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(walk(&path));
        } else {
            files.push(path);
        }
    }
    files
}
