//! `media`: uploaded files, from the upload URL handed out to the processed file.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "media")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The uploader.
    pub user_id: String,
    /// The object's name in the storage.
    pub storage_key: String,
    /// The name the file was uploaded under.
    pub filename: String,
    /// The declared type (checked against the file's first bytes on completion).
    pub content_type: String,
    /// IMAGE, VIDEO or DOCUMENT.
    pub kind: String,
    pub declared_size: i64,
    /// The stored object's size, once completed.
    pub size: Option<i64>,
    pub sha256: Option<String>,
    /// PENDING, PROCESSING, READY or FAILED.
    pub status: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub blurhash: Option<String>,
    /// The image variants (JSON array).
    #[sea_orm(column_type = "Text")]
    pub variants: String,
    /// Why it failed.
    pub error: Option<String>,
    pub created_at: DateTimeUtc,
    /// When a request claimed the upload's completion (see the migration).
    pub completion_started_at: Option<DateTimeUtc>,
    pub completed_at: Option<DateTimeUtc>,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
