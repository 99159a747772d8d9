//! `notifications`: what happened to a user. `dedupe_key` makes a notification for
//! the same event (a like removed and given again, a mention edited in) arrive once.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "notifications")]
pub struct Model {
    /// Time-sortable (UUIDv7): a stream resumes "after" an id.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub user_id: String,
    /// POST_LIKED, POST_COMMENTED, COMMENT_LIKED, USER_FOLLOWED, ACHIEVEMENT_UNLOCKED,
    /// LEVEL_UP, MENTION or SYSTEM.
    pub notification_type: String,
    pub title: String,
    pub message: String,
    pub actor_id: Option<String>,
    /// Links for the client (post id, comment id, …) as a JSON object.
    #[sea_orm(column_type = "Text")]
    pub data: String,
    pub dedupe_key: Option<String>,
    pub read: bool,
    pub read_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// Place in the user's live feed, in commit order (see `feed_positions`).
    pub feed_position: i64,
    /// When a mail told of it (none: not mailed yet).
    pub emailed_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl ActiveModelBehavior for ActiveModel {}
