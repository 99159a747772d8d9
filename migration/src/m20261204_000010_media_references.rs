//! A post's cover and an account's avatar may be one of its owner's uploaded images:
//! `posts.cover_media_id` and `users.image_media_id` name the media row (the URL
//! columns beside them keep its address, as they keep an outside URL). Deleting the
//! upload clears them; the indexes find the rows to clear.

use sea_orm_migration::prelude::*;

use crate::columns::{add_column, create_index, drop_column};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Clone, DeriveIden)]
enum Posts {
    Table,
    CoverMediaId,
}

#[derive(Clone, DeriveIden)]
enum Users {
    Table,
    ImageMediaId,
}

/// The new columns: table, column and the index on it.
fn references() -> [(DynIden, DynIden, &'static str); 2] {
    [
        (
            Posts::Table.into_iden(),
            Posts::CoverMediaId.into_iden(),
            "idx_posts_cover_media",
        ),
        (
            Users::Table.into_iden(),
            Users::ImageMediaId.into_iden(),
            "idx_users_image_media",
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, index) in references() {
            add_column(
                manager,
                table.clone(),
                ColumnDef::new(column.clone())
                    .string_len(36)
                    .null()
                    .to_owned(),
            )
            .await?;
            create_index(manager, table, index, &[column]).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (table, column, index) in references() {
            manager
                .drop_index(Index::drop().name(index).table(table.clone()).to_owned())
                .await?;
            drop_column(manager, table, column).await?;
        }
        Ok(())
    }
}
