//! What a job does: one variant per kind, with its arguments (ids and small values),
//! and per kind its queue, maximum attempts and timeout.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Queue;
use crate::error::{AppError, AppResult};

/// A job: its kind and arguments.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "args", rename_all = "snake_case")]
pub enum Job {
    /// Notify the accounts `@mentioned` in a published post.
    NotifyPostMentions { post_id: String },
    /// Notify the accounts `@mentioned` in a comment.
    NotifyCommentMentions { comment_id: String },
    /// Send an administrator's SYSTEM notice to every active or pending account but
    /// the sender, in batches (resuming after the last batch stored).
    BroadcastSystemNotice {
        actor_id: String,
        title: String,
        message: String,
    },
    /// Delete expired refresh tokens and expired login lockouts.
    PurgeExpiredSessions,
    /// Delete read notifications past their type's retention.
    PurgeReadNotifications,
    /// Delete finished jobs past the retention period, and old schedule firings.
    PurgeFinishedJobs,
    /// Enqueues the weekly digest of every account, for the week before `week_of`.
    WeeklyDigest { week_of: DateTime<Utc> },
    /// One account's weekly digest.
    SendDigest {
        user_id: String,
        week_of: DateTime<Utc>,
    },
    /// Sends (or defers, or skips) one recorded mail.
    SendMail { mail_id: String },
    /// Mails one account its notifications of one type not mailed yet, coalesced.
    MailNotifications {
        user_id: String,
        notification_type: String,
    },
    /// Mails a password-reset link to the account at `email`, if there is one.
    SendPasswordReset { email: String },
    /// Processes a completed upload.
    ProcessMedia { media_id: String },
    /// Removes uploads never completed, with their bytes.
    PurgeAbandonedUploads,
    /// Checks the queue itself: waits `sleep_ms`, and fails its first
    /// `fail_attempts` attempts. Used by the queue's tests and benchmark.
    Probe { sleep_ms: u64, fail_attempts: u32 },
}

/// How a kind of job runs.
#[derive(Clone, Copy, Debug)]
pub struct JobSpec {
    pub queue: Queue,
    /// Attempts before the job is dead.
    pub max_attempts: i32,
    /// How long one attempt may run.
    pub timeout: Duration,
}

impl Job {
    /// The stored kind name.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::NotifyPostMentions { .. } => "notify_post_mentions",
            Self::NotifyCommentMentions { .. } => "notify_comment_mentions",
            Self::BroadcastSystemNotice { .. } => "broadcast_system_notice",
            Self::PurgeExpiredSessions => "purge_expired_sessions",
            Self::PurgeReadNotifications => "purge_read_notifications",
            Self::PurgeFinishedJobs => "purge_finished_jobs",
            Self::WeeklyDigest { .. } => "weekly_digest",
            Self::SendDigest { .. } => "send_digest",
            Self::SendMail { .. } => "send_mail",
            Self::MailNotifications { .. } => "mail_notifications",
            Self::SendPasswordReset { .. } => "send_password_reset",
            Self::ProcessMedia { .. } => "process_media",
            Self::PurgeAbandonedUploads => "purge_abandoned_uploads",
            Self::Probe { .. } => "probe",
        }
    }

    /// The queue, attempts and timeout of this kind.
    pub fn spec(&self) -> JobSpec {
        let spec = |queue, max_attempts, timeout_secs| JobSpec {
            queue,
            max_attempts,
            timeout: Duration::from_secs(timeout_secs),
        };
        match self {
            Self::NotifyPostMentions { .. } | Self::NotifyCommentMentions { .. } => {
                spec(Queue::Notifications, 10, 60)
            }
            Self::BroadcastSystemNotice { .. } => spec(Queue::Notifications, 10, 30 * 60),
            Self::PurgeExpiredSessions
            | Self::PurgeReadNotifications
            | Self::PurgeFinishedJobs
            | Self::PurgeAbandonedUploads => spec(Queue::Maintenance, 5, 10 * 60),
            Self::WeeklyDigest { .. } => spec(Queue::Email, 5, 60 * 60),
            Self::SendDigest { .. } | Self::MailNotifications { .. } => spec(Queue::Email, 10, 60),
            // Each transport has its own timeout; the job's covers trying them all.
            Self::SendMail { .. } => spec(Queue::Email, 12, 5 * 60),
            Self::SendPasswordReset { .. } => spec(Queue::Email, 10, 60),
            Self::ProcessMedia { .. } => spec(Queue::Media, 5, 5 * 60),
            Self::Probe { .. } => spec(Queue::Maintenance, 3, 60),
        }
    }

    /// The stored arguments (JSON; `null` for a kind without any).
    pub fn args(&self) -> AppResult<String> {
        let mut tagged = serde_json::to_value(self)
            .map_err(|err| AppError::Internal(format!("job {}: {err}", self.kind())))?;
        Ok(tagged
            .get_mut("args")
            .map(serde_json::Value::take)
            .unwrap_or_default()
            .to_string())
    }

    /// The job of a stored kind and arguments.
    pub fn from_stored(kind: &str, args: &str) -> AppResult<Self> {
        let args: serde_json::Value = serde_json::from_str(args)
            .map_err(|err| AppError::Internal(format!("job {kind}: arguments: {err}")))?;
        let tagged = if args.is_null() {
            serde_json::json!({ "kind": kind })
        } else {
            serde_json::json!({ "kind": kind, "args": args })
        };
        serde_json::from_value(tagged)
            .map_err(|err| AppError::Internal(format!("job {kind}: {err}")))
    }
}

#[cfg(test)]
mod tests {
    use super::Job;

    #[test]
    fn jobs_survive_their_stored_form() {
        for job in [
            Job::PurgeFinishedJobs,
            Job::NotifyPostMentions {
                post_id: "p1".to_owned(),
            },
            Job::Probe {
                sleep_ms: 5,
                fail_attempts: 1,
            },
        ] {
            let args = job.args().expect("serializes");
            assert_eq!(Job::from_stored(job.kind(), &args).expect("parses"), job);
        }
        assert!(Job::from_stored("no_such_kind", "null").is_err());
    }
}
