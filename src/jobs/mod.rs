//! Background work: a durable job queue in the application's own database, the
//! workers that run it, and the cron schedules that feed it.
//!
//! # The rules
//!
//! - A job is enqueued in the transaction of the write that causes it (through
//!   [`crate::domain::effects::Write::enqueue`]): it can never be lost for a committed
//!   write, nor run for a rolled-back one.
//! - A job carries ids and small values, never table rows: it reads what it needs
//!   when it runs.
//! - A handler is idempotent: a job may run again after a worker died in the middle
//!   of it, so running it twice does no harm (dedupe keys, conditional updates,
//!   checkpoints).
//!
//! # How it runs
//!
//! A row of `jobs` is `available` (due at `run_at`: now, later, or after a backoff),
//! `running` (claimed by a worker, which holds a lease `locked_until` and renews it),
//! `done`, or `dead` (its attempts ran out; `last_error` says why). Workers claim due
//! jobs of their queue in `run_at` order: on PostgreSQL with `FOR UPDATE SKIP
//! LOCKED`, so any number of workers on any number of machines share a queue; on
//! SQLite under the single write lock. A job whose worker died goes back to its
//! queue once its lease has run out (every worker process looks every half lease).
//! Idle workers wake at once when a job is enqueued (`LISTEN/NOTIFY` on PostgreSQL,
//! an in-process signal on SQLite) and poll only as the fallback. The queue's own
//! bookkeeping goes through [`crate::db::Databases::queue`]; done jobs are recorded
//! in batches.

pub mod bench;
mod config;
mod handlers;
mod kinds;
pub mod monitor;
pub mod queue;
pub mod schedules;
mod signals;
mod worker;

pub use config::{JobsConfig, QueueConcurrency, ScheduleSetting};
pub use kinds::{Job, JobSpec};
pub use queue::{JobContext, JobState, NewJob, enqueue};
pub use signals::JobSignals;
pub use worker::{ShutdownReport, WorkerPool, drain};

use serde::{Deserialize, Serialize};

/// A named queue: each has its own workers and concurrency.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    async_graphql::Enum,
)]
#[serde(rename_all = "lowercase")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum Queue {
    /// Mail to send.
    Email,
    /// Notifications to many recipients (broadcasts, mentions).
    Notifications,
    /// Uploaded files to process.
    Media,
    /// Calls to other services.
    Webhooks,
    /// Clean-up and other scheduled housekeeping.
    Maintenance,
}

impl Queue {
    /// Every queue.
    pub const ALL: [Self; 5] = [
        Self::Email,
        Self::Notifications,
        Self::Media,
        Self::Webhooks,
        Self::Maintenance,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Notifications => "notifications",
            Self::Media => "media",
            Self::Webhooks => "webhooks",
            Self::Maintenance => "maintenance",
        }
    }

    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|queue| queue.as_str() == name)
    }
}
