//! Notifications: stored per user and deduplicated. A write stores them through
//! [`super::effects::Write::notify`], which announces them once the write commits, so
//! a subscriber never hears of a notification that was rolled back.

use entity::notification;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
};
use serde::{Deserialize, Serialize};

use super::{feed_positions, new_id, notification_copy::Happening, now};
use crate::error::AppResult;

/// What a notification is about.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
    async_graphql::Enum,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[graphql(rename_items = "SCREAMING_SNAKE_CASE")]
pub enum NotificationType {
    PostLiked,
    PostCommented,
    CommentLiked,
    UserFollowed,
    AchievementUnlocked,
    LevelUp,
    Mention,
    System,
}

impl NotificationType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PostLiked => "POST_LIKED",
            Self::PostCommented => "POST_COMMENTED",
            Self::CommentLiked => "COMMENT_LIKED",
            Self::UserFollowed => "USER_FOLLOWED",
            Self::AchievementUnlocked => "ACHIEVEMENT_UNLOCKED",
            Self::LevelUp => "LEVEL_UP",
            Self::Mention => "MENTION",
            Self::System => "SYSTEM",
        }
    }

    /// Parses a stored name.
    pub fn parse(stored: &str) -> Option<Self> {
        [
            Self::PostLiked,
            Self::PostCommented,
            Self::CommentLiked,
            Self::UserFollowed,
            Self::AchievementUnlocked,
            Self::LevelUp,
            Self::Mention,
            Self::System,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == stored)
    }
}

/// A notification to store.
#[derive(Clone, Debug)]
pub struct NewNotification {
    /// Who is notified.
    pub user_id: String,
    pub kind: NotificationType,
    /// Who caused it (never the notified user: such notifications are dropped).
    pub actor_id: Option<String>,
    pub title: String,
    pub message: String,
    /// Links for the client, e.g. `{"postId": …, "commentId": …}`.
    pub data: serde_json::Value,
    /// Events with the same key notify the user once, e.g. `POST_LIKED:<post>:<actor>`.
    pub dedupe_key: Option<String>,
}

impl NewNotification {
    /// A notification for `user_id` about `happening`, caused by `actor_id`, in the
    /// words of [`Happening`].
    pub fn about(
        happening: &Happening<'_>,
        user_id: &str,
        actor_id: Option<&str>,
        data: serde_json::Value,
    ) -> Self {
        Self {
            user_id: user_id.to_owned(),
            kind: happening.kind(),
            actor_id: actor_id.map(str::to_owned),
            title: happening.title(),
            message: happening.message(),
            data,
            dedupe_key: None,
        }
    }

    /// The notification, sent once per `key` and user.
    pub fn once_per(mut self, key: String) -> Self {
        self.dedupe_key = Some(key);
        self
    }
}

/// Stores `new` unless it is about the user's own action or a duplicate; returns
/// the stored row. Writes call it through [`super::effects::Write::notify`]; notifying
/// several users in one transaction, notify them in user-id order (see
/// [`feed_positions`]).
pub async fn notify(
    db: &impl ConnectionTrait,
    new: NewNotification,
) -> AppResult<Option<notification::Model>> {
    if new.actor_id.as_deref() == Some(new.user_id.as_str()) {
        return Ok(None);
    }
    if let Some(key) = &new.dedupe_key {
        // Sent already: no position is taken (a gap would make streams replay).
        let sent = notification::Entity::find()
            .filter(notification::Column::UserId.eq(&new.user_id))
            .filter(notification::Column::DedupeKey.eq(key))
            .count(db)
            .await?;
        if sent > 0 {
            return Ok(None);
        }
    }
    let feed_position =
        feed_positions::take(db, &feed_positions::notifications_of(&new.user_id)).await?;
    let row = notification::Model {
        id: new_id(),
        user_id: new.user_id,
        notification_type: new.kind.as_str().to_owned(),
        title: new.title,
        message: new.message,
        actor_id: new.actor_id,
        data: new.data.to_string(),
        dedupe_key: new.dedupe_key,
        read: false,
        read_at: None,
        created_at: now(),
        feed_position,
        emailed_at: None,
    };
    let active = notification::ActiveModel {
        id: Set(row.id.clone()),
        user_id: Set(row.user_id.clone()),
        notification_type: Set(row.notification_type.clone()),
        title: Set(row.title.clone()),
        message: Set(row.message.clone()),
        actor_id: Set(row.actor_id.clone()),
        data: Set(row.data.clone()),
        dedupe_key: Set(row.dedupe_key.clone()),
        read: Set(false),
        read_at: Set(None),
        created_at: Set(row.created_at),
        feed_position: Set(row.feed_position),
        emailed_at: Set(None),
    };
    let inserted = notification::Entity::insert(active)
        .on_conflict_do_nothing_on([
            notification::Column::UserId,
            notification::Column::DedupeKey,
        ])
        .exec_without_returning(db)
        .await?;
    Ok(matches!(inserted, sea_orm::TryInsertResult::Inserted(1)).then_some(row))
}
