//! Mail about notifications, coalesced: a stored notification schedules one job per
//! recipient and type, a window later ([`MAIL_COALESCE_SECS`]); notifications of that
//! type arriving meanwhile join the same mail. The job claims the recipient's
//! notifications not yet mailed (marking them, in the transaction that queues the
//! mail), so each is told of once, and none is mailed later than its own job.
//!
//! [`MAIL_COALESCE_SECS`]: crate::mail::MailConfig::mail_coalesce_secs

use chrono::TimeDelta;
use entity::{notification, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, sea_query::Expr};

use super::{effects::Write, notifications::NotificationType, now};
use crate::{
    error::AppResult,
    jobs::{Job, JobContext, NewJob, queue},
    mail::{
        MailCategory, MailContent,
        content::NotificationItem,
        outbox::{self, queue_mail},
    },
    state::AppState,
};

/// Notifications older than this are not mailed any more (they were seen, or the
/// user did not want mail when they came).
const MAILED_WITHIN: TimeDelta = TimeDelta::days(1);

/// Schedules the mail about `user_id`'s notifications of `notification_type`, unless
/// one is scheduled already (its unique key holds until its job starts).
pub async fn schedule(
    write: &mut Write<'_>,
    user_id: &str,
    notification_type: &str,
) -> AppResult<()> {
    let window = write.state().config.mail.coalesce_window();
    let job = Job::MailNotifications {
        user_id: user_id.to_owned(),
        notification_type: notification_type.to_owned(),
    };
    let key = format!("mail_notifications:{user_id}:{notification_type}");
    write
        .enqueue(NewJob::from(job).at(now() + window).unique(key))
        .await?;
    Ok(())
}

/// The `mail_notifications` job: one mail about the recipient's notifications of one
/// type not mailed yet, if the recipient wants such mail.
pub async fn mail_notifications(
    state: &AppState,
    context: &JobContext,
    user_id: &str,
    notification_type: &str,
) -> AppResult<()> {
    // From now on a new notification schedules a new job: this one may miss it.
    queue::release_unique_key(&state.queue_db, &context.id).await?;
    let Some(kind) = NotificationType::parse(notification_type) else {
        return Ok(());
    };
    let Some(account) = user::Entity::find_by_id(user_id.to_owned())
        .one(&state.writer)
        .await?
    else {
        return Ok(());
    };
    let category = MailCategory::of_notification(kind);
    let refused = outbox::refusal(state, &account, Some(category))
        .await?
        .is_some();
    let mut write = Write::begin(state).await?;
    let pending = notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::NotificationType.eq(notification_type))
        .filter(notification::Column::EmailedAt.is_null())
        .filter(notification::Column::Read.eq(false))
        .filter(notification::Column::CreatedAt.gt(now() - MAILED_WITHIN))
        .order_by_asc(notification::Column::Id)
        .all(write.db())
        .await?;
    if pending.is_empty() {
        return Ok(());
    }
    // Claimed whether or not mailed: a notification that came while such mail was
    // unwanted (or the account could not get mail) is never mailed later.
    let ids: Vec<String> = pending.iter().map(|row| row.id.clone()).collect();
    notification::Entity::update_many()
        .col_expr(notification::Column::EmailedAt, Expr::value(now()))
        .filter(notification::Column::Id.is_in(ids))
        .exec(write.db())
        .await?;
    if refused {
        return write.commit().await;
    }
    let items = pending
        .iter()
        .map(|row| NotificationItem {
            title: row.title.clone(),
            message: row.message.clone(),
            url: state.mail.app_link(&link_path(row)),
        })
        .collect();
    let content = MailContent::Notifications {
        notification_type: kind,
        items,
    };
    queue_mail(&mut write, user_id, &account.email, &content, None).await?;
    write.commit().await
}

/// Where a notification leads in the web app: its post (and comment), the profile
/// of a new follower, or the notification list.
fn link_path(row: &notification::Model) -> String {
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap_or_default();
    let text = |key: &str| data.get(key).and_then(serde_json::Value::as_str);
    match (text("postId"), text("commentId"), text("userId")) {
        (Some(post), Some(comment), _) => format!("/posts/{post}#comment-{comment}"),
        (Some(post), None, _) => format!("/posts/{post}"),
        (None, _, Some(user)) => format!("/users/{user}"),
        _ => "/notifications".to_owned(),
    }
}
