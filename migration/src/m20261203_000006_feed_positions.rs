//! Positions in commit order for the rows live streams deliver: a post's comments
//! and a user's notifications.
//!
//! A resumable stream delivers rows in order and resumes after the last one a client
//! saw. Row ids are made before the transaction commits, on several instances from
//! several clocks, so two rows can commit out of id order and a stream ordered by id
//! would skip the later-committing one. A position is taken from the feed's counter
//! in `feed_positions` inside the writing transaction; on PostgreSQL the counter's row
//! stays locked until that transaction ends, and SQLite has one writer, so positions
//! of one feed are handed out in commit order.
//!
//! Existing rows are numbered in id order, the order streams used so far.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Table, the column naming its feed, the feed key's prefix, and the index name.
const FEEDS: [(&str, &str, &str, &str); 2] = [
    ("comments", "post_id", "comments:", "idx_comments_feed"),
    (
        "notifications",
        "user_id",
        "notifications:",
        "idx_notifications_feed",
    ),
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        db.execute_unprepared(
            r#"CREATE TABLE "feed_positions" ("feed" VARCHAR(64) NOT NULL PRIMARY KEY, "position" BIGINT NOT NULL)"#,
        )
        .await?;
        for (table, owner, prefix, index) in FEEDS {
            db.execute_unprepared(&format!(
                r#"ALTER TABLE "{table}" ADD COLUMN "feed_position" BIGINT NOT NULL DEFAULT 0"#
            ))
            .await?;
            db.execute_unprepared(&format!(
                r#"UPDATE "{table}" SET "feed_position" = (SELECT COUNT(*) FROM "{table}" AS "earlier" WHERE "earlier"."{owner}" = "{table}"."{owner}" AND "earlier"."id" <= "{table}"."id")"#
            ))
            .await?;
            db.execute_unprepared(&format!(
                r#"INSERT INTO "feed_positions" ("feed", "position") SELECT '{prefix}' || "{owner}", MAX("feed_position") FROM "{table}" GROUP BY "{owner}""#
            ))
            .await?;
            db.execute_unprepared(&format!(
                r#"CREATE UNIQUE INDEX "{index}" ON "{table}" ("{owner}", "feed_position")"#
            ))
            .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (table, _, _, index) in FEEDS {
            db.execute_unprepared(&format!(r#"DROP INDEX "{index}""#))
                .await?;
            db.execute_unprepared(&format!(
                r#"ALTER TABLE "{table}" DROP COLUMN "feed_position""#
            ))
            .await?;
        }
        db.execute_unprepared(r#"DROP TABLE "feed_positions""#)
            .await?;
        Ok(())
    }
}
