//! `comments`: threaded comments on posts (replies nest at most 5 levels). A comment
//! with replies is soft-deleted to "[deleted]" and keeps its place.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize, Deserialize)]
#[sea_orm(table_name = "comments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub post_id: String,
    pub author_id: String,
    pub parent_id: Option<String>,
    /// 0 for a top-level comment, parent's depth + 1 for a reply.
    pub depth: i32,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    /// Whole seconds into the post's video.
    pub youtube_timestamp: Option<i32>,
    pub edited: bool,
    pub edited_at: Option<DateTimeUtc>,
    pub deleted: bool,
    pub reply_count: i64,
    pub reaction_count: i64,
    /// Place in the post's live feed, in commit order (see `feed_positions`).
    pub feed_position: i64,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::post::Entity",
        from = "Column::PostId",
        to = "super::post::Column::Id",
        on_delete = "Cascade"
    )]
    Post,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::AuthorId",
        to = "super::user::Column::Id"
    )]
    Author,
}

impl Related<super::post::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Post.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
