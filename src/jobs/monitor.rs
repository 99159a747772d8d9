//! What an administrator sees of the queue (per queue: pending, scheduled, running,
//! retrying, dead, done in the last 24 hours, the oldest pending job's age; the
//! latest failures; the schedules) and what they may do: retry or discard a dead
//! job. REST and GraphQL both call these.

use chrono::{DateTime, TimeDelta, Utc};
use entity::job;
use sea_orm::{
    ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::{Expr, ExprTrait, Func},
};
use serde::Serialize;

use super::{JobState, Queue, queue::AttemptError, schedules};
use crate::{
    auth::{Caller, Role},
    domain::now,
    error::{AppError, AppResult},
    state::AppState,
};

/// Failures listed.
const LATEST_FAILURES: u64 = 20;

/// The counts of one queue.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct QueueStats {
    pub queue: Queue,
    /// Due now, never attempted.
    pub pending: u64,
    /// Delayed: due later, never attempted.
    pub scheduled: u64,
    pub running: u64,
    /// Failed at least once, waiting for another attempt.
    pub retrying: u64,
    /// Out of attempts.
    pub dead: u64,
    /// Finished successfully in the last 24 hours.
    pub done_last_24h: u64,
    /// Seconds the oldest due job has waited (0 when none waits).
    pub oldest_pending_secs: f64,
}

/// A job that failed, with its errors.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(complex)]
pub struct FailedJob {
    #[graphql(skip)]
    pub id: String,
    pub queue: Queue,
    pub kind: String,
    /// `RETRYING` or `DEAD`.
    pub state: String,
    pub attempt: i32,
    pub max_attempts: i32,
    pub last_error: Option<String>,
    #[graphql(skip)]
    pub failed_at: Option<DateTime<Utc>>,
    /// When a retrying job runs next.
    #[graphql(skip)]
    pub run_at: DateTime<Utc>,
    /// Every failed attempt, oldest first.
    pub errors: Vec<AttemptError>,
}

/// The whole picture.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct JobStats {
    pub queues: Vec<QueueStats>,
    pub latest_failures: Vec<FailedJob>,
    pub schedules: Vec<schedules::ScheduleView>,
}

/// Refuses anyone but an administrator.
pub fn ensure_admin(caller: &Caller) -> AppResult<()> {
    if caller.viewer()?.role != Role::Admin {
        return Err(AppError::Forbidden("Only administrators may do this"));
    }
    Ok(())
}

/// The queue's counts, latest failures and schedules (ADMIN).
pub async fn stats(state: &AppState, caller: &Caller) -> AppResult<JobStats> {
    ensure_admin(caller)?;
    Ok(JobStats {
        queues: queue_stats(state).await?,
        latest_failures: latest_failures(state).await?,
        schedules: schedules::views(state).await?,
    })
}

/// Unfinished jobs of one queue and state: how many, how many were retried, how many
/// are due later, and the earliest `run_at` of those due now.
type UnfinishedGroup = (String, String, i64, i64, i64, Option<DateTime<Utc>>);

/// Per queue counts (also what `/metrics` reports).
pub async fn queue_stats(state: &AppState) -> AppResult<Vec<QueueStats>> {
    let now = now();
    let never_attempted = || Expr::col(job::Column::Attempt).eq(0);
    let count_where = |condition: Expr| Expr::from(Func::sum(Expr::case(condition, 1).finally(0)));
    // No bound value may appear in GROUP BY (PostgreSQL would see a different
    // parameter there than in the select list), so the groups are queue and state
    // and the rest are conditional aggregates.
    let unfinished: Vec<UnfinishedGroup> = job::Entity::find()
        .select_only()
        .column(job::Column::Queue)
        .column(job::Column::State)
        .column_as(Expr::col(job::Column::Id).count(), "jobs")
        .column_as(
            count_where(Expr::col(job::Column::Attempt).gt(0)),
            "retried",
        )
        .column_as(
            count_where(never_attempted().and(Expr::col(job::Column::RunAt).gt(now))),
            "later",
        )
        .column_as(
            Expr::from(Func::min(Expr::case(
                never_attempted().and(Expr::col(job::Column::RunAt).lte(now)),
                Expr::col(job::Column::RunAt),
            ))),
            "oldest",
        )
        .filter(job::Column::State.is_in([
            JobState::Available.as_str(),
            JobState::Running.as_str(),
            JobState::Dead.as_str(),
        ]))
        .group_by(job::Column::Queue)
        .group_by(job::Column::State)
        .into_tuple()
        .all(&state.db)
        .await?;
    let done: Vec<(String, i64)> = job::Entity::find()
        .select_only()
        .column(job::Column::Queue)
        .column_as(Expr::col(job::Column::Id).count(), "jobs")
        .filter(job::Column::State.eq(JobState::Done.as_str()))
        .filter(job::Column::FinishedAt.gte(now - TimeDelta::hours(24)))
        .group_by(job::Column::Queue)
        .into_tuple()
        .all(&state.db)
        .await?;
    let mut stats: Vec<QueueStats> = Queue::ALL
        .into_iter()
        .map(|queue| QueueStats {
            queue,
            pending: 0,
            scheduled: 0,
            running: 0,
            retrying: 0,
            dead: 0,
            done_last_24h: 0,
            oldest_pending_secs: 0.0,
        })
        .collect();
    let count = |jobs: i64| u64::try_from(jobs).unwrap_or_default();
    for (queue, state, jobs, retried, later, oldest) in unfinished {
        let Some(entry) = stats.iter_mut().find(|entry| entry.queue.as_str() == queue) else {
            continue;
        };
        let (jobs, retried, later) = (count(jobs), count(retried), count(later));
        match JobState::parse(&state) {
            Some(JobState::Running) => entry.running += jobs,
            Some(JobState::Dead) => entry.dead += jobs,
            _ => {
                entry.retrying += retried;
                entry.scheduled += later;
                entry.pending += jobs.saturating_sub(retried + later);
                if let Some(oldest) = oldest {
                    let waited = Ord::max((now - oldest).num_milliseconds(), 0);
                    #[allow(clippy::cast_precision_loss)]
                    let waited = waited as f64 / 1000.0;
                    entry.oldest_pending_secs = waited;
                }
            }
        }
    }
    for (queue, jobs) in done {
        if let Some(entry) = stats.iter_mut().find(|entry| entry.queue.as_str() == queue) {
            entry.done_last_24h = count(jobs);
        }
    }
    Ok(stats)
}

/// The latest failed jobs not done since (retrying or dead), newest failure first.
async fn latest_failures(state: &AppState) -> AppResult<Vec<FailedJob>> {
    let rows = latest_failures_query().all(&state.db).await?;
    Ok(rows.into_iter().filter_map(failed_job).collect())
}

/// The statement of [`latest_failures`] (it reads `idx_jobs_failed` backwards).
pub fn latest_failures_query() -> Select<job::Entity> {
    job::Entity::find()
        .filter(job::Column::FailedAt.is_not_null())
        .order_by_desc(job::Column::FailedAt)
        .limit(LATEST_FAILURES)
}

fn failed_job(row: job::Model) -> Option<FailedJob> {
    Some(FailedJob {
        queue: Queue::parse(&row.queue)?,
        state: if row.state == JobState::Dead.as_str() {
            "DEAD"
        } else {
            "RETRYING"
        }
        .to_owned(),
        errors: serde_json::from_str(&row.errors).unwrap_or_default(),
        id: row.id,
        kind: row.kind,
        attempt: row.attempt,
        max_attempts: row.max_attempts,
        last_error: row.last_error,
        failed_at: row.failed_at,
        run_at: row.run_at,
    })
}

/// A dead job, by id (ADMIN); another state is a conflict.
async fn dead_job(state: &AppState, caller: &Caller, id: &str) -> AppResult<job::Model> {
    ensure_admin(caller)?;
    let row = job::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("Job"))?;
    if row.state != JobState::Dead.as_str() {
        return Err(AppError::Conflict {
            field: "id",
            message: format!(
                "Only a dead job can be retried or discarded; this one is {}",
                row.state
            ),
        });
    }
    Ok(row)
}

/// Runs a dead job again, now, with one more attempt allowed (ADMIN).
pub async fn retry(state: &AppState, caller: &Caller, id: &str) -> AppResult<FailedJob> {
    let row = dead_job(state, caller, id).await?;
    let max_attempts = Ord::max(row.max_attempts, row.attempt + 1);
    let run_at = now();
    let updated = job::Entity::update_many()
        .col_expr(
            job::Column::State,
            Expr::value(JobState::Available.as_str()),
        )
        .col_expr(job::Column::RunAt, Expr::value(run_at))
        .col_expr(job::Column::MaxAttempts, Expr::value(max_attempts))
        .col_expr(job::Column::FinishedAt, Expr::value(None::<DateTime<Utc>>))
        .filter(job::Column::Id.eq(&row.id))
        .filter(job::Column::State.eq(JobState::Dead.as_str()))
        .exec(&state.writer)
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::NotFound("Job"));
    }
    if let Some(queue) = Queue::parse(&row.queue) {
        state.job_signals.wake(queue);
    }
    failed_job(job::Model {
        state: JobState::Available.as_str().to_owned(),
        max_attempts,
        run_at,
        finished_at: None,
        ..row
    })
    .ok_or(AppError::NotFound("Job"))
}

/// Deletes a dead job (ADMIN).
pub async fn discard(state: &AppState, caller: &Caller, id: &str) -> AppResult<()> {
    let row = dead_job(state, caller, id).await?;
    job::Entity::delete_many()
        .filter(job::Column::Id.eq(&row.id))
        .filter(job::Column::State.eq(JobState::Dead.as_str()))
        .exec(&state.writer)
        .await?;
    Ok(())
}
