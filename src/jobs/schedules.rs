//! Cron schedules: each firing is recorded once in `schedule_firings` (its primary
//! key is the schedule and the fire time), in the transaction that enqueues its job,
//! so any number of instances enqueue a firing once. A firing missed while every
//! instance was down runs once when one comes back (only the latest missed firing:
//! a daily purge that missed three days runs once, not three times). A schedule seen
//! for the first time records its latest past firing without running it.

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use entity::schedule_firing;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::{Job, JobsConfig, NewJob, ScheduleSetting};
use crate::{
    domain::{effects::Write, now},
    error::AppResult,
    state::AppState,
};

/// How long firings are remembered (the latest of each schedule is what counts).
const FIRINGS_KEPT: TimeDelta = TimeDelta::days(90);
/// The scheduler looks again at least this often (schedules may change on restart,
/// and another instance may have fired).
const LONGEST_NAP: Duration = Duration::from_secs(60);

/// The job a firing at a time enqueues.
type JobOfFiring = fn(DateTime<Utc>) -> Job;

/// A configured schedule: its name, expression, and the job its firing enqueues.
#[derive(Clone, Debug)]
pub struct Schedule {
    pub name: &'static str,
    pub cron: cron::Schedule,
    job: JobOfFiring,
}

impl Schedule {
    /// A schedule of `job` (given the fire time), by `cron`.
    pub fn new(name: &'static str, cron: cron::Schedule, job: JobOfFiring) -> Self {
        Self { name, cron, job }
    }

    /// The latest fire time strictly before `now`.
    pub fn latest_due(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.after(&now).next_back()
    }

    /// The first fire time after `now`.
    pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron.after(&now).next()
    }
}

/// The enabled schedules of `config`.
pub fn configured(config: &JobsConfig) -> Vec<Schedule> {
    let settings: [(&'static str, &ScheduleSetting, JobOfFiring); 5] = [
        (
            "purge_expired_sessions",
            &config.schedule_purge_expired_sessions,
            |_| Job::PurgeExpiredSessions,
        ),
        (
            "purge_read_notifications",
            &config.schedule_purge_read_notifications,
            |_| Job::PurgeReadNotifications,
        ),
        (
            "purge_finished_jobs",
            &config.schedule_purge_finished_jobs,
            |_| Job::PurgeFinishedJobs,
        ),
        (
            "purge_abandoned_uploads",
            &config.schedule_purge_abandoned_uploads,
            |_| Job::PurgeAbandonedUploads,
        ),
        ("weekly_digest", &config.schedule_weekly_digest, |fire_at| {
            Job::WeeklyDigest { week_of: fire_at }
        }),
    ];
    settings
        .into_iter()
        .filter_map(|(name, setting, job)| {
            setting.0.clone().map(|cron| Schedule::new(name, cron, job))
        })
        .collect()
}

/// What happened to a schedule at one look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Firing {
    /// Its firing at this time enqueued a job (this instance fired it).
    Fired {
        fire_at: DateTime<Utc>,
        job_id: String,
    },
    /// Seen for the first time: its latest past firing is recorded, not run.
    Baseline { fire_at: DateTime<Utc> },
    /// Nothing due (or another instance fired it).
    NotDue,
}

/// Fires `schedule` if a firing is due at `now` and nobody fired it yet.
pub async fn fire_if_due(
    state: &AppState,
    schedule: &Schedule,
    now: DateTime<Utc>,
) -> AppResult<Firing> {
    let Some(due) = schedule.latest_due(now) else {
        return Ok(Firing::NotDue);
    };
    let mut write = Write::begin(state).await?;
    let last = last_firing(write.db(), schedule.name).await?;
    let job_id = match last {
        Some(last) if last >= due => return Ok(Firing::NotDue),
        Some(_) => {
            let job = NewJob::from((schedule.job)(due)).unique(format!(
                "schedule:{}:{}",
                schedule.name,
                due.to_rfc3339()
            ));
            match write.enqueue(job).await? {
                Some(id) => Some(id),
                None => return Ok(Firing::NotDue),
            }
        }
        None => None,
    };
    let recorded = schedule_firing::Entity::insert(schedule_firing::ActiveModel {
        schedule: Set(schedule.name.to_owned()),
        fire_at: Set(due),
        job_id: Set(job_id.clone()),
    })
    .on_conflict_do_nothing_on([
        schedule_firing::Column::Schedule,
        schedule_firing::Column::FireAt,
    ])
    .exec_without_returning(write.db())
    .await?;
    if !matches!(recorded, sea_orm::TryInsertResult::Inserted(1)) {
        // Another instance recorded this firing first; dropping the write rolls back
        // the job enqueued above.
        return Ok(Firing::NotDue);
    }
    write.commit().await?;
    Ok(match job_id {
        Some(job_id) => Firing::Fired {
            fire_at: due,
            job_id,
        },
        None => Firing::Baseline { fire_at: due },
    })
}

/// The latest recorded firing of `name`.
pub async fn last_firing(
    db: &impl ConnectionTrait,
    name: &str,
) -> AppResult<Option<DateTime<Utc>>> {
    Ok(schedule_firing::Entity::find()
        .select_only()
        .column(schedule_firing::Column::FireAt)
        .filter(schedule_firing::Column::Schedule.eq(name))
        .order_by_desc(schedule_firing::Column::FireAt)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?)
}

/// Forgets firings older than 90 days; returns how many went.
pub async fn purge_firings(db: &impl ConnectionTrait, now: DateTime<Utc>) -> AppResult<u64> {
    let result = schedule_firing::Entity::delete_many()
        .filter(schedule_firing::Column::FireAt.lt(now - FIRINGS_KEPT))
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// A schedule as monitoring shows it.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
#[graphql(name = "JobSchedule", complex)]
pub struct ScheduleView {
    pub name: String,
    /// The cron expression (sec min hour day month weekday, UTC).
    pub expression: String,
    #[graphql(skip)]
    pub last_fired_at: Option<DateTime<Utc>>,
    #[graphql(skip)]
    pub next_fire_at: Option<DateTime<Utc>>,
}

/// The configured schedules, with their last and next firings.
pub async fn views(state: &AppState) -> AppResult<Vec<ScheduleView>> {
    let now = now();
    let mut views = Vec::new();
    for schedule in configured(&state.config.jobs) {
        views.push(ScheduleView {
            name: schedule.name.to_owned(),
            expression: schedule.cron.source().to_owned(),
            last_fired_at: last_firing(&state.db, schedule.name).await?,
            next_fire_at: schedule.next_after(now),
        });
    }
    Ok(views)
}

/// Fires due schedules until `stop`, looking again at the next fire time (or a
/// minute, whichever comes first).
pub async fn run(state: AppState, stop: CancellationToken) {
    let schedules = configured(&state.config.jobs);
    if schedules.is_empty() {
        return;
    }
    loop {
        let now = now();
        for schedule in &schedules {
            match fire_if_due(&state, schedule, now).await {
                Ok(Firing::Fired { fire_at, job_id }) => {
                    tracing::info!(schedule = schedule.name, %fire_at, %job_id, "schedule fired");
                }
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(schedule = schedule.name, error = %err.detail(), "schedule not fired");
                }
            }
        }
        let nap = schedules
            .iter()
            .filter_map(|schedule| schedule.next_after(now))
            .min()
            .and_then(|next| (next - now).to_std().ok())
            .unwrap_or(LONGEST_NAP)
            .clamp(Duration::from_millis(200), LONGEST_NAP);
        tokio::select! {
            () = tokio::time::sleep(nap) => {}
            () = stop.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use chrono::{TimeZone, Utc};

    use super::{Job, Schedule};

    #[test]
    fn fire_times_follow_the_expression() {
        let weekly = Schedule::new(
            "weekly_digest",
            cron::Schedule::from_str("0 0 9 * * Mon").expect("cron"),
            |_| Job::PurgeFinishedJobs,
        );
        // Thursday 3 December 2026, 13:00 UTC.
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 13, 0, 0).unwrap();
        assert_eq!(
            weekly.latest_due(now),
            Some(Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap())
        );
        assert_eq!(
            weekly.next_after(now),
            Some(Utc.with_ymd_and_hms(2026, 12, 7, 9, 0, 0).unwrap())
        );
        let daily = Schedule::new(
            "purge",
            cron::Schedule::from_str("0 15 3 * * *").expect("cron"),
            |_| Job::PurgeFinishedJobs,
        );
        assert_eq!(
            daily.latest_due(now),
            Some(Utc.with_ymd_and_hms(2026, 12, 3, 3, 15, 0).unwrap())
        );
        assert_eq!(
            daily.next_after(now),
            Some(Utc.with_ymd_and_hms(2026, 12, 4, 3, 15, 0).unwrap())
        );
    }
}
