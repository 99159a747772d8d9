//! `sparkle bench-jobs`: the queue's own benchmark (`bench/jobs.sh` runs it). It
//! measures no-op jobs per second through real workers on the configured database,
//! and the time from an enqueue's commit (its start) to the claim of its job on an
//! idle queue, as the job's row records it (`attempted_at`).

use std::time::{Duration, Instant};

use chrono::Utc;
use entity::job;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{Job, JobState, NewJob, WorkerPool};
use crate::{domain::effects::Write, error::AppResult, state::AppState};

/// Jobs enqueued per transaction while filling the queue.
const ENQUEUE_BATCH: usize = 500;

/// What one run measured.
#[derive(Clone, Debug)]
pub struct BenchReport {
    pub jobs: usize,
    pub workers: usize,
    pub elapsed: Duration,
    /// Enqueue-to-start latencies on an idle queue, sorted.
    pub start_latencies: Vec<Duration>,
}

impl BenchReport {
    /// Jobs per second.
    pub fn throughput(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let jobs = self.jobs as f64;
        jobs / self.elapsed.as_secs_f64().max(f64::EPSILON)
    }

    /// The latency below which `percent` of the samples fall.
    pub fn latency_percentile(&self, percent: usize) -> Duration {
        let samples = &self.start_latencies;
        if samples.is_empty() {
            return Duration::ZERO;
        }
        let index = (samples.len() * percent).div_ceil(100).saturating_sub(1);
        samples[index.min(samples.len() - 1)]
    }
}

fn noop() -> NewJob {
    NewJob::from(Job::Probe {
        sleep_ms: 0,
        fail_attempts: 0,
    })
}

/// Whether any job is still waiting or running (an index seek, so watching for the
/// end costs the workers nothing).
async fn any_unfinished(state: &AppState) -> AppResult<bool> {
    Ok(job::Entity::find()
        .filter(
            job::Column::State.is_in([JobState::Available.as_str(), JobState::Running.as_str()]),
        )
        .one(&state.db)
        .await?
        .is_some())
}

/// Fills the queue (of a fresh database) with `jobs` no-op jobs, runs them with the
/// configured workers and times it; then enqueues `samples` jobs one at a time into the idle queue and
/// records how long each waited to start.
pub async fn run(state: &AppState, jobs: usize, samples: usize) -> AppResult<BenchReport> {
    let mut left = jobs;
    while left > 0 {
        let mut write = Write::begin(state).await?;
        for _ in 0..left.min(ENQUEUE_BATCH) {
            write.enqueue(noop()).await?;
        }
        write.commit().await?;
        left = left.saturating_sub(ENQUEUE_BATCH);
    }
    let started = Instant::now();
    let pool = WorkerPool::start(state);
    while any_unfinished(state).await? {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let elapsed = started.elapsed();

    let mut start_latencies = Vec::with_capacity(samples);
    for _ in 0..samples {
        // Idle: every worker waits for a wake-up.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let mut write = Write::begin(state).await?;
        let id = write.enqueue(noop()).await?;
        let enqueued_at = Utc::now();
        write.commit().await?;
        let Some(id) = id else { continue };
        let started_at = loop {
            let row = job::Entity::find_by_id(id.as_str()).one(&state.db).await?;
            if let Some(started_at) = row.and_then(|row| row.attempted_at) {
                break started_at;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        };
        start_latencies.push((started_at - enqueued_at).to_std().unwrap_or_default());
    }
    start_latencies.sort();
    pool.shutdown(Duration::from_secs(5)).await?;
    Ok(BenchReport {
        jobs,
        workers: state.config.jobs.concurrency(super::Queue::Maintenance),
        elapsed,
        start_latencies,
    })
}
