//! Comments, reactions, follows and notifications.

use sea_orm_migration::prelude::*;

use crate::columns::{create_index, id_column, ref_column, timestamp, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Comments {
    Table,
    Id,
    PostId,
    AuthorId,
    ParentId,
    Depth,
    Content,
    YoutubeTimestamp,
    Edited,
    EditedAt,
    Deleted,
    ReplyCount,
    ReactionCount,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Reactions {
    Table,
    Id,
    UserId,
    TargetType,
    TargetId,
    ReactionType,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Follows {
    Table,
    FollowerId,
    FollowingId,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Notifications {
    Table,
    Id,
    UserId,
    NotificationType,
    Title,
    Message,
    ActorId,
    Data,
    DedupeKey,
    Read,
    ReadAt,
    CreatedAt,
}

fn counter<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .big_integer()
        .not_null()
        .default(0)
        .to_owned()
}

fn flag<T: IntoIden>(name: T) -> ColumnDef {
    ColumnDef::new(name)
        .boolean()
        .not_null()
        .default(false)
        .to_owned()
}

fn belongs_to_user<T: IntoIden + 'static, C: IntoIden + 'static>(
    table: T,
    column: C,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(table, column)
        .to(Users::Table, Users::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Comments::Table)
                    .col(id_column(Comments::Id))
                    .col(ref_column(Comments::PostId))
                    .col(ref_column(Comments::AuthorId))
                    .col(ColumnDef::new(Comments::ParentId).string_len(36).null())
                    .col(
                        ColumnDef::new(Comments::Depth)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(ColumnDef::new(Comments::Content).text().not_null())
                    .col(ColumnDef::new(Comments::YoutubeTimestamp).integer().null())
                    .col(flag(Comments::Edited))
                    .col(timestamp_null(Comments::EditedAt))
                    .col(flag(Comments::Deleted))
                    .col(counter(Comments::ReplyCount))
                    .col(counter(Comments::ReactionCount))
                    .col(timestamp(Comments::CreatedAt))
                    .col(timestamp(Comments::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(&mut belongs_to_user(Comments::Table, Comments::AuthorId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Comments::Table, Comments::ParentId)
                            .to(Comments::Table, Comments::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Top-level comments of a post and replies of a comment, in id (time) order.
        create_index(
            manager,
            Comments::Table,
            "idx_comments_post_thread",
            &[Comments::PostId, Comments::ParentId, Comments::Id],
        )
        .await?;
        create_index(
            manager,
            Comments::Table,
            "idx_comments_parent",
            &[Comments::ParentId, Comments::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Reactions::Table)
                    .col(id_column(Reactions::Id))
                    .col(ref_column(Reactions::UserId))
                    .col(
                        ColumnDef::new(Reactions::TargetType)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ref_column(Reactions::TargetId))
                    .col(
                        ColumnDef::new(Reactions::ReactionType)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(timestamp(Reactions::CreatedAt))
                    .foreign_key(&mut belongs_to_user(Reactions::Table, Reactions::UserId))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_reactions_user_target")
                    .table(Reactions::Table)
                    .col(Reactions::UserId)
                    .col(Reactions::TargetType)
                    .col(Reactions::TargetId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            Reactions::Table,
            "idx_reactions_target",
            &[
                Reactions::TargetType,
                Reactions::TargetId,
                Reactions::ReactionType,
            ],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Follows::Table)
                    .col(ref_column(Follows::FollowerId))
                    .col(ref_column(Follows::FollowingId))
                    .col(timestamp(Follows::CreatedAt))
                    .primary_key(
                        Index::create()
                            .col(Follows::FollowerId)
                            .col(Follows::FollowingId),
                    )
                    .foreign_key(&mut belongs_to_user(Follows::Table, Follows::FollowerId))
                    .foreign_key(&mut belongs_to_user(Follows::Table, Follows::FollowingId))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            Follows::Table,
            "idx_follows_following",
            &[Follows::FollowingId, Follows::CreatedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Notifications::Table)
                    .col(id_column(Notifications::Id))
                    .col(ref_column(Notifications::UserId))
                    .col(
                        ColumnDef::new(Notifications::NotificationType)
                            .string_len(32)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Notifications::Title).string().not_null())
                    .col(ColumnDef::new(Notifications::Message).text().not_null())
                    .col(ColumnDef::new(Notifications::ActorId).string_len(36).null())
                    .col(ColumnDef::new(Notifications::Data).text().not_null())
                    .col(ColumnDef::new(Notifications::DedupeKey).string().null())
                    .col(flag(Notifications::Read))
                    .col(timestamp_null(Notifications::ReadAt))
                    .col(timestamp(Notifications::CreatedAt))
                    .foreign_key(&mut belongs_to_user(
                        Notifications::Table,
                        Notifications::UserId,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("uq_notifications_dedupe")
                    .table(Notifications::Table)
                    .col(Notifications::UserId)
                    .col(Notifications::DedupeKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            Notifications::Table,
            "idx_notifications_user",
            &[Notifications::UserId, Notifications::Id],
        )
        .await?;
        create_index(
            manager,
            Notifications::Table,
            "idx_notifications_unread",
            &[
                Notifications::UserId,
                Notifications::Read,
                Notifications::Id,
            ],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            Notifications::Table.into_iden(),
            Follows::Table.into_iden(),
            Reactions::Table.into_iden(),
            Comments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
