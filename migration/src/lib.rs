//! Database migrations, applied by `sparkle serve`, `sparkle worker` and
//! `sparkle migrate`.

pub use sea_orm_migration::prelude::*;

mod columns;
mod m20261125_000001_foundation;
mod m20261125_000002_conversation;
mod m20261129_000003_post_tag_ids;
mod m20261129_000004_post_rank_indexes;
mod m20261203_000005_list_indexes;
mod m20261203_000006_feed_positions;
mod m20261203_000007_jobs;
mod m20261203_000008_email;
mod m20261203_000009_media;
mod m20261204_000010_media_references;
mod m20261204_000011_media_completion;

/// Every migration of the schema, in order.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261125_000001_foundation::Migration),
            Box::new(m20261125_000002_conversation::Migration),
            Box::new(m20261129_000003_post_tag_ids::Migration),
            Box::new(m20261129_000004_post_rank_indexes::Migration),
            Box::new(m20261203_000005_list_indexes::Migration),
            Box::new(m20261203_000006_feed_positions::Migration),
            Box::new(m20261203_000007_jobs::Migration),
            Box::new(m20261203_000008_email::Migration),
            Box::new(m20261203_000009_media::Migration),
            Box::new(m20261204_000010_media_references::Migration),
            Box::new(m20261204_000011_media_completion::Migration),
        ]
    }
}
