//! Uploaded files. A row is made when an upload URL is handed out (PENDING), and
//! follows the file through completion (PROCESSING) to READY or FAILED. `storage_key`
//! names the object in the storage; `sha256` finds identical bytes uploaded before.

use sea_orm_migration::prelude::*;

use crate::columns::{create_index, id_column, ref_column, text_null, timestamp, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Clone, DeriveIden)]
enum Media {
    Table,
    Id,
    UserId,
    StorageKey,
    Filename,
    ContentType,
    Kind,
    DeclaredSize,
    Size,
    Sha256,
    Status,
    Width,
    Height,
    Blurhash,
    Variants,
    Error,
    CreatedAt,
    CompletedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Media::Table)
                    .col(id_column(Media::Id))
                    .col(ref_column(Media::UserId))
                    .col(ColumnDef::new(Media::StorageKey).string().not_null())
                    .col(ColumnDef::new(Media::Filename).string().not_null())
                    .col(ColumnDef::new(Media::ContentType).string_len(64).not_null())
                    .col(ColumnDef::new(Media::Kind).string_len(16).not_null())
                    .col(ColumnDef::new(Media::DeclaredSize).big_integer().not_null())
                    .col(ColumnDef::new(Media::Size).big_integer().null())
                    .col(ColumnDef::new(Media::Sha256).string_len(64).null())
                    .col(ColumnDef::new(Media::Status).string_len(16).not_null())
                    .col(ColumnDef::new(Media::Width).integer().null())
                    .col(ColumnDef::new(Media::Height).integer().null())
                    .col(text_null(Media::Blurhash))
                    .col(ColumnDef::new(Media::Variants).text().not_null())
                    .col(text_null(Media::Error))
                    .col(timestamp(Media::CreatedAt))
                    .col(timestamp_null(Media::CompletedAt))
                    .col(timestamp(Media::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            Media::Table,
            "idx_media_user",
            &[Media::UserId, Media::CreatedAt],
        )
        .await?;
        create_index(manager, Media::Table, "idx_media_sha256", &[Media::Sha256]).await?;
        create_index(
            manager,
            Media::Table,
            "idx_media_status",
            &[Media::Status, Media::CreatedAt],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Media::Table).to_owned())
            .await
    }
}
