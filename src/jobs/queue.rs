//! The statements of the queue: enqueue, claim, renew, checkpoint, finish, hand back.

use std::time::Duration;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use entity::job;
use rand::Rng;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait,
    QueryFilter,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, Order, Query},
};
use serde::{Deserialize, Serialize};

use super::{Job, Queue, signals};
use crate::{
    domain::{new_id, now},
    error::{AppError, AppResult},
};

/// Where a job is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobState {
    /// Waiting for `run_at` (now, later, or after a backoff).
    Available,
    /// Claimed by a worker that holds its lease.
    Running,
    /// Finished successfully.
    Done,
    /// Out of attempts; `last_error` says why.
    Dead,
}

impl JobState {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Available => "available",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    /// Parses a stored name.
    pub fn parse(stored: &str) -> Option<Self> {
        [Self::Available, Self::Running, Self::Done, Self::Dead]
            .into_iter()
            .find(|state| state.as_str() == stored)
    }
}

/// A job to enqueue, with its options.
#[derive(Clone, Debug)]
pub struct NewJob {
    pub job: Job,
    /// Not before this time (a delayed job); now when `None`.
    pub run_at: Option<DateTime<Utc>>,
    /// While a job with this key exists (until it is purged), no other is enqueued.
    pub unique_key: Option<String>,
    /// Overrides the kind's maximum attempts.
    pub max_attempts: Option<i32>,
    /// Overrides the kind's timeout.
    pub timeout: Option<Duration>,
}

impl From<Job> for NewJob {
    fn from(job: Job) -> Self {
        Self {
            job,
            run_at: None,
            unique_key: None,
            max_attempts: None,
            timeout: None,
        }
    }
}

impl NewJob {
    /// The job, delayed until `run_at`.
    pub fn at(mut self, run_at: DateTime<Utc>) -> Self {
        self.run_at = Some(run_at);
        self
    }

    /// The job, enqueued only if no job with `key` exists.
    pub fn unique(mut self, key: impl Into<String>) -> Self {
        self.unique_key = Some(key.into());
        self
    }
}

/// Enqueues `new` through `db` (the transaction of the write that causes it) and
/// returns its id, or `None` when a job with its unique key exists. Wakes the idle
/// workers of other processes when the transaction commits (on PostgreSQL); this
/// process's are woken by the write's commit.
pub async fn enqueue(db: &impl ConnectionTrait, new: NewJob) -> AppResult<Option<(String, Queue)>> {
    let spec = new.job.spec();
    let created_at = now();
    let id = new_id();
    let timeout = new.timeout.unwrap_or(spec.timeout);
    let row = job::ActiveModel {
        id: Set(id.clone()),
        queue: Set(spec.queue.as_str().to_owned()),
        kind: Set(new.job.kind().to_owned()),
        args: Set(new.job.args()?),
        state: Set(JobState::Available.as_str().to_owned()),
        attempt: Set(0),
        max_attempts: Set(Ord::max(new.max_attempts.unwrap_or(spec.max_attempts), 1)),
        timeout_ms: Set(i64::try_from(timeout.as_millis()).unwrap_or(i64::MAX)),
        run_at: Set(new.run_at.unwrap_or(created_at)),
        unique_key: Set(new.unique_key),
        locked_by: Set(None),
        locked_until: Set(None),
        progress: Set(None),
        errors: Set("[]".to_owned()),
        last_error: Set(None),
        failed_at: Set(None),
        created_at: Set(created_at),
        attempted_at: Set(None),
        finished_at: Set(None),
    };
    let inserted = job::Entity::insert(row)
        .on_conflict_do_nothing_on([job::Column::UniqueKey])
        .exec_without_returning(db)
        .await?;
    if !matches!(inserted, sea_orm::TryInsertResult::Inserted(1)) {
        return Ok(None);
    }
    signals::announce(db, spec.queue).await?;
    Ok(Some((id, spec.queue)))
}

/// A claimed job, as its handler sees it.
#[derive(Clone, Debug)]
pub struct JobContext {
    pub id: String,
    /// This attempt (1 for the first).
    pub attempt: i32,
    /// The worker holding the lease.
    pub worker_id: String,
    /// The checkpoint of an earlier attempt, if any.
    pub progress: Option<serde_json::Value>,
}

impl JobContext {
    /// Records how far the job got, in the transaction of the work done so far: a
    /// later attempt resumes there. Fails (so that transaction rolls back) when this
    /// worker no longer holds the job.
    pub async fn checkpoint(
        &self,
        db: &impl ConnectionTrait,
        progress: &serde_json::Value,
    ) -> AppResult<()> {
        let updated = job::Entity::update_many()
            .col_expr(job::Column::Progress, Expr::value(progress.to_string()))
            .filter(self.held())
            .exec(db)
            .await?;
        if updated.rows_affected == 0 {
            return Err(AppError::Internal(
                "the job's lease was lost to another worker".to_owned(),
            ));
        }
        Ok(())
    }

    /// For a job working through keys in order: the key an earlier attempt's
    /// [`JobContext::done_up_to`] recorded, to resume after.
    pub fn resumes_after(&self) -> Option<String> {
        self.progress
            .as_ref()
            .and_then(|progress| progress.get("after"))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    }

    /// Records (a checkpoint) that every key up to `key` is done.
    pub async fn done_up_to(&self, db: &impl ConnectionTrait, key: &str) -> AppResult<()> {
        self.checkpoint(db, &serde_json::json!({ "after": key }))
            .await
    }

    /// The job's row while this attempt holds it.
    fn held(&self) -> Condition {
        Condition::all()
            .add(job::Column::Id.eq(&self.id))
            .add(job::Column::LockedBy.eq(&self.worker_id))
            .add(job::Column::Attempt.eq(self.attempt))
            .add(job::Column::State.eq(JobState::Running.as_str()))
    }
}

/// Claims up to `limit` due jobs of `queue` for `worker_id`, with a lease of `lease`,
/// in `run_at` order. One statement ([`claim_statement`]).
pub async fn claim(
    writer: &DatabaseConnection,
    queue: Queue,
    worker_id: &str,
    limit: u64,
    lease: Duration,
) -> AppResult<Vec<job::Model>> {
    let statement = claim_statement(
        writer.get_database_backend(),
        queue,
        worker_id,
        limit,
        lease,
        now(),
    );
    let mut claimed = job::Entity::find()
        .from_raw_sql(statement)
        .all(writer)
        .await?;
    claimed.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
    Ok(claimed)
}

/// The claim: the due available jobs of `queue` in `run_at` order (read from
/// `idx_jobs_claim`) become running, held by `worker_id` until `now + lease`, their
/// attempt counted. `FOR UPDATE SKIP LOCKED` on PostgreSQL, so concurrent claims
/// take different jobs; on SQLite the statement runs under the single write lock.
pub fn claim_statement(
    backend: DbBackend,
    queue: Queue,
    worker_id: &str,
    limit: u64,
    lease: Duration,
    now: DateTime<Utc>,
) -> sea_orm::Statement {
    let mut due = Query::select();
    due.column(job::Column::Id)
        .from(job::Entity)
        .and_where(job::Column::Queue.eq(queue.as_str()))
        .and_where(job::Column::State.eq(JobState::Available.as_str()))
        .and_where(job::Column::RunAt.lte(now))
        .order_by(job::Column::RunAt, Order::Asc)
        .order_by(job::Column::Id, Order::Asc)
        .limit(limit);
    if backend == DbBackend::Postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    }
    let claim = Query::update()
        .table(job::Entity)
        .value(job::Column::State, JobState::Running.as_str())
        .value(job::Column::Attempt, Expr::col(job::Column::Attempt).add(1))
        .value(job::Column::LockedBy, worker_id)
        .value(job::Column::LockedUntil, lease_end(now, lease))
        .value(job::Column::AttemptedAt, now)
        .and_where(Expr::col(job::Column::Id).in_subquery(due))
        .returning_all()
        .to_owned();
    backend.build(&claim)
}

/// Makes running jobs whose lease ran out (their worker died or hung) available
/// again at once; the lost attempt still counts. Returns the queues that got jobs
/// back.
pub async fn rescue_expired(writer: &DatabaseConnection) -> AppResult<Vec<Queue>> {
    let now = now();
    let rescue = Query::update()
        .table(job::Entity)
        .value(job::Column::State, JobState::Available.as_str())
        .value(job::Column::RunAt, now)
        .value(job::Column::LockedBy, None::<String>)
        .value(job::Column::LockedUntil, None::<DateTime<Utc>>)
        .and_where(job::Column::State.eq(JobState::Running.as_str()))
        .and_where(job::Column::LockedUntil.lt(now))
        .returning_col(job::Column::Queue)
        .to_owned();
    let backend = writer.get_database_backend();
    let rows = writer.query_all_raw(backend.build(&rescue)).await?;
    let mut rescued: Vec<Queue> = rows
        .iter()
        .filter_map(|row| row.try_get::<String>("", "queue").ok())
        .filter_map(|name| Queue::parse(&name))
        .collect();
    rescued.sort_unstable();
    rescued.dedup();
    Ok(rescued)
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + TimeDelta::from_std(lease).unwrap_or(TimeDelta::MAX)
}

/// Extends the lease of a running job; false when the worker no longer holds it.
pub async fn renew(
    writer: &DatabaseConnection,
    held: &JobContext,
    lease: Duration,
) -> AppResult<bool> {
    let updated = job::Entity::update_many()
        .col_expr(
            job::Column::LockedUntil,
            Expr::value(lease_end(now(), lease)),
        )
        .filter(held.held())
        .exec(writer)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Marks a job done (if this attempt still holds it); `locked_by` keeps the worker
/// that ran it, `errors` its earlier failures, and `failed_at` is cleared (the job
/// is no longer a failure).
pub async fn complete(writer: &DatabaseConnection, held: &JobContext) -> AppResult<()> {
    mark_done().filter(held.held()).exec(writer).await?;
    Ok(())
}

/// The update that marks jobs done, for [`complete`] and [`complete_many`] to filter.
fn mark_done() -> sea_orm::UpdateMany<job::Entity> {
    job::Entity::update_many()
        .col_expr(job::Column::State, Expr::value(JobState::Done.as_str()))
        .col_expr(job::Column::FailedAt, Expr::value(None::<DateTime<Utc>>))
        .col_expr(job::Column::FinishedAt, Expr::value(now()))
        .col_expr(job::Column::LockedUntil, Expr::value(None::<DateTime<Utc>>))
}

/// Marks done the jobs `ids` that `worker_id` still runs, in one statement (see
/// [`complete`]). It cannot tell attempts apart: a job whose lease this worker lost
/// and then claimed again while the first attempt still ran is marked done by the
/// first attempt's end (its handler is idempotent, so nothing is lost).
pub async fn complete_many(
    writer: &DatabaseConnection,
    worker_id: &str,
    ids: &[String],
) -> AppResult<()> {
    mark_done()
        .filter(job::Column::LockedBy.eq(worker_id))
        .filter(job::Column::State.eq(JobState::Running.as_str()))
        .filter(job::Column::Id.is_in(ids))
        .exec(writer)
        .await?;
    Ok(())
}

/// One failed attempt, as recorded in a job's `errors`.
#[derive(
    Clone,
    Debug,
    PartialEq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    async_graphql::SimpleObject,
)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "JobAttemptError", complex)]
pub struct AttemptError {
    pub attempt: i32,
    #[graphql(skip)]
    pub at: DateTime<Utc>,
    pub error: String,
    /// When the next attempt was set to run (none when the job died).
    #[graphql(skip)]
    pub retry_at: Option<DateTime<Utc>>,
}

/// How long the job waits before attempt `attempt + 1`: `base · 2^(attempt-1)`,
/// at most an hour, ± 10% jitter so failures of one cause do not retry in lockstep.
pub fn backoff(base: Duration, attempt: i32) -> Duration {
    let exponent = Ord::min(
        u32::try_from(attempt.saturating_sub(1)).unwrap_or_default(),
        20,
    );
    let delay = base
        .saturating_mul(1 << exponent)
        .min(Duration::from_secs(3600));
    let jitter = rand::rng().random_range(0.9..=1.1);
    delay.mul_f64(jitter)
}

/// Records a failed attempt: the job is retried after [`backoff`], or dead when its
/// attempts ran out.
pub async fn fail(
    writer: &DatabaseConnection,
    held: &JobContext,
    row: &job::Model,
    error: &str,
    retry_base: Duration,
) -> AppResult<()> {
    let at = now();
    let dies = held.attempt >= row.max_attempts;
    let retry_at = (!dies).then(|| {
        let delay =
            TimeDelta::from_std(backoff(retry_base, held.attempt)).unwrap_or(TimeDelta::MAX);
        (at + delay).trunc_subsecs(6)
    });
    let mut errors: Vec<AttemptError> = serde_json::from_str(&row.errors).unwrap_or_default();
    errors.push(AttemptError {
        attempt: held.attempt,
        at,
        error: error.to_owned(),
        retry_at,
    });
    let errors = serde_json::to_string(&errors)
        .map_err(|err| AppError::Internal(format!("job errors: {err}")))?;
    let mut update = job::Entity::update_many()
        .col_expr(job::Column::Errors, Expr::value(errors))
        .col_expr(job::Column::LastError, Expr::value(error))
        .col_expr(job::Column::FailedAt, Expr::value(at))
        .col_expr(job::Column::LockedBy, Expr::value(None::<String>))
        .col_expr(job::Column::LockedUntil, Expr::value(None::<DateTime<Utc>>));
    update = match retry_at {
        Some(retry_at) => update
            .col_expr(
                job::Column::State,
                Expr::value(JobState::Available.as_str()),
            )
            .col_expr(job::Column::RunAt, Expr::value(retry_at)),
        None => update
            .col_expr(job::Column::State, Expr::value(JobState::Dead.as_str()))
            .col_expr(job::Column::FinishedAt, Expr::value(at)),
    };
    update.filter(held.held()).exec(writer).await?;
    Ok(())
}

/// Hands back every job `worker_id` still runs (at shutdown): they become available
/// at once, and the interrupted attempt does not count. Returns how many.
pub async fn hand_back(writer: &DatabaseConnection, worker_id: &str) -> AppResult<u64> {
    let result = job::Entity::update_many()
        .col_expr(
            job::Column::State,
            Expr::value(JobState::Available.as_str()),
        )
        .col_expr(job::Column::Attempt, Expr::col(job::Column::Attempt).sub(1))
        .col_expr(job::Column::RunAt, Expr::value(now()))
        .col_expr(job::Column::LockedBy, Expr::value(None::<String>))
        .col_expr(job::Column::LockedUntil, Expr::value(None::<DateTime<Utc>>))
        .filter(job::Column::LockedBy.eq(worker_id))
        .filter(job::Column::State.eq(JobState::Running.as_str()))
        .exec(writer)
        .await?;
    Ok(result.rows_affected)
}

/// Deletes jobs done before `done_before` and dead jobs finished before
/// `dead_before`; returns how many went.
pub async fn purge_finished(
    db: &impl ConnectionTrait,
    done_before: DateTime<Utc>,
    dead_before: DateTime<Utc>,
) -> AppResult<u64> {
    let finished = |state: JobState, before: DateTime<Utc>| {
        Condition::all()
            .add(job::Column::State.eq(state.as_str()))
            .add(job::Column::FinishedAt.lt(before))
    };
    let result = job::Entity::delete_many()
        .filter(
            Condition::any()
                .add(finished(JobState::Done, done_before))
                .add(finished(JobState::Dead, dead_before)),
        )
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// Frees the unique key of running job `job_id`, so a job with the same key can be
/// enqueued while this one runs (a coalescing job does, once it starts gathering).
pub async fn release_unique_key(db: &impl ConnectionTrait, job_id: &str) -> AppResult<()> {
    job::Entity::update_many()
        .col_expr(job::Column::UniqueKey, Expr::value(None::<String>))
        .filter(job::Column::Id.eq(job_id))
        .exec(db)
        .await?;
    Ok(())
}
