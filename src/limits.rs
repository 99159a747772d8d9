//! Per-client rate limits (GCRA), checked by the domain layer so REST and GraphQL
//! share them.
//!
//! Without Redis the counters live in this process (`governor`). With `REDIS_URL`
//! every instance counts in Redis, so a client has one budget across the cluster: the
//! same GCRA runs as a Lua script, on Redis's clock, atomically. When Redis cannot be
//! reached the limit falls back to this process's counters (a client then has one
//! budget per instance for that time), and Redis is tried again after a second; a
//! Redis outage never turns into refused or failed requests.

use std::{
    num::NonZeroU32,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
};

use prometheus_client::metrics::counter::Counter;

use crate::{
    config::{Config, RateLimit},
    error::{AppError, AppResult},
    metrics::{LimitLabels, Metrics},
};

/// One limit, keyed by client (`user:<id>` or `ip:<address>`).
#[derive(Clone)]
pub struct Limiter {
    /// The limit's name in shared counters' keys.
    name: &'static str,
    limit: RateLimit,
    local: Option<Arc<DefaultKeyedRateLimiter<String>>>,
    shared: Option<SharedCounters>,
    /// Refusals of this limit, for `/metrics`.
    refusals: Counter,
}

impl Limiter {
    /// `limit.count` actions per `limit.window`, with the whole count available at
    /// once; counted in `shared` when given.
    pub fn new(
        name: &'static str,
        limit: RateLimit,
        shared: Option<SharedCounters>,
        refusals: Counter,
    ) -> Self {
        let quota = NonZeroU32::new(limit.count).and_then(|burst| {
            Quota::with_period(limit.window / limit.count).map(|quota| quota.allow_burst(burst))
        });
        Self {
            name,
            limit,
            local: quota.map(|quota| Arc::new(DefaultKeyedRateLimiter::keyed(quota))),
            shared,
            refusals,
        }
    }

    /// Counts one action for `key`, or answers RATE_LIMITED with the time to wait.
    pub async fn check(&self, key: &str) -> AppResult<()> {
        let checked = self.count(key).await;
        if checked.is_err() {
            self.refusals.inc();
        }
        checked
    }

    async fn count(&self, key: &str) -> AppResult<()> {
        let Some(local) = &self.local else {
            return Ok(());
        };
        let interval = self.limit.window / self.limit.count;
        if let Some(shared) = &self.shared
            // A limit too generous to count (tests, benchmarks) never asks Redis.
            && !interval.is_zero()
        {
            let tolerance = interval * (self.limit.count - 1);
            let key = format!("{}:{key}", self.name);
            match shared.take(&key, interval, tolerance).await {
                SharedAnswer::Allowed => return Ok(()),
                SharedAnswer::Refused(retry_after) => {
                    return Err(AppError::RateLimited { retry_after });
                }
                SharedAnswer::Unavailable => {}
            }
        }
        local
            .check_key(&key.to_owned())
            .map_err(|not_until| AppError::RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }

    /// Forgets clients whose allowance is whole again (bounds memory).
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.local {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// GCRA on Redis's clock, in microseconds. `KEYS[1]`: the client's key; `ARGV[1]`: the
/// emission interval; `ARGV[2]`: the burst tolerance (interval × (count − 1)).
/// Returns 0 when the action is allowed (and counted), else the microseconds to wait.
const GCRA_SCRIPT: &str = r"
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
if tat - tolerance > now then return tat - tolerance - now end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.ceil((next_tat - now) / 1000) + 1)
return 0
";

/// Longest a rate-limit round trip to Redis may take before the local counters answer.
const SHARED_TIMEOUT: Duration = Duration::from_millis(250);
/// How long after a Redis failure the shared counters are tried again.
const SHARED_RETRY: Duration = Duration::from_secs(1);

/// Rate-limit counters kept in Redis, shared by every instance.
#[derive(Clone)]
pub struct SharedCounters(Arc<SharedInner>);

struct SharedInner {
    client: redis::Client,
    /// Prepended to every key, so several deployments can share one Redis.
    prefix: String,
    script: redis::Script,
    link: Mutex<Link>,
}

/// What the shared counters said of one action.
enum SharedAnswer {
    Allowed,
    /// Refused; the client may retry after this long.
    Refused(Duration),
    /// Redis did not answer: the local counters decide.
    Unavailable,
}

/// The state of the connection to Redis.
enum Link {
    Up(redis::aio::MultiplexedConnection),
    /// Not connected; the next attempt is due at this instant.
    Down(Instant),
}

impl SharedCounters {
    /// Counters in the Redis at `client`, under keys starting with `prefix`. Connects
    /// on first use.
    pub fn new(client: redis::Client, prefix: &str) -> Self {
        Self(Arc::new(SharedInner {
            client,
            prefix: format!("{prefix}:ratelimit"),
            script: redis::Script::new(GCRA_SCRIPT),
            link: Mutex::new(Link::Down(Instant::now())),
        }))
    }

    /// Counts one action under `key`.
    async fn take(&self, key: &str, interval: Duration, tolerance: Duration) -> SharedAnswer {
        let Some(mut connection) = self.connection().await else {
            return SharedAnswer::Unavailable;
        };
        let mut invocation = self.0.script.key(format!("{}:{key}", self.0.prefix));
        invocation
            .arg(u64::try_from(interval.as_micros()).unwrap_or(u64::MAX))
            .arg(u64::try_from(tolerance.as_micros()).unwrap_or(u64::MAX));
        let answer = tokio::time::timeout(
            SHARED_TIMEOUT,
            invocation.invoke_async::<u64>(&mut connection),
        )
        .await;
        match answer {
            Ok(Ok(0)) => SharedAnswer::Allowed,
            Ok(Ok(wait)) => SharedAnswer::Refused(Duration::from_micros(wait)),
            Ok(Err(err)) => {
                tracing::warn!(%err, "shared rate limits unreachable; counting locally");
                self.set_link(Link::Down(Instant::now() + SHARED_RETRY));
                SharedAnswer::Unavailable
            }
            Err(_) => {
                tracing::warn!("shared rate limits too slow; counting locally");
                self.set_link(Link::Down(Instant::now() + SHARED_RETRY));
                SharedAnswer::Unavailable
            }
        }
    }

    /// The connection, reconnecting when an attempt is due; `None` while Redis is down.
    async fn connection(&self) -> Option<redis::aio::MultiplexedConnection> {
        {
            let mut link = self.0.link.lock().unwrap_or_else(PoisonError::into_inner);
            match &*link {
                Link::Up(connection) => return Some(connection.clone()),
                Link::Down(due) if *due > Instant::now() => return None,
                // This caller attempts; others count locally meanwhile.
                Link::Down(_) => *link = Link::Down(Instant::now() + SHARED_RETRY),
            }
        }
        let connected = tokio::time::timeout(
            SHARED_TIMEOUT,
            self.0.client.get_multiplexed_async_connection(),
        )
        .await;
        match connected {
            Ok(Ok(connection)) => {
                self.set_link(Link::Up(connection.clone()));
                Some(connection)
            }
            _ => None,
        }
    }

    fn set_link(&self, state: Link) {
        *self.0.link.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }
}

/// Every rate limit of the product.
#[derive(Clone)]
pub struct RateLimiters {
    /// Requests of any kind.
    pub api: Limiter,
    /// Login, register and password reset.
    pub auth: Limiter,
    /// Post creation.
    pub post_create: Limiter,
    /// Comment creation.
    pub comment_create: Limiter,
    /// Reactions given.
    pub reaction: Limiter,
    /// Follows.
    pub follow: Limiter,
    /// Upload URLs.
    pub upload: Limiter,
}

impl RateLimiters {
    /// The limits configured in `config`, counted in `shared` when given.
    pub fn new(config: &Config, shared: Option<SharedCounters>, metrics: &Metrics) -> Self {
        let limiter = |name, limit| {
            let refusals = metrics
                .rate_limit_refusals
                .get_or_create(&LimitLabels { limit: name })
                .clone();
            Limiter::new(name, limit, shared.clone(), refusals)
        };
        Self {
            api: limiter("api", config.limits.rate_limit_api),
            auth: limiter("auth", config.auth_rate_limit()),
            post_create: limiter("post_create", config.limits.rate_limit_post_create),
            comment_create: limiter("comment_create", config.limits.rate_limit_comment_create),
            reaction: limiter("reaction", config.limits.rate_limit_reaction),
            follow: limiter("follow", config.limits.rate_limit_follow),
            upload: limiter("upload", config.limits.rate_limit_upload),
        }
    }

    /// Forgets idle clients of every limit.
    pub fn forget_idle(&self) {
        for limiter in [
            &self.api,
            &self.auth,
            &self.post_create,
            &self.comment_create,
            &self.reaction,
            &self.follow,
        ] {
            limiter.forget_idle();
        }
    }
}
