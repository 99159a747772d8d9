//! Email: single-use account tokens, per-user mail preferences, the outgoing mail
//! record and the sending counters behind the mail limits.
//!
//! `email_tokens` holds the SHA-256 of each verification, reset and address-change
//! token (never the token), its purpose, expiry and use.
//!
//! `email_preferences` holds a user's choices; an account without a row has the
//! defaults.
//!
//! `mails` records every mail from the moment it is queued: what it is (`kind`, its
//! preference `category`, whether it is `transactional`), its template data, where it
//! went and what became of it, with the links it carried (the only URLs its click
//! redirects may lead to) and its open and click counts. `dedupe_key` keeps a mail
//! (a user's weekly digest) from being queued twice.
//!
//! `mail_counters` counts mails per scope (one recipient, or all) and window (a day,
//! an hour); the limits reserve a slot with one conditional upsert.
//!
//! `notifications.emailed_at` marks the notifications a mail has told of, so a
//! coalesced mail tells of each once.

use sea_orm_migration::prelude::*;

use crate::columns::{create_index, id_column, ref_column, text_null, timestamp, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Clone, DeriveIden)]
enum EmailTokens {
    Table,
    Id,
    UserId,
    Purpose,
    TokenHash,
    NewEmail,
    ExpiresAt,
    UsedAt,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EmailPreferences {
    Table,
    UserId,
    Follows,
    Comments,
    Mentions,
    Likes,
    Achievements,
    System,
    Digest,
    UpdatedAt,
}

#[derive(Clone, DeriveIden)]
enum Mails {
    Table,
    Id,
    UserId,
    ToAddress,
    Kind,
    Category,
    Transactional,
    Data,
    DedupeKey,
    Status,
    Transport,
    Links,
    OpenCount,
    ClickCount,
    OpenedAt,
    ClickedAt,
    CreatedAt,
    SentAt,
}

#[derive(DeriveIden)]
enum MailCounters {
    Table,
    Scope,
    WindowStart,
    Count,
}

#[derive(DeriveIden)]
enum Notifications {
    Table,
    EmailedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(EmailTokens::Table)
                    .col(id_column(EmailTokens::Id))
                    .col(ref_column(EmailTokens::UserId))
                    .col(
                        ColumnDef::new(EmailTokens::Purpose)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(EmailTokens::TokenHash)
                            .string_len(64)
                            .not_null()
                            .unique_key(),
                    )
                    .col(text_null(EmailTokens::NewEmail))
                    .col(timestamp(EmailTokens::ExpiresAt))
                    .col(timestamp_null(EmailTokens::UsedAt))
                    .col(timestamp(EmailTokens::CreatedAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            EmailTokens::Table,
            "idx_email_tokens_user",
            &[EmailTokens::UserId, EmailTokens::Purpose],
        )
        .await?;
        let flag = |name: EmailPreferences| ColumnDef::new(name).boolean().not_null().to_owned();
        manager
            .create_table(
                Table::create()
                    .table(EmailPreferences::Table)
                    .col(
                        ColumnDef::new(EmailPreferences::UserId)
                            .string_len(36)
                            .not_null()
                            .primary_key(),
                    )
                    .col(flag(EmailPreferences::Follows))
                    .col(flag(EmailPreferences::Comments))
                    .col(flag(EmailPreferences::Mentions))
                    .col(flag(EmailPreferences::Likes))
                    .col(flag(EmailPreferences::Achievements))
                    .col(flag(EmailPreferences::System))
                    .col(flag(EmailPreferences::Digest))
                    .col(timestamp(EmailPreferences::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Mails::Table)
                    .col(id_column(Mails::Id))
                    .col(ref_column(Mails::UserId))
                    .col(ColumnDef::new(Mails::ToAddress).string().not_null())
                    .col(ColumnDef::new(Mails::Kind).string_len(32).not_null())
                    .col(ColumnDef::new(Mails::Category).string_len(16).null())
                    .col(ColumnDef::new(Mails::Transactional).boolean().not_null())
                    .col(ColumnDef::new(Mails::Data).text().not_null())
                    .col(text_null(Mails::DedupeKey).unique_key())
                    .col(ColumnDef::new(Mails::Status).string_len(16).not_null())
                    .col(text_null(Mails::Transport))
                    .col(ColumnDef::new(Mails::Links).text().not_null())
                    .col(ColumnDef::new(Mails::OpenCount).integer().not_null())
                    .col(ColumnDef::new(Mails::ClickCount).integer().not_null())
                    .col(timestamp_null(Mails::OpenedAt))
                    .col(timestamp_null(Mails::ClickedAt))
                    .col(timestamp(Mails::CreatedAt))
                    .col(timestamp_null(Mails::SentAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            Mails::Table,
            "idx_mails_kind",
            &[Mails::Kind, Mails::Status],
        )
        .await?;
        create_index(
            manager,
            Mails::Table,
            "idx_mails_user",
            &[Mails::UserId, Mails::CreatedAt],
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(MailCounters::Table)
                    .col(
                        ColumnDef::new(MailCounters::Scope)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(timestamp(MailCounters::WindowStart))
                    .col(ColumnDef::new(MailCounters::Count).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(MailCounters::Scope)
                            .col(MailCounters::WindowStart),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .add_column(timestamp_null(Notifications::EmailedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Notifications::Table)
                    .drop_column(Notifications::EmailedAt)
                    .to_owned(),
            )
            .await?;
        for table in [
            MailCounters::Table.into_iden(),
            Mails::Table.into_iden(),
            EmailPreferences::Table.into_iden(),
            EmailTokens::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
