//! `jobs`: one row per background job, from its enqueueing to its purge. The server's
//! `jobs` module owns the states and their meaning.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "jobs")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub queue: String,
    pub kind: String,
    /// The job's arguments as JSON: ids and small values, never rows.
    pub args: String,
    /// `available`, `running`, `done` or `dead`.
    pub state: String,
    /// Attempts started so far (a claim starts one).
    pub attempt: i32,
    pub max_attempts: i32,
    pub timeout_ms: i64,
    /// When the job may run (next): now, later (delayed), or after a backoff.
    pub run_at: DateTimeUtc,
    #[sea_orm(unique)]
    pub unique_key: Option<String>,
    /// The worker holding the job while it runs (and, once done, the one that ran
    /// it), and until when.
    pub locked_by: Option<String>,
    pub locked_until: Option<DateTimeUtc>,
    /// Where a long job resumes after a retry (its handler's checkpoint, JSON).
    pub progress: Option<String>,
    /// Every failed attempt as a JSON array of `{attempt, at, error, retryAt}`.
    pub errors: String,
    pub last_error: Option<String>,
    /// When an attempt last failed (cleared when the job is done).
    pub failed_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub attempted_at: Option<DateTimeUtc>,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
