//! What a user does with their notifications (list, read, count), system broadcasts
//! by an administrator, and the expiry of read notifications.
//!
//! Storing one notification is [`super::notifications`]' job; mentions are
//! [`super::mentions`]'.

use chrono::{DateTime, TimeDelta, Utc};
use entity::{notification, user};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
    sea_query::{Expr, ExprTrait},
};
use serde::{Deserialize, Serialize};

use super::{
    effects::Write,
    feed_positions, new_id,
    notification_copy::Happening,
    notifications::NotificationType,
    now,
    pagination::{CursorPage, CursorSlice, CursorWindow},
    users::{self, AuthorSummary},
    validate::Validator,
};
use crate::{
    auth::{Caller, Role, UserStatus},
    error::{AppError, AppResult},
    jobs::{Job, JobContext},
    state::AppState,
};

/// Accounts notified per transaction of a broadcast.
const BROADCAST_BATCH: u64 = 500;
/// The pause between two batches of a broadcast.
const BROADCAST_PAUSE: std::time::Duration = std::time::Duration::from_millis(10);

/// A notification as REST shows it (the seed's `Notification`).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Notification")]
pub struct NotificationView {
    pub id: String,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub title: String,
    pub message: String,
    pub read: bool,
    /// Who caused it (null for system notifications).
    pub actor: Option<AuthorSummary>,
    /// Links for the client, e.g. `{"postId": …}`.
    pub data: serde_json::Map<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
}

/// The type of a stored notification.
pub fn kind_of(row: &notification::Model) -> AppResult<NotificationType> {
    NotificationType::parse(&row.notification_type).ok_or_else(|| {
        AppError::Internal(format!(
            "notification {} has unknown type {}",
            row.id, row.notification_type
        ))
    })
}

/// The `data` object of a stored notification (empty when it is not an object).
pub fn data_of(row: &notification::Model) -> serde_json::Map<String, serde_json::Value> {
    match serde_json::from_str(&row.data) {
        Ok(serde_json::Value::Object(data)) => data,
        _ => serde_json::Map::new(),
    }
}

/// The condition of unread notifications, `NOT "read"`. It is written without a bound
/// value so that it matches the condition of the partial index
/// `idx_notifications_unread_recent`: neither SQLite nor PostgreSQL's reusable plans
/// can use a partial index for `"read" = ?`.
fn unread() -> Expr {
    Expr::col((notification::Entity, notification::Column::Read)).not()
}

/// Which of the caller's notifications to list.
#[derive(Clone, Copy, Debug, Default)]
pub struct NotificationFilter {
    pub unread_only: bool,
}

/// One page of the caller's notifications, newest first.
pub async fn list(
    state: &AppState,
    caller: &Caller,
    filter: NotificationFilter,
    window: &CursorWindow<String>,
) -> AppResult<CursorSlice<notification::Model>> {
    let viewer = caller.viewer()?;
    let rows = page_query(&viewer.id, filter, window)
        .all(&state.db)
        .await?;
    Ok(CursorSlice::from_probe(rows, window.limit, |row| {
        row.id.clone()
    }))
}

/// The statement [`list`] runs for the notifications of `user_id`: newest first,
/// after the cursor, one more than the page.
pub fn page_query(
    user_id: &str,
    filter: NotificationFilter,
    window: &CursorWindow<String>,
) -> Select<notification::Entity> {
    let mut query = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    if filter.unread_only {
        query = query.filter(unread());
    }
    if let Some(after) = &window.after {
        query = query.filter(notification::Column::Id.lt(after.as_str()));
    }
    query
        .order_by_desc(notification::Column::Id)
        .limit(window.probe_limit())
}

/// [`list`] as REST shows it, with the actors loaded in one statement.
pub async fn list_page(
    state: &AppState,
    caller: &Caller,
    filter: NotificationFilter,
    window: &CursorWindow<String>,
) -> AppResult<CursorPage<NotificationView>> {
    let slice = list(state, caller, filter, window).await?;
    let actor_ids: Vec<String> = slice
        .rows
        .iter()
        .filter_map(|(_, row)| row.actor_id.clone())
        .collect();
    let actors = users::users_by_ids(&state.db, &actor_ids).await?;
    let slice = slice.try_map(|row| {
        Ok::<_, AppError>(NotificationView {
            kind: kind_of(&row)?,
            actor: row
                .actor_id
                .as_ref()
                .and_then(|id| actors.get(id))
                .map(AuthorSummary::from),
            data: data_of(&row),
            id: row.id,
            title: row.title,
            message: row.message,
            read: row.read,
            created_at: row.created_at,
        })
    })?;
    Ok(slice.into_page(|view| view))
}

/// Marks one of the caller's notifications read and returns it. Another user's
/// notification is not found, so ids do not leak.
pub async fn mark_read(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> AppResult<notification::Model> {
    let viewer = caller.viewer()?;
    let row = notification::Entity::find_by_id(id.to_owned())
        .filter(notification::Column::UserId.eq(&viewer.id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("Notification"))?;
    if row.read {
        return Ok(row);
    }
    let read_at = now();
    notification::Entity::update_many()
        .col_expr(notification::Column::Read, true.into())
        .col_expr(notification::Column::ReadAt, Some(read_at).into())
        .filter(notification::Column::Id.eq(&row.id))
        .exec(&state.writer)
        .await?;
    Ok(notification::Model {
        read: true,
        read_at: Some(read_at),
        ..row
    })
}

/// How many notifications a "mark all read" changed: `{updated}`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject,
)]
pub struct MarkedRead {
    pub updated: u64,
}

/// Marks every unread notification of the caller read.
pub async fn mark_all_read(state: &AppState, caller: &Caller) -> AppResult<MarkedRead> {
    let viewer = caller.viewer()?;
    let result = notification::Entity::update_many()
        .col_expr(notification::Column::Read, true.into())
        .col_expr(notification::Column::ReadAt, Some(now()).into())
        .filter(notification::Column::UserId.eq(&viewer.id))
        .filter(unread())
        .exec(&state.writer)
        .await?;
    Ok(MarkedRead {
        updated: result.rows_affected,
    })
}

/// How many unread notifications the caller has: `{count}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct UnreadCount {
    pub count: u64,
}

/// Counts the caller's unread notifications.
pub async fn unread_count(state: &AppState, caller: &Caller) -> AppResult<UnreadCount> {
    let viewer = caller.viewer()?;
    let count = notification::Entity::find()
        .filter(notification::Column::UserId.eq(&viewer.id))
        .filter(unread())
        .count(&state.db)
        .await?;
    Ok(UnreadCount { count })
}

/// A SYSTEM notification for everyone.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BroadcastInput {
    /// 1–200 characters.
    #[schemars(length(min = 1, max = 200))]
    pub title: String,
    /// 1–2,000 characters.
    #[schemars(length(min = 1, max = 2000))]
    pub message: String,
}

/// A broadcast on its way: how many accounts it goes to (counted when it was sent)
/// and the job delivering it: `{recipients, jobId}`.
#[derive(
    Clone, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject,
)]
#[serde(rename_all = "camelCase")]
pub struct Broadcast {
    pub recipients: u64,
    #[graphql(name = "jobId")]
    pub job_id: String,
}

/// The accounts a broadcast by `sender_id` reaches: every active or pending account
/// but the sender's.
fn broadcast_recipients(sender_id: &str) -> Select<user::Entity> {
    user::Entity::find()
        .filter(user::Column::Status.is_in([
            UserStatus::Active.as_str(),
            UserStatus::PendingVerification.as_str(),
        ]))
        .filter(user::Column::Id.ne(sender_id))
}

/// Sends a SYSTEM notification to every active or pending account but the caller,
/// who must be an ADMIN. The request only enqueues the delivery (a job of the
/// `notifications` queue, see [`deliver_broadcast`]), so a broadcast to any number of
/// accounts answers at once.
pub async fn broadcast(
    state: &AppState,
    caller: &Caller,
    input: BroadcastInput,
) -> AppResult<Broadcast> {
    let viewer = caller.viewer()?;
    if viewer.role != Role::Admin {
        return Err(AppError::Forbidden(
            "Only administrators may broadcast notifications",
        ));
    }
    let mut validator = Validator::default();
    validator.length("title", &input.title, 1, 200);
    validator.length("message", &input.message, 1, 2000);
    validator.finish()?;

    let recipients = broadcast_recipients(&viewer.id).count(&state.db).await?;
    let mut write = Write::begin(state).await?;
    let job_id = write
        .enqueue(Job::BroadcastSystemNotice {
            actor_id: viewer.id.clone(),
            title: input.title.trim().to_owned(),
            message: input.message.trim().to_owned(),
        })
        .await?
        .ok_or_else(|| AppError::Internal("a broadcast job was not enqueued".to_owned()))?;
    write.commit().await?;
    Ok(Broadcast { recipients, job_id })
}

/// Delivers a broadcast (the handler of [`Job::BroadcastSystemNotice`]): a batch of
/// recipients per transaction, in id order, each batch's last id checkpointed in the
/// same transaction, so an interrupted delivery resumes after the last batch stored
/// and nobody is notified twice.
pub async fn deliver_broadcast(
    state: &AppState,
    job: &JobContext,
    sender_id: &str,
    notice: Happening<'_>,
) -> AppResult<()> {
    let mut after = job.resumes_after();
    loop {
        let mut write = Write::begin(state).await?;
        let mut recipients = broadcast_recipients(sender_id)
            .select_only()
            .column(user::Column::Id);
        if let Some(after) = &after {
            recipients = recipients.filter(user::Column::Id.gt(after.as_str()));
        }
        let ids: Vec<String> = recipients
            .order_by_asc(user::Column::Id)
            .limit(BROADCAST_BATCH)
            .into_tuple()
            .all(write.db())
            .await?;
        let Some(last) = ids.last().cloned() else {
            return Ok(());
        };
        let feeds: Vec<String> = ids
            .iter()
            .map(|user_id| feed_positions::notifications_of(user_id))
            .collect();
        let positions = feed_positions::take_many(write.db(), &feeds).await?;
        let created_at = now();
        let rows = ids
            .into_iter()
            .zip(positions)
            .map(|(user_id, feed_position)| notification::Model {
                id: new_id(),
                user_id,
                notification_type: notice.kind().as_str().to_owned(),
                title: notice.title(),
                message: notice.message(),
                actor_id: Some(sender_id.to_owned()),
                data: "{}".to_owned(),
                dedupe_key: None,
                read: false,
                read_at: None,
                created_at,
                feed_position,
                emailed_at: None,
            })
            .collect();
        write.insert_notifications(rows).await?;
        job.done_up_to(write.db(), &last).await?;
        write.commit().await?;
        after = Some(last);
        // Lets live subscribers take this batch's events before the next: the bus
        // keeps a few thousand, and a broadcast may reach far more accounts.
        tokio::time::sleep(BROADCAST_PAUSE).await;
    }
}

/// Days a read notification is kept, for the types not kept the default time.
const RETENTION_DAYS: [(NotificationType, i64); 3] = [
    (NotificationType::System, 30),
    (NotificationType::AchievementUnlocked, 90),
    (NotificationType::LevelUp, 90),
];
/// Days every other read notification is kept.
const DEFAULT_RETENTION_DAYS: i64 = 7;

/// Deletes read notifications kept longer than their type's retention since they
/// were read (SYSTEM 30 days, ACHIEVEMENT_UNLOCKED and LEVEL_UP 90, the rest 7), in
/// one statement; returns how many went. The `purge_read_notifications` schedule
/// runs it daily.
pub async fn purge_expired(db: &impl ConnectionTrait) -> AppResult<u64> {
    let now = now();
    let read_before = |days: i64| {
        let cutoff = now - TimeDelta::days(days);
        Condition::any()
            .add(notification::Column::ReadAt.lt(cutoff))
            .add(
                Condition::all()
                    .add(notification::Column::ReadAt.is_null())
                    .add(notification::Column::CreatedAt.lt(cutoff)),
            )
    };
    let listed = RETENTION_DAYS.map(|(kind, _)| kind.as_str());
    let mut expired = Condition::any().add(
        Condition::all()
            .add(notification::Column::NotificationType.is_not_in(listed))
            .add(read_before(DEFAULT_RETENTION_DAYS)),
    );
    for (kind, days) in RETENTION_DAYS {
        expired = expired.add(
            Condition::all()
                .add(notification::Column::NotificationType.eq(kind.as_str()))
                .add(read_before(days)),
        );
    }
    let result = notification::Entity::delete_many()
        .filter(notification::Column::Read.eq(true))
        .filter(expired)
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}
