//! Per-client rate limits (GCRA, from `governor`), checked by the domain layer so
//! REST and GraphQL share them. Counters live in this process.

use std::{num::NonZeroU32, sync::Arc};

use governor::{
    DefaultKeyedRateLimiter, Quota,
    clock::{Clock, DefaultClock},
};

use crate::{
    config::{Config, RateLimit},
    error::{AppError, AppResult},
};

/// One limit, keyed by client (`user:<id>` or `ip:<address>`).
#[derive(Clone)]
pub struct Limiter(Option<Arc<DefaultKeyedRateLimiter<String>>>);

impl Limiter {
    /// `limit.count` actions per `limit.window`, with the whole count available at once.
    pub fn new(limit: RateLimit) -> Self {
        let quota = NonZeroU32::new(limit.count).and_then(|burst| {
            Quota::with_period(limit.window / limit.count).map(|quota| quota.allow_burst(burst))
        });
        Self(quota.map(|quota| Arc::new(DefaultKeyedRateLimiter::keyed(quota))))
    }

    /// Counts one action for `key`, or answers RATE_LIMITED with the time to wait.
    pub fn check(&self, key: &str) -> AppResult<()> {
        let Some(limiter) = &self.0 else {
            return Ok(());
        };
        limiter
            .check_key(&key.to_owned())
            .map_err(|not_until| AppError::RateLimited {
                retry_after: not_until.wait_time_from(DefaultClock::default().now()),
            })
    }

    /// Forgets clients whose allowance is whole again (bounds memory).
    pub fn forget_idle(&self) {
        if let Some(limiter) = &self.0 {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
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
}

impl RateLimiters {
    /// The limits configured in `config`.
    pub fn new(config: &Config) -> Self {
        Self {
            api: Limiter::new(config.rate_limit_api),
            auth: Limiter::new(config.rate_limit_auth),
            post_create: Limiter::new(config.rate_limit_post_create),
            comment_create: Limiter::new(config.rate_limit_comment_create),
            reaction: Limiter::new(config.rate_limit_reaction),
            follow: Limiter::new(config.rate_limit_follow),
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
