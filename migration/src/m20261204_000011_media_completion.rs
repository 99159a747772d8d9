//! `media.completion_started_at` marks an upload whose completion is under way: one
//! request claims the completion with a conditional update, so several completing the
//! same upload at once (a double click) check and move its file once. A claim older
//! than a minute (its server stopped) may be taken again.

use sea_orm_migration::prelude::*;

use crate::columns::timestamp_null;

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
        manager
            .alter_table(
                Table::alter()
                    .table(Media::Table)
                    .add_column(timestamp_null(Media::CompletionStartedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Media::Table)
                    .drop_column(Media::CompletionStartedAt)
                    .to_owned(),
            )
            .await
    }
}
