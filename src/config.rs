//! One typed configuration, read from the environment (and `.env`), grouped by
//! concern: one struct per group, each its own heading in `--help`. Every knob is
//! documented in README.md; tests build a `Config` directly and relax the limits.

use std::{fmt, net::IpAddr, path::PathBuf, str::FromStr, time::Duration};

/// Server configuration. Field docs double as `--help` text.
#[derive(Clone, Debug, clap::Args)]
pub struct Config {
    #[command(flatten)]
    pub server: ServerConfig,
    #[command(flatten)]
    pub database: DatabaseConfig,
    #[command(flatten)]
    pub auth: AuthConfig,
    #[command(flatten)]
    pub limits: RateLimitConfig,
    #[command(flatten)]
    pub api: ApiConfig,
    #[command(flatten)]
    pub realtime: RealtimeConfig,
    #[command(flatten)]
    pub observability: ObservabilityConfig,
    /// Development mode: GraphQL "did you mean" suggestions on, the auth rate limit
    /// relaxed to 100 a minute and a login lockout of one minute.
    #[arg(long, global = true, env = "DEV_MODE", default_value_t = false)]
    pub dev_mode: bool,
    #[command(flatten)]
    pub jobs: crate::jobs::JobsConfig,
    #[command(flatten)]
    pub mail: crate::mail::MailConfig,
    #[command(flatten)]
    pub media: crate::media::MediaConfig,
}

/// Listening, connections and request bodies.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Server")]
pub struct ServerConfig {
    /// Address to listen on (an IP address, or `localhost`).
    #[arg(long, global = true, env = "HOST", default_value = "127.0.0.1", value_parser = parse_host)]
    pub host: IpAddr,
    /// Port to listen on.
    #[arg(long, global = true, env = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Folder for the SQLite database, the generated JWT secret and other local state.
    #[arg(long, global = true, env = "DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// Largest accepted request body, in bytes (REST and GraphQL).
    #[arg(long, global = true, env = "BODY_LIMIT_BYTES", default_value_t = 1024 * 1024)]
    pub body_limit_bytes: usize,
    /// Seconds a client has to send a request's headers, counted from when the
    /// connection opens or the previous response ends (so also the idle keep-alive time).
    #[arg(
        long,
        global = true,
        env = "HEADER_READ_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub header_read_timeout_secs: u64,
    /// Seconds a request body may go without sending a byte before the request fails.
    #[arg(
        long,
        global = true,
        env = "BODY_READ_TIMEOUT_SECS",
        default_value_t = 15
    )]
    pub body_read_timeout_secs: u64,
    /// Most connections open at once from one client address (trusted proxies exempt).
    #[arg(
        long,
        global = true,
        env = "MAX_CONNECTIONS_PER_IP",
        default_value_t = 256
    )]
    pub max_connections_per_ip: usize,
    /// Proxies (comma-separated CIDRs) whose `X-Forwarded-For` names the client.
    #[arg(long, global = true, env = "TRUSTED_PROXIES", value_delimiter = ',', num_args = 0..)]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Browser origins (comma-separated, exact) allowed to call the APIs across sites.
    #[arg(long, global = true, env = "CORS_ALLOWED_ORIGINS", value_delimiter = ',', num_args = 0..)]
    pub cors_allowed_origins: Vec<String>,
}

/// The database.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Database")]
pub struct DatabaseConfig {
    /// Database URL (`sqlite://…` or `postgres://…`); defaults to `sqlite://<DATA_DIR>/sparkle.db`.
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Most connections kept in the database pool.
    #[arg(
        long,
        global = true,
        env = "DATABASE_MAX_CONNECTIONS",
        default_value_t = 16
    )]
    pub database_max_connections: u32,
}

/// Tokens, password hashing and login lockouts.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Accounts and tokens")]
pub struct AuthConfig {
    /// HMAC secret for access tokens; when unset, one is generated once and kept in DATA_DIR.
    #[arg(long, global = true, env = "JWT_SECRET", hide_env_values = true, value_parser = Secret::strong)]
    pub jwt_secret: Option<Secret>,
    /// `iss` claim of access tokens.
    #[arg(
        long,
        global = true,
        env = "JWT_ISSUER",
        default_value = "sparkle-universe"
    )]
    pub jwt_issuer: String,
    /// `aud` claim of access tokens.
    #[arg(
        long,
        global = true,
        env = "JWT_AUDIENCE",
        default_value = "sparkle-universe-api"
    )]
    pub jwt_audience: String,
    /// Lifetime of an access token, in seconds.
    #[arg(
        long,
        global = true,
        env = "ACCESS_TOKEN_TTL_SECS",
        default_value_t = 900
    )]
    pub access_token_ttl_secs: u64,
    /// Lifetime of a refresh token, in days.
    #[arg(
        long,
        global = true,
        env = "REFRESH_TOKEN_TTL_DAYS",
        default_value_t = 30
    )]
    pub refresh_token_ttl_days: u64,
    /// Argon2id memory cost in KiB (the crate's default, 19 MiB).
    #[arg(
        long,
        global = true,
        env = "ARGON2_MEMORY_KIB",
        default_value_t = 19_456
    )]
    pub argon2_memory_kib: u32,
    /// Argon2id iterations.
    #[arg(long, global = true, env = "ARGON2_ITERATIONS", default_value_t = 2)]
    pub argon2_iterations: u32,
    /// Failed logins for one email address before it is locked.
    #[arg(
        long,
        global = true,
        env = "LOGIN_LOCKOUT_ATTEMPTS",
        default_value_t = 5
    )]
    pub login_lockout_attempts: u32,
    /// How long a locked email address stays locked, in minutes.
    #[arg(
        long,
        global = true,
        env = "LOGIN_LOCKOUT_MINUTES",
        default_value_t = 15
    )]
    pub login_lockout_minutes: u64,
}

/// Rate limits per client.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Rate limits")]
pub struct RateLimitConfig {
    /// Login, register and password-reset attempts per client (`count/window`).
    #[arg(long, global = true, env = "RATE_LIMIT_AUTH", default_value = "5/15m")]
    pub rate_limit_auth: RateLimit,
    /// Requests of any kind per client.
    #[arg(long, global = true, env = "RATE_LIMIT_API", default_value = "1000/1h")]
    pub rate_limit_api: RateLimit,
    /// Posts created per user.
    #[arg(
        long,
        global = true,
        env = "RATE_LIMIT_POST_CREATE",
        default_value = "10/1h"
    )]
    pub rate_limit_post_create: RateLimit,
    /// Comments created per user.
    #[arg(
        long,
        global = true,
        env = "RATE_LIMIT_COMMENT_CREATE",
        default_value = "30/1h"
    )]
    pub rate_limit_comment_create: RateLimit,
    /// Reactions given per user.
    #[arg(
        long,
        global = true,
        env = "RATE_LIMIT_REACTION",
        default_value = "100/1h"
    )]
    pub rate_limit_reaction: RateLimit,
    /// Follows per user.
    #[arg(
        long,
        global = true,
        env = "RATE_LIMIT_FOLLOW",
        default_value = "30/1h"
    )]
    pub rate_limit_follow: RateLimit,
    /// Upload URLs asked for per user.
    #[arg(
        long,
        global = true,
        env = "RATE_LIMIT_UPLOAD",
        default_value = "20/1h"
    )]
    pub rate_limit_upload: RateLimit,
}

/// Page sizes, GraphQL limits and what the server remembers.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "API limits and caches")]
pub struct ApiConfig {
    /// Largest page any list returns (REST `limit`, GraphQL `first`).
    #[arg(long, global = true, env = "MAX_PAGE_SIZE", default_value_t = 100)]
    pub max_page_size: u64,
    /// Deepest GraphQL selection accepted.
    #[arg(long, global = true, env = "GRAPHQL_MAX_DEPTH", default_value_t = 10)]
    pub graphql_max_depth: usize,
    /// Highest GraphQL query complexity accepted (a connection field counts `first` times its children).
    #[arg(
        long,
        global = true,
        env = "GRAPHQL_MAX_COMPLEXITY",
        default_value_t = 2_000
    )]
    pub graphql_max_complexity: usize,
    /// Most operations in one batched GraphQL request.
    #[arg(long, global = true, env = "GRAPHQL_MAX_BATCH", default_value_t = 10)]
    pub graphql_max_batch: usize,
    /// Most aliased fields in one GraphQL document.
    #[arg(long, global = true, env = "GRAPHQL_MAX_ALIASES", default_value_t = 30)]
    pub graphql_max_aliases: usize,
    /// Parsed GraphQL documents remembered, most recently used first (0: none).
    #[arg(
        long,
        global = true,
        env = "GRAPHQL_DOCUMENT_CACHE",
        default_value_t = 256
    )]
    pub graphql_document_cache: usize,
    /// Documents remembered for automatic persisted queries, most recently used first
    /// (0 turns persisted queries off).
    #[arg(
        long,
        global = true,
        env = "GRAPHQL_PERSISTED_QUERIES",
        default_value_t = 1_000
    )]
    pub graphql_persisted_queries: usize,
    /// Milliseconds a post-list total is remembered (writes on this instance forget it at once).
    #[arg(
        long,
        global = true,
        env = "LIST_TOTAL_CACHE_MS",
        default_value_t = 2_000
    )]
    pub list_total_cache_ms: u64,
    /// Milliseconds the categories are remembered (a lookup that misses reads them again).
    #[arg(
        long,
        global = true,
        env = "CATEGORY_CACHE_MS",
        default_value_t = 60_000
    )]
    pub category_cache_ms: u64,
    /// Tags remembered by id, most recently used first (tags never change once created).
    #[arg(long, global = true, env = "TAG_CACHE_SIZE", default_value_t = 10_000)]
    pub tag_cache_size: usize,
}

/// The event bus and WebSockets.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Live updates")]
pub struct RealtimeConfig {
    /// Redis for the event bus shared by several instances (in-process when unset).
    #[arg(long, global = true, env = "REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,
    /// The Redis pub/sub channel events travel on.
    #[arg(
        long,
        global = true,
        env = "REDIS_CHANNEL",
        default_value = "sparkle:events"
    )]
    pub redis_channel: String,
    /// Seconds between keep-alive pings on GraphQL WebSockets.
    #[arg(long, global = true, env = "WS_KEEPALIVE_SECS", default_value_t = 15)]
    pub ws_keepalive_secs: u64,
    /// Seconds a WebSocket may take to send `connection_init` before it is closed.
    #[arg(
        long,
        global = true,
        env = "WS_INIT_TIMEOUT_SECS",
        default_value_t = 10
    )]
    pub ws_init_timeout_secs: u64,
    /// Seconds a typing indicator lasts unless renewed.
    #[arg(long, global = true, env = "TYPING_TTL_SECS", default_value_t = 6)]
    pub typing_ttl_secs: u64,
}

/// Logs and metrics.
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Logs and metrics")]
pub struct ObservabilityConfig {
    /// Bearer token that `GET /metrics` requires; unset, only this machine may read it.
    #[arg(long, global = true, env = "METRICS_TOKEN", hide_env_values = true, value_parser = Secret::strong)]
    pub metrics_token: Option<Secret>,
    /// Log lines as text for people, or one JSON object per line for machines.
    #[arg(long, global = true, env = "LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Config {
    /// The configured database URL, or the embedded SQLite file under the data directory.
    pub fn database_url(&self) -> String {
        self.database.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}/sparkle.db?mode=rwc",
                self.server.data_dir.display()
            )
        })
    }

    /// This API's address as clients outside reach it (`PUBLIC_URL`, else
    /// `http://HOST:PORT`), without a trailing slash.
    pub fn public_url(&self) -> String {
        self.mail
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}:{}", self.server.host, self.server.port))
            .trim_end_matches('/')
            .to_owned()
    }

    /// The login, register and password-reset limit in force: in `DEV_MODE`, 100 a
    /// minute, so a developer trying logins is not shut out for a quarter of an hour.
    pub fn auth_rate_limit(&self) -> RateLimit {
        if self.dev_mode {
            RateLimit {
                count: 100,
                window: Duration::from_secs(60),
            }
        } else {
            self.limits.rate_limit_auth
        }
    }

    /// Minutes a locked email address stays locked: one in `DEV_MODE`.
    pub fn lockout_minutes(&self) -> u64 {
        if self.dev_mode {
            1
        } else {
            self.auth.login_lockout_minutes
        }
    }

    /// Defaults, as if no environment variable were set.
    pub fn defaults() -> Self {
        use clap::{Args, FromArgMatches};
        let matches = Config::augment_args(clap::Command::new("sparkle"))
            .no_binary_name(true)
            .try_get_matches_from(Vec::<String>::new())
            .ok();
        matches
            .and_then(|m| Config::from_arg_matches(&m).ok())
            .unwrap_or_else(|| unreachable!("every field has a default"))
    }
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Readable text.
    Text,
    /// One JSON object per line.
    Json,
}

/// An IP address, or a host name resolved once at start-up (`localhost`).
fn parse_host(host: &str) -> Result<IpAddr, String> {
    if let Ok(ip) = host.parse() {
        return Ok(ip);
    }
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    }
    std::net::ToSocketAddrs::to_socket_addrs(&(host, 0))
        .ok()
        .and_then(|mut addresses| addresses.next())
        .map(|address| address.ip())
        .ok_or_else(|| format!("`{host}` is neither an IP address nor a host name of this machine"))
}

/// A configured number of seconds as a time span, capped at a year (so adding it to
/// a date can never overflow).
pub fn seconds_up_to_a_year(seconds: u64) -> chrono::TimeDelta {
    const YEAR: u64 = 365 * 24 * 3600;
    chrono::TimeDelta::seconds(i64::try_from(seconds.min(YEAR)).unwrap_or_default())
}

/// `url` with its password, if any, replaced by `***`, for messages and logs.
pub fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((credentials, host)) => {
            let user = credentials
                .split_once(':')
                .map_or(credentials, |(user, _)| user);
            let masked = if credentials.contains(':') {
                format!("{user}:***")
            } else {
                user.to_owned()
            };
            format!("{scheme}://{masked}@{host}{path}")
        }
        None => url.to_owned(),
    }
}

/// A secret string that never appears in logs or `Debug` output.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    /// The secret's value, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// A secret this server chooses the strength of (a signing key, a token): at least
    /// 32 characters.
    pub fn strong(value: &str) -> Result<Self, String> {
        if value.len() < 32 {
            return Err("must be at least 32 characters".into());
        }
        Ok(Self(value.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl FromStr for Secret {
    type Err = String;
    /// Any non-empty secret (one another system chose, such as a storage key).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(Self(s.to_owned()))
    }
}

/// `count` actions per `window`, written `5/15m`, `1000/1h`, `20/1d` or `10/30s`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimit {
    pub count: u32,
    pub window: Duration,
}

impl FromStr for RateLimit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`{s}` is not a rate like 5/15m, 1000/1h or 20/1d");
        let (count, window) = s.split_once('/').ok_or_else(bad)?;
        let count: u32 = count.trim().parse().map_err(|_| bad())?;
        let window = window.trim();
        let split = window.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (amount, unit) = window.split_at(split);
        let amount: u64 = amount.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3_600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        if count == 0 || amount == 0 {
            return Err(bad());
        }
        Ok(Self {
            count,
            window: Duration::from_secs(amount * seconds),
        })
    }
}

impl RateLimit {
    /// A limit generous enough never to be reached (for tests and benchmarks).
    pub fn unlimited() -> Self {
        Self {
            count: u32::MAX,
            window: Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_and_the_rest_kept() {
        assert_eq!(
            mask_password("postgres://app:hunter2@db.local:5432/sparkle?sslmode=require"),
            "postgres://app:***@db.local:5432/sparkle?sslmode=require"
        );
        assert_eq!(
            mask_password("redis://:s3cret@cache:6379"),
            "redis://:***@cache:6379"
        );
        assert_eq!(mask_password("redis://cache:6379"), "redis://cache:6379");
        assert_eq!(mask_password("sqlite://data/x.db"), "sqlite://data/x.db");
    }

    #[test]
    fn localhost_is_a_host() {
        assert_eq!(
            parse_host("localhost"),
            Ok(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST))
        );
        assert_eq!(parse_host("::1"), Ok("::1".parse().expect("ip")));
        assert!(parse_host("no such host.invalid").is_err());
    }
}
