//! The background-work knobs: workers, retries, retention and schedules.

use std::{fmt, str::FromStr, time::Duration};

use super::Queue;

/// Workers, retries, retention and schedules (README: "Background jobs").
#[derive(Clone, Debug, clap::Args)]
#[command(next_help_heading = "Background jobs")]
pub struct JobsConfig {
    /// Jobs of each queue this process runs at once; `0` runs no workers here (the
    /// jobs then wait for a `sparkle worker`).
    #[arg(long, global = true, env = "WORKER_CONCURRENCY", default_value_t = 4)]
    pub worker_concurrency: usize,
    /// Per-queue exceptions to WORKER_CONCURRENCY, e.g. `media=1,email=8`. Sending mail
    /// mostly waits on the SMTP server, so the email queue runs more at once.
    #[arg(long, global = true, env = "QUEUE_CONCURRENCY", default_value = "media=1,email=32", value_parser = parse_queue_concurrency)]
    pub queue_concurrency: QueueConcurrency,
    /// Milliseconds an idle worker waits before looking for jobs again when nothing
    /// woke it (a fallback: enqueued jobs wake workers at once).
    #[arg(
        long,
        global = true,
        env = "JOB_POLL_INTERVAL_MS",
        default_value_t = 1_000
    )]
    pub job_poll_interval_ms: u64,
    /// Seconds a claimed job stays reserved for its worker, which renews the lease
    /// while the job runs; a job whose worker died is claimed again after it.
    #[arg(long, global = true, env = "JOB_LEASE_SECS", default_value_t = 30)]
    pub job_lease_secs: u64,
    /// Milliseconds before the first retry of a failed job; each further retry waits
    /// twice as long (at most an hour), with ±10% jitter.
    #[arg(
        long,
        global = true,
        env = "JOB_RETRY_BASE_MS",
        default_value_t = 5_000
    )]
    pub job_retry_base_ms: u64,
    /// Seconds running jobs get to finish at shutdown before they are handed back.
    #[arg(
        long,
        global = true,
        env = "JOB_SHUTDOWN_GRACE_SECS",
        default_value_t = 20
    )]
    pub job_shutdown_grace_secs: u64,
    /// Hours a done job is kept (for monitoring) before it is purged.
    #[arg(
        long,
        global = true,
        env = "JOB_RETENTION_HOURS",
        default_value_t = 168
    )]
    pub job_retention_hours: u64,
    /// Hours a dead job is kept for an operator to retry or discard.
    #[arg(
        long,
        global = true,
        env = "DEAD_JOB_RETENTION_HOURS",
        default_value_t = 720
    )]
    pub dead_job_retention_hours: u64,
    /// When expired refresh tokens and login lockouts are purged (cron, UTC: sec min
    /// hour day-of-month month day-of-week; `off` disables).
    #[arg(
        long,
        global = true,
        env = "SCHEDULE_PURGE_EXPIRED_SESSIONS",
        default_value = "0 15 3 * * *"
    )]
    pub schedule_purge_expired_sessions: ScheduleSetting,
    /// When read notifications past their retention are purged.
    #[arg(
        long,
        global = true,
        env = "SCHEDULE_PURGE_READ_NOTIFICATIONS",
        default_value = "0 30 3 * * *"
    )]
    pub schedule_purge_read_notifications: ScheduleSetting,
    /// When finished jobs past their retention are purged.
    #[arg(
        long,
        global = true,
        env = "SCHEDULE_PURGE_FINISHED_JOBS",
        default_value = "0 45 * * * *"
    )]
    pub schedule_purge_finished_jobs: ScheduleSetting,
    /// When uploads never completed (and their bytes) are removed.
    #[arg(
        long,
        global = true,
        env = "SCHEDULE_PURGE_ABANDONED_UPLOADS",
        default_value = "0 20 * * * *"
    )]
    pub schedule_purge_abandoned_uploads: ScheduleSetting,
    /// When the weekly digest goes out.
    #[arg(
        long,
        global = true,
        env = "SCHEDULE_WEEKLY_DIGEST",
        default_value = "0 0 9 * * Mon"
    )]
    pub schedule_weekly_digest: ScheduleSetting,
}

impl JobsConfig {
    /// Jobs of `queue` this process runs at once (none at all when
    /// WORKER_CONCURRENCY is 0, whatever the per-queue exceptions say).
    pub fn concurrency(&self, queue: Queue) -> usize {
        if self.worker_concurrency == 0 {
            return 0;
        }
        self.queue_concurrency
            .0
            .iter()
            .find(|(named, _)| *named == queue)
            .map_or(self.worker_concurrency, |(_, count)| *count)
    }

    /// How long running jobs get to finish at shutdown.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_secs(self.job_shutdown_grace_secs)
    }

    /// The lease of a claimed job.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.job_lease_secs.max(1))
    }
}

/// Per-queue concurrency exceptions.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QueueConcurrency(pub Vec<(Queue, usize)>);

fn parse_queue_concurrency(text: &str) -> Result<QueueConcurrency, String> {
    let mut exceptions = Vec::new();
    for part in text
        .split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
    {
        let (name, count) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not `queue=count`"))?;
        let queue = Queue::parse(name.trim()).ok_or_else(|| {
            let names: Vec<&str> = Queue::ALL.iter().map(|queue| queue.as_str()).collect();
            format!("`{name}` is not a queue ({})", names.join(", "))
        })?;
        let count = count
            .trim()
            .parse()
            .map_err(|_| format!("`{count}` is not a count"))?;
        exceptions.push((queue, count));
    }
    Ok(QueueConcurrency(exceptions))
}

/// A cron schedule (6 or 7 fields, seconds first, UTC), or `off`.
#[derive(Clone, Debug)]
pub struct ScheduleSetting(pub Option<cron::Schedule>);

impl FromStr for ScheduleSetting {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("off") {
            return Ok(Self(None));
        }
        cron::Schedule::from_str(text)
            .map(|schedule| Self(Some(schedule)))
            .map_err(|err| {
                format!("`{text}` is not a cron expression (sec min hour day month weekday): {err}")
            })
    }
}

impl fmt::Display for ScheduleSetting {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.0 {
            Some(schedule) => formatter.write_str(schedule.source()),
            None => formatter.write_str("off"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Queue, ScheduleSetting, parse_queue_concurrency};

    #[test]
    fn queue_exceptions_and_schedules_parse() {
        let parsed = parse_queue_concurrency("media=1, email=8").expect("parses");
        assert_eq!(parsed.0, vec![(Queue::Media, 1), (Queue::Email, 8)]);
        assert!(parse_queue_concurrency("video=1").is_err());
        assert!(parse_queue_concurrency("media").is_err());
        assert!("off".parse::<ScheduleSetting>().expect("off").0.is_none());
        assert!(
            "0 0 9 * * Mon"
                .parse::<ScheduleSetting>()
                .expect("cron")
                .0
                .is_some()
        );
        assert!("every monday".parse::<ScheduleSetting>().is_err());
    }

    #[test]
    fn no_workers_means_none_for_any_queue() {
        let mut jobs = crate::config::Config::defaults().jobs;
        assert_eq!(jobs.concurrency(Queue::Maintenance), 4);
        assert_eq!(jobs.concurrency(Queue::Email), 32);
        assert_eq!(jobs.concurrency(Queue::Media), 1);
        jobs.worker_concurrency = 0;
        for queue in [Queue::Maintenance, Queue::Email, Queue::Media] {
            assert_eq!(jobs.concurrency(queue), 0, "{queue:?}");
        }
    }
}
