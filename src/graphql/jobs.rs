//! The job queue for administrators: counts, failures and schedules, retry and
//! discard (the twins of `/api/admin/jobs`).

use async_graphql::{ComplexObject, Context, ID, Object, ResultExt};

use super::{context::ContextExt, types::Timestamp};
use crate::jobs::{
    monitor::{self, FailedJob, JobStats},
    queue::AttemptError,
    schedules::ScheduleView,
};

#[ComplexObject]
impl AttemptError {
    /// When the attempt failed.
    async fn at(&self) -> Timestamp {
        Timestamp(self.at)
    }

    /// When the next attempt was set to run (null when the job died).
    async fn retry_at(&self) -> Option<Timestamp> {
        self.retry_at.map(Timestamp)
    }
}

#[ComplexObject]
impl FailedJob {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }

    /// When an attempt last failed.
    async fn failed_at(&self) -> Option<Timestamp> {
        self.failed_at.map(Timestamp)
    }

    /// When a retrying job runs next.
    async fn run_at(&self) -> Timestamp {
        Timestamp(self.run_at)
    }
}

#[ComplexObject]
impl ScheduleView {
    /// The schedule's latest recorded firing.
    async fn last_fired_at(&self) -> Option<Timestamp> {
        self.last_fired_at.map(Timestamp)
    }

    /// Its next firing.
    async fn next_fire_at(&self) -> Option<Timestamp> {
        self.next_fire_at.map(Timestamp)
    }
}

/// The job queue, for administrators.
#[derive(Default)]
pub struct JobQuery;

#[Object]
impl JobQuery {
    /// ADMIN only: per queue counts, the latest failures and the schedules.
    async fn job_stats(&self, ctx: &Context<'_>) -> async_graphql::Result<JobStats> {
        monitor::stats(ctx.state()?, ctx.caller()?).await.extend()
    }
}

/// Retrying and discarding dead jobs.
#[derive(Default)]
pub struct JobMutation;

#[Object]
impl JobMutation {
    /// ADMIN only: runs a dead job again now, with one more attempt.
    async fn retry_job(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<FailedJob> {
        monitor::retry(ctx.state()?, ctx.caller()?, &id)
            .await
            .extend()
    }

    /// ADMIN only: deletes a dead job; answers its id.
    async fn discard_job(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<ID> {
        monitor::discard(ctx.state()?, ctx.caller()?, &id)
            .await
            .extend()?;
        Ok(id)
    }
}
