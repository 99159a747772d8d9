//! The upload knobs: sizes per kind, the quota and how long an upload URL works.

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
}

impl MediaConfig {
    /// How long an upload URL works (at most a year).
    pub fn url_ttl(&self) -> chrono::TimeDelta {
        crate::config::seconds_up_to_a_year(self.upload_url_ttl_secs)
    }
}
