//! Accounts, sessions, categories, tags and posts.

use sea_orm_migration::prelude::*;

use crate::columns::{create_index, id_column, ref_column, text_null, timestamp, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
    Email,
    Username,
    UsernameLower,
    PasswordHash,
    Role,
    Status,
    Level,
    Experience,
    Image,
    Bio,
    EmailVerified,
    SessionVersion,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum LoginThrottles {
    Table,
    EmailLower,
    FailedAttempts,
    LockedUntil,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Profiles {
    Table,
    UserId,
    DisplayName,
    Location,
    Website,
    Twitter,
    Instagram,
    Youtube,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum RefreshTokens {
    Table,
    Id,
    UserId,
    FamilyId,
    TokenHash,
    ExpiresAt,
    CreatedAt,
    UsedAt,
    RevokedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Categories {
    Table,
    Id,
    Name,
    Slug,
    Description,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Tags {
    Table,
    Id,
    Name,
    Slug,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Posts {
    Table,
    Id,
    Slug,
    Title,
    Content,
    Excerpt,
    CoverImage,
    YoutubeVideoId,
    Published,
    PublishedAt,
    Views,
    CommentCount,
    ReactionCount,
    TrendingWeight,
    AuthorId,
    CategoryId,
    CreatedAt,
    UpdatedAt,
    DeletedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PostTags {
    Table,
    PostId,
    TagId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Users::Table)
                    .col(id_column(Users::Id))
                    .col(
                        ColumnDef::new(Users::Email)
                            .string()
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Users::Username).string_len(30).not_null())
                    .col(
                        ColumnDef::new(Users::UsernameLower)
                            .string_len(30)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Users::PasswordHash).string().not_null())
                    .col(ColumnDef::new(Users::Role).string_len(20).not_null())
                    .col(ColumnDef::new(Users::Status).string_len(24).not_null())
                    .col(ColumnDef::new(Users::Level).integer().not_null().default(1))
                    .col(
                        ColumnDef::new(Users::Experience)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(text_null(Users::Image))
                    .col(text_null(Users::Bio))
                    .col(
                        ColumnDef::new(Users::EmailVerified)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(
                        ColumnDef::new(Users::SessionVersion)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp(Users::CreatedAt))
                    .col(timestamp(Users::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        // Failed logins per email address, whether or not an account has it, so a
        // lockout never tells which addresses are registered.
        manager
            .create_table(
                Table::create()
                    .table(LoginThrottles::Table)
                    .col(
                        ColumnDef::new(LoginThrottles::EmailLower)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(LoginThrottles::FailedAttempts)
                            .integer()
                            .not_null()
                            .default(0),
                    )
                    .col(timestamp_null(LoginThrottles::LockedUntil))
                    .col(timestamp(LoginThrottles::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Profiles::Table)
                    .col(id_column(Profiles::UserId))
                    .col(text_null(Profiles::DisplayName))
                    .col(text_null(Profiles::Location))
                    .col(text_null(Profiles::Website))
                    .col(text_null(Profiles::Twitter))
                    .col(text_null(Profiles::Instagram))
                    .col(text_null(Profiles::Youtube))
                    .col(timestamp(Profiles::UpdatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Profiles::Table, Profiles::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .col(id_column(RefreshTokens::Id))
                    .col(ref_column(RefreshTokens::UserId))
                    .col(ref_column(RefreshTokens::FamilyId))
                    .col(
                        ColumnDef::new(RefreshTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(timestamp(RefreshTokens::ExpiresAt))
                    .col(timestamp(RefreshTokens::CreatedAt))
                    .col(timestamp_null(RefreshTokens::UsedAt))
                    .col(timestamp_null(RefreshTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            RefreshTokens::Table,
            "idx_refresh_tokens_user",
            &[RefreshTokens::UserId],
        )
        .await?;
        create_index(
            manager,
            RefreshTokens::Table,
            "idx_refresh_tokens_family",
            &[RefreshTokens::FamilyId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Categories::Table)
                    .col(id_column(Categories::Id))
                    .col(ColumnDef::new(Categories::Name).string_len(100).not_null())
                    .col(
                        ColumnDef::new(Categories::Slug)
                            .string_len(100)
                            .not_null()
                            .unique_key(),
                    )
                    .col(text_null(Categories::Description))
                    .col(timestamp(Categories::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Tags::Table)
                    .col(id_column(Tags::Id))
                    .col(ColumnDef::new(Tags::Name).string_len(50).not_null())
                    .col(
                        ColumnDef::new(Tags::Slug)
                            .string_len(50)
                            .not_null()
                            .unique_key(),
                    )
                    .col(timestamp(Tags::CreatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Posts::Table)
                    .col(id_column(Posts::Id))
                    .col(
                        ColumnDef::new(Posts::Slug)
                            .string_len(110)
                            .not_null()
                            .unique_key(),
                    )
                    .col(ColumnDef::new(Posts::Title).string_len(255).not_null())
                    .col(ColumnDef::new(Posts::Content).text().not_null())
                    .col(ColumnDef::new(Posts::Excerpt).string_len(500).null())
                    .col(text_null(Posts::CoverImage))
                    .col(ColumnDef::new(Posts::YoutubeVideoId).string_len(32).null())
                    .col(
                        ColumnDef::new(Posts::Published)
                            .boolean()
                            .not_null()
                            .default(false),
                    )
                    .col(timestamp_null(Posts::PublishedAt))
                    .col(
                        ColumnDef::new(Posts::Views)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Posts::CommentCount)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Posts::ReactionCount)
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .col(
                        ColumnDef::new(Posts::TrendingWeight)
                            .double()
                            .not_null()
                            .default(0.0),
                    )
                    .col(ref_column(Posts::AuthorId))
                    .col(ColumnDef::new(Posts::CategoryId).string_len(36).null())
                    .col(timestamp(Posts::CreatedAt))
                    .col(timestamp(Posts::UpdatedAt))
                    .col(timestamp_null(Posts::DeletedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Posts::Table, Posts::AuthorId)
                            .to(Users::Table, Users::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Posts::Table, Posts::CategoryId)
                            .to(Categories::Table, Categories::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // The public list: published, not deleted, newest first (optionally per category).
        create_index(
            manager,
            Posts::Table,
            "idx_posts_listing",
            &[
                Posts::Published,
                Posts::DeletedAt,
                Posts::PublishedAt,
                Posts::Id,
            ],
        )
        .await?;
        create_index(
            manager,
            Posts::Table,
            "idx_posts_category",
            &[Posts::CategoryId, Posts::PublishedAt],
        )
        .await?;
        create_index(
            manager,
            Posts::Table,
            "idx_posts_author",
            &[Posts::AuthorId, Posts::CreatedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PostTags::Table)
                    .col(ref_column(PostTags::PostId))
                    .col(ref_column(PostTags::TagId))
                    .primary_key(Index::create().col(PostTags::PostId).col(PostTags::TagId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(PostTags::Table, PostTags::PostId)
                            .to(Posts::Table, Posts::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(PostTags::Table, PostTags::TagId)
                            .to(Tags::Table, Tags::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            PostTags::Table,
            "idx_post_tags_tag",
            &[PostTags::TagId, PostTags::PostId],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PostTags::Table.into_iden(),
            Posts::Table.into_iden(),
            Tags::Table.into_iden(),
            Categories::Table.into_iden(),
            RefreshTokens::Table.into_iden(),
            Profiles::Table.into_iden(),
            LoginThrottles::Table.into_iden(),
            Users::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
