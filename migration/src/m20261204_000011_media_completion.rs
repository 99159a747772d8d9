//! `media.completion_started_at` marks an upload whose completion is under way: one
//! request claims the completion with a conditional update, so several completing the
//! same upload at once (a double click) check and move its file once. A claim older
//! than a minute (its server stopped) may be taken again.

use sea_orm_migration::prelude::*;

use crate::columns::{add_column, drop_column, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Media {
    Table,
    CompletionStartedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        add_column(
            manager,
            Media::Table,
            timestamp_null(Media::CompletionStartedAt),
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        drop_column(manager, Media::Table, Media::CompletionStartedAt).await
    }
}
