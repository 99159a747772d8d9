//! One handler per kind of job: each is a domain function (idempotent, see the
//! module rules in [`super`]).

use std::time::Duration;

use chrono::TimeDelta;

use super::{Job, JobContext, queue, schedules};
use crate::{
    domain::{
        account_email, digest, mentions, notification_copy::Happening, notification_feed,
        notification_mail, now, sessions,
    },
    error::{AppError, AppResult},
    mail::{limits, outbox},
    media::uploads,
    state::AppState,
};

/// Runs one attempt of `job`.
pub async fn run(state: &AppState, context: &JobContext, job: Job) -> AppResult<()> {
    match job {
        Job::NotifyPostMentions { post_id } => {
            mentions::notify_post_mentions(state, &post_id).await
        }
        Job::NotifyCommentMentions { comment_id } => {
            mentions::notify_comment_mentions(state, &comment_id).await
        }
        Job::BroadcastSystemNotice {
            actor_id,
            title,
            message,
        } => {
            let notice = Happening::SystemNotice {
                title: &title,
                message: &message,
            };
            notification_feed::deliver_broadcast(state, context, &actor_id, notice).await
        }
        Job::PurgeExpiredSessions => {
            let purged = sessions::purge_expired(&state.writer).await?;
            let email_tokens = account_email::purge_expired_tokens(&state.writer).await?;
            tracing::info!(
                refresh_tokens = purged.refresh_tokens,
                login_throttles = purged.login_throttles,
                email_tokens,
                "purged expired sessions"
            );
            Ok(())
        }
        Job::PurgeReadNotifications => {
            let purged = notification_feed::purge_expired(&state.writer).await?;
            tracing::info!(notifications = purged, "purged read notifications");
            Ok(())
        }
        Job::PurgeFinishedJobs => {
            let jobs = &state.config.jobs;
            let now = now();
            let hours = |hours: u64| TimeDelta::hours(i64::try_from(hours).unwrap_or(i64::MAX));
            let purged = queue::purge_finished(
                &state.writer,
                now - hours(jobs.job_retention_hours),
                now - hours(jobs.dead_job_retention_hours),
            )
            .await?;
            let firings = schedules::purge_firings(&state.writer, now).await?;
            let mail_counters = limits::purge_counters(&state.writer).await?;
            tracing::info!(
                jobs = purged,
                firings,
                mail_counters,
                "purged finished jobs"
            );
            Ok(())
        }
        Job::WeeklyDigest { week_of } => digest::fan_out(state, context, week_of).await,
        Job::SendDigest { user_id, week_of } => digest::send_digest(state, &user_id, week_of).await,
        Job::SendMail { mail_id } => outbox::deliver(state, &mail_id).await,
        Job::MailNotifications {
            user_id,
            notification_type,
        } => {
            notification_mail::mail_notifications(state, context, &user_id, &notification_type)
                .await
        }
        Job::SendPasswordReset { email } => account_email::send_password_reset(state, &email).await,
        Job::ProcessMedia { media_id } => uploads::process(state, &media_id).await,
        Job::PurgeAbandonedUploads => {
            let purged = uploads::purge_abandoned(state).await?;
            tracing::info!(uploads = purged, "purged abandoned uploads");
            Ok(())
        }
        Job::Probe {
            sleep_ms,
            fail_attempts,
        } => {
            // A zero sleep would still wait for the timer's next tick (a millisecond).
            if sleep_ms > 0 {
                tokio::time::sleep(Duration::from_millis(sleep_ms)).await;
            }
            if u32::try_from(context.attempt).unwrap_or(u32::MAX) <= fail_attempts {
                return Err(AppError::Internal(format!(
                    "probe fails attempt {} of its first {fail_attempts}",
                    context.attempt
                )));
            }
            Ok(())
        }
    }
}
