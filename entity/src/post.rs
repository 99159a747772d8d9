//! `posts`: articles. Soft-deleted through `deleted_at`. `comment_count`,
//! `reaction_count` and `tag_ids` are kept by the domain layer in the same
//! transaction as the rows they summarise, so lists never aggregate or join.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "posts")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    #[sea_orm(unique)]
    pub slug: String,
    pub title: String,
    #[sea_orm(column_type = "Text")]
    pub content: String,
    pub excerpt: Option<String>,
    pub cover_image: Option<String>,
    /// The uploaded image the cover is, if it is one of the author's uploads.
    pub cover_media_id: Option<String>,
    pub youtube_video_id: Option<String>,
    pub published: bool,
    pub published_at: Option<DateTimeUtc>,
    pub views: i64,
    pub comment_count: i64,
    pub reaction_count: i64,
    /// `e^(0.1 · days from 2020-01-01 to publication)`: multiplying the popularity
    /// score by it ranks posts exactly as the trending decay `e^(−0.1 · age)` does.
    pub trending_weight: f64,
    pub author_id: String,
    pub category_id: Option<String>,
    /// Ids of the post's tags, comma-separated (ids never hold a comma). The domain
    /// layer writes them in the same transaction as the `post_tags` links, which tag
    /// filters search; showing a post's tags reads only this column.
    #[sea_orm(column_type = "Text")]
    pub tag_ids: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub deleted_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::AuthorId",
        to = "super::user::Column::Id"
    )]
    Author,
    #[sea_orm(
        belongs_to = "super::category::Entity",
        from = "Column::CategoryId",
        to = "super::category::Column::Id",
        on_delete = "SetNull"
    )]
    Category,
    #[sea_orm(has_many = "super::post_tag::Entity")]
    PostTag,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Author.def()
    }
}

impl Related<super::category::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Category.def()
    }
}

impl Related<super::tag::Entity> for Entity {
    fn to() -> RelationDef {
        super::post_tag::Relation::Tag.def()
    }
    fn via() -> Option<RelationDef> {
        Some(super::post_tag::Relation::Post.def().rev())
    }
}

impl ActiveModelBehavior for ActiveModel {}
