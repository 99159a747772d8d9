//! The application state shared by every request: one `Arc`, cheap to clone.

use std::{ops::Deref, path::Path, sync::Arc, time::Duration};

use sea_orm::{DatabaseConnection, DatabaseTransaction, DbErr};

use crate::{
    auth::{PasswordHasher, TokenKeys, TrustedProxies, new_refresh_secret},
    config::Config,
    db,
    domain::{
        list_totals::ListTotals,
        taxonomy::{CategoryCache, TagCache},
    },
    error::{AppError, AppResult},
    jobs::JobSignals,
    limits::{RateLimiters, SharedCounters},
    mail::MailService,
    media::MediaService,
    metrics::{Metrics, SharedMetrics},
    realtime::{BusCounters, EventBus, Presence, presence},
};
use tokio_util::sync::CancellationToken;

/// Handle to the application; derefs to [`App`].
#[derive(Clone)]
pub struct AppState(Arc<App>);

/// Everything a request may need.
pub struct App {
    pub config: Config,
    /// Reads. Never write through it: SQLite has one writer (see [`db`]).
    pub db: DatabaseConnection,
    /// Writes: single statements directly, transactions through [`App::begin_write`].
    pub writer: DatabaseConnection,
    /// The job queue's bookkeeping (see [`db::Databases::queue`]).
    pub queue_db: DatabaseConnection,
    pub tokens: TokenKeys,
    pub passwords: PasswordHasher,
    pub limits: RateLimiters,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: TrustedProxies,
    pub events: EventBus,
    pub presence: Presence,
    /// Briefly remembered totals of the public post list.
    pub list_totals: ListTotals,
    /// Briefly remembered categories.
    pub categories: CategoryCache,
    /// Remembered tags.
    pub tags: TagCache,
    /// What `/metrics` reports.
    pub metrics: SharedMetrics,
    /// Wakes this process's idle job workers.
    pub job_signals: JobSignals,
    /// Mail transports, link signing and the addresses mail links point at.
    pub mail: MailService,
    /// Upload storage and upload-URL signing.
    pub media: MediaService,
    /// Cancelled when the server shuts down; live connections close on it.
    pub shutdown: CancellationToken,
}

impl Deref for AppState {
    type Target = App;
    fn deref(&self) -> &App {
        &self.0
    }
}

impl App {
    /// Begins a write transaction (on SQLite holding the write lock from the start).
    pub async fn begin_write(&self) -> Result<DatabaseTransaction, DbErr> {
        db::begin_write(&self.writer).await
    }

    /// Applies pending database migrations (`serve`, `worker` and `migrate` do, first).
    pub async fn migrate(&self) -> AppResult<()> {
        let databases = db::Databases {
            reader: self.db.clone(),
            writer: self.writer.clone(),
            queue: self.queue_db.clone(),
        };
        db::migrate(&databases)
            .await
            .map_err(|err| AppError::Internal(format!("cannot migrate the database: {err}")))
    }
}

impl AppState {
    /// Connects to the configured database and prepares the keys (migrating is
    /// [`App::migrate`]'s job).
    pub async fn new(config: Config) -> AppResult<Self> {
        std::fs::create_dir_all(&config.server.data_dir).map_err(|err| {
            AppError::Internal(format!(
                "cannot create the data directory {}: {err}",
                config.server.data_dir.display()
            ))
        })?;
        let url = config.database_url();
        let db = db::connect(&url, config.database.database_max_connections)
            .await
            .map_err(|err| {
                AppError::Internal(format!(
                    "cannot open the database at {}: {err}",
                    crate::config::mask_password(&url)
                ))
            })?;
        Self::with_database(config, db).await
    }

    /// State over an already connected and migrated database; connects to Redis when
    /// configured and starts the presence bookkeeping.
    pub async fn with_database(config: Config, databases: db::Databases) -> AppResult<Self> {
        let db::Databases {
            reader,
            writer,
            queue,
        } = databases;
        let secret = match &config.auth.jwt_secret {
            Some(secret) => secret.expose().to_owned(),
            None => load_or_create_secret(&config.server.data_dir)?,
        };
        let tokens = TokenKeys::new(
            secret.as_bytes(),
            &config.auth.jwt_issuer,
            &config.auth.jwt_audience,
            config.auth.access_token_ttl_secs,
        );
        let mail = MailService::new(&config, secret.as_bytes())?;
        let media = MediaService::new(&config, secret.as_bytes())?;
        let passwords =
            PasswordHasher::new(config.auth.argon2_memory_kib, config.auth.argon2_iterations)?;
        let redis_error = |url: &str, err: redis::RedisError| {
            AppError::Internal(format!(
                "cannot reach Redis at {}: {err}",
                crate::config::mask_password(url)
            ))
        };
        let shared_counters = match &config.realtime.redis_url {
            Some(url) => Some(SharedCounters::new(
                redis::Client::open(url.as_str()).map_err(|err| redis_error(url, err))?,
                &config.realtime.redis_channel,
            )),
            None => None,
        };
        let metrics = Arc::new(Metrics::default());
        let limits = RateLimiters::new(&config, shared_counters, &metrics);
        let trusted_proxies = TrustedProxies::new(config.server.trusted_proxies.clone());
        let bus_counters = BusCounters {
            published: metrics.bus_events_published.clone(),
            received: metrics.bus_events_received.clone(),
        };
        let events = match &config.realtime.redis_url {
            Some(url) => EventBus::redis(url, &config.realtime.redis_channel, bus_counters)
                .await
                .map_err(|err| redis_error(url, err))?,
            None => EventBus::local(bus_counters),
        };
        let presence = Presence::new(crate::domain::new_id(), events.clone());
        tokio::spawn(presence::run(presence.clone(), events.clone()));
        let list_totals = ListTotals::new(Duration::from_millis(config.api.list_total_cache_ms));
        let categories = CategoryCache::new(Duration::from_millis(config.api.category_cache_ms));
        let tags = TagCache::new(config.api.tag_cache_size);
        Ok(Self(Arc::new(App {
            config,
            db: reader,
            writer,
            queue_db: queue,
            tokens,
            passwords,
            limits,
            trusted_proxies,
            events,
            presence,
            list_totals,
            categories,
            tags,
            metrics,
            job_signals: JobSignals::default(),
            mail,
            media,
            shutdown: CancellationToken::new(),
        })))
    }
}

/// Reads `<data_dir>/jwt-secret`, creating it (owner-only) with a random value first.
fn load_or_create_secret(data_dir: &Path) -> AppResult<String> {
    let path = data_dir.join("jwt-secret");
    let io_error = |err: std::io::Error| AppError::Internal(format!("{}: {err}", path.display()));
    if let Ok(secret) = std::fs::read_to_string(&path) {
        let secret = secret.trim().to_owned();
        if secret.len() >= 32 {
            return Ok(secret);
        }
    }
    std::fs::create_dir_all(data_dir).map_err(io_error)?;
    let secret = format!("{}{}", new_refresh_secret(), new_refresh_secret());
    write_private(&path, &secret).map_err(io_error)?;
    tracing::info!(path = %path.display(), "generated a new JWT secret");
    Ok(secret)
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::{io::Write, os::unix::fs::OpenOptionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}
