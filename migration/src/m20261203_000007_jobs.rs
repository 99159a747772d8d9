//! The job queue and the record of schedule firings.
//!
//! `jobs` holds every background job, enqueued in the transaction of the write that
//! causes it. Workers claim due jobs of a queue in `run_at` order through
//! `idx_jobs_claim`; `unique_key` keeps a job from being enqueued twice while its row
//! exists; `idx_jobs_finished` serves the retention purge and the monitoring counts;
//! `idx_jobs_failed` lists the latest failures.
//!
//! `schedule_firings` records each firing of a cron schedule once (its primary key),
//! so several instances enqueue it once.

use sea_orm_migration::prelude::*;

use crate::columns::{create_index, id_column, text_null, timestamp, timestamp_null};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(Clone, DeriveIden)]
enum Jobs {
    Table,
    Id,
    Queue,
    Kind,
    Args,
    State,
    Attempt,
    MaxAttempts,
    TimeoutMs,
    RunAt,
    UniqueKey,
    LockedBy,
    LockedUntil,
    Progress,
    Errors,
    LastError,
    FailedAt,
    CreatedAt,
    AttemptedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum ScheduleFirings {
    Table,
    Schedule,
    FireAt,
    JobId,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Jobs::Table)
                    .col(id_column(Jobs::Id))
                    .col(ColumnDef::new(Jobs::Queue).string_len(32).not_null())
                    .col(ColumnDef::new(Jobs::Kind).string_len(64).not_null())
                    .col(ColumnDef::new(Jobs::Args).text().not_null())
                    .col(ColumnDef::new(Jobs::State).string_len(16).not_null())
                    .col(ColumnDef::new(Jobs::Attempt).integer().not_null())
                    .col(ColumnDef::new(Jobs::MaxAttempts).integer().not_null())
                    .col(ColumnDef::new(Jobs::TimeoutMs).big_integer().not_null())
                    .col(timestamp(Jobs::RunAt))
                    .col(text_null(Jobs::UniqueKey).unique_key())
                    .col(ColumnDef::new(Jobs::LockedBy).string_len(64).null())
                    .col(timestamp_null(Jobs::LockedUntil))
                    .col(ColumnDef::new(Jobs::Progress).text().null())
                    .col(ColumnDef::new(Jobs::Errors).text().not_null())
                    .col(ColumnDef::new(Jobs::LastError).text().null())
                    .col(timestamp_null(Jobs::FailedAt))
                    .col(timestamp(Jobs::CreatedAt))
                    .col(timestamp_null(Jobs::AttemptedAt))
                    .col(timestamp_null(Jobs::FinishedAt))
                    .to_owned(),
            )
            .await?;
        create_index(
            manager,
            Jobs::Table,
            "idx_jobs_claim",
            &[Jobs::Queue, Jobs::State, Jobs::RunAt, Jobs::Id],
        )
        .await?;
        create_index(
            manager,
            Jobs::Table,
            "idx_jobs_finished",
            &[Jobs::State, Jobs::FinishedAt],
        )
        .await?;
        create_index(manager, Jobs::Table, "idx_jobs_failed", &[Jobs::FailedAt]).await?;
        manager
            .create_table(
                Table::create()
                    .table(ScheduleFirings::Table)
                    .col(
                        ColumnDef::new(ScheduleFirings::Schedule)
                            .string_len(64)
                            .not_null(),
                    )
                    .col(timestamp(ScheduleFirings::FireAt))
                    .col(ColumnDef::new(ScheduleFirings::JobId).string_len(36).null())
                    .primary_key(
                        Index::create()
                            .col(ScheduleFirings::Schedule)
                            .col(ScheduleFirings::FireAt),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ScheduleFirings::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Jobs::Table).to_owned())
            .await
    }
}
