//! Indexes in popular and in trending order, so those pages read only the rows they
//! show instead of sorting every published post.
//!
//! The expressions are the ones the listing sorts by (`POPULAR_SCORE_SQL` and
//! `TRENDING_SCORE_SQL` in `src/domain/posts.rs`); a planner uses an expression index
//! only for the same expression. Both backends follow this shape: `published` first
//! (an equality in every listing), `deleted_at IS NULL` as the index's condition.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name and sort expression of each index.
const RANK_INDEXES: [(&str, &str); 2] = [
    (
        "idx_posts_popular",
        r#"("views" * 0.1 + "reaction_count" * 2 + "comment_count" * 3)"#,
    ),
    (
        "idx_posts_trending",
        r#"(("views" * 0.1 + "reaction_count" * 2 + "comment_count" * 3) * "trending_weight")"#,
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, score) in RANK_INDEXES {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    r#"CREATE INDEX "{name}" ON "posts" ("published", {score} DESC, "published_at" DESC, "id" DESC) WHERE "deleted_at" IS NULL"#
                ))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, _) in RANK_INDEXES {
            manager
                .get_connection()
                .execute_unprepared(&format!(r#"DROP INDEX "{name}""#))
                .await?;
        }
        Ok(())
    }
}
