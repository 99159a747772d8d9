//! The upload knobs: sizes per kind, the quota, how long an upload URL works, and
//! where files are stored (a folder under the data directory, or an S3 bucket).

use crate::config::Secret;

/// Uploads (README: "Uploads").
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Uploads")]
pub struct MediaConfig {
    /// Largest image (jpeg, png, webp, gif), in bytes.
    #[arg(long, global = true, env = "UPLOAD_MAX_IMAGE_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub upload_max_image_bytes: u64,
    /// Largest video (mp4, webm), in bytes.
    #[arg(long, global = true, env = "UPLOAD_MAX_VIDEO_BYTES", default_value_t = 100 * 1024 * 1024)]
    pub upload_max_video_bytes: u64,
    /// Largest document (pdf), in bytes.
    #[arg(long, global = true, env = "UPLOAD_MAX_DOCUMENT_BYTES", default_value_t = 10 * 1024 * 1024)]
    pub upload_max_document_bytes: u64,
    /// Bytes of completed uploads one user may hold.
    #[arg(long, global = true, env = "UPLOAD_QUOTA_BYTES", default_value_t = 1024 * 1024 * 1024)]
    pub upload_quota_bytes: u64,
    /// Seconds an upload URL works.
    #[arg(
        long,
        global = true,
        env = "UPLOAD_URL_TTL_SECS",
        default_value_t = 900
    )]
    pub upload_url_ttl_secs: u64,
    /// S3-compatible bucket for uploads; unset, they are kept under DATA_DIR/media.
    #[arg(long, global = true, env = "S3_BUCKET")]
    pub s3_bucket: Option<String>,
    /// The bucket's endpoint, as this server reaches it (unset: AWS in S3_REGION).
    #[arg(long, global = true, env = "S3_ENDPOINT")]
    pub s3_endpoint: Option<String>,
    /// The endpoint clients upload to, when it differs from S3_ENDPOINT: upload URLs
    /// are signed for it.
    #[arg(long, global = true, env = "S3_PUBLIC_ENDPOINT")]
    pub s3_public_endpoint: Option<String>,
    /// The bucket's region.
    #[arg(long, global = true, env = "S3_REGION", default_value = "us-east-1")]
    pub s3_region: String,
    /// Access key id (unset: the instance's own credentials).
    #[arg(long, global = true, env = "S3_ACCESS_KEY_ID")]
    pub s3_access_key_id: Option<String>,
    /// Secret access key.
    #[arg(
        long,
        global = true,
        env = "S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub s3_secret_access_key: Option<Secret>,
    /// A folder inside the bucket for this server's files, to share a bucket.
    #[arg(long, global = true, env = "S3_PREFIX")]
    pub s3_prefix: Option<String>,
    /// Public address stored files are served from (a CDN in front of the bucket or
    /// of `/media`); unset, this server serves them at `/media/…`.
    #[arg(long, global = true, env = "CDN_URL")]
    pub cdn_url: Option<String>,
}

impl MediaConfig {
    /// How long an upload URL works (at most a year).
    pub fn url_ttl(&self) -> chrono::TimeDelta {
        crate::config::seconds_up_to_a_year(self.upload_url_ttl_secs)
    }
}
