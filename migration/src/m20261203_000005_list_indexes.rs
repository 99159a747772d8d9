//! Indexes in the order of every list the APIs serve, so a page reads only the rows
//! it shows instead of sorting every row that matches (`tests/api/plans.rs` checks
//! the plans on both backends).
//!
//! Each index has the list's equality columns first, then its order columns in the
//! list's direction. Lists of posts that are not deleted (`deleted_at IS NULL`),
//! top-level comments (`parent_id IS NULL`) and unread notifications (`NOT read`)
//! get a partial index with that condition: PostgreSQL cannot use a column tested
//! with `IS NULL` for the order of the columns after it, which is why
//! `idx_posts_listing` never served the newest-first list there. A partial index
//! serves only queries that spell its condition without a bound value, which the
//! listing queries do.
//!
//! Replaced, as the new indexes serve everything they served:
//! * `idx_posts_listing` by `idx_posts_recent`;
//! * `idx_comments_post_thread` by `idx_comments_post_top` and `idx_comments_post`;
//! * `idx_follows_following` by `idx_follows_followers_list`;
//! * `idx_notifications_unread` by `idx_notifications_unread_recent`.
//!
//! `idx_posts_category` and `idx_posts_author` stay: they also cover deleted posts,
//! which the foreign keys to categories and users look up.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Name, table, columns and condition of each new index.
const LIST_INDEXES: [(&str, &str, &str, Option<&str>); 10] = [
    // Published posts, newest first.
    (
        "idx_posts_recent",
        "posts",
        r#""published", "published_at" DESC, "id" DESC"#,
        Some(r#""deleted_at" IS NULL"#),
    ),
    // Published posts of a category, newest first.
    (
        "idx_posts_category_recent",
        "posts",
        r#""category_id", "published", "published_at" DESC, "id" DESC"#,
        Some(r#""deleted_at" IS NULL"#),
    ),
    // An author's posts (drafts too for the author), newest first.
    (
        "idx_posts_author_recent",
        "posts",
        r#""author_id", "created_at" DESC, "id" DESC"#,
        Some(r#""deleted_at" IS NULL"#),
    ),
    // Every comment of a post, oldest first (the live feed's replay).
    ("idx_comments_post", "comments", r#""post_id", "id""#, None),
    // Top-level comments of a post, oldest first. Created after `idx_comments_post`,
    // which serves the same query with the same estimated cost when SQLite has no
    // statistics: SQLite then takes the index created last.
    (
        "idx_comments_post_top",
        "comments",
        r#""post_id", "id""#,
        Some(r#""parent_id" IS NULL"#),
    ),
    // The followers of a user, newest follow first.
    (
        "idx_follows_followers_list",
        "follows",
        r#""following_id", "created_at" DESC, "follower_id" DESC"#,
        None,
    ),
    // The accounts a user follows, newest follow first.
    (
        "idx_follows_following_list",
        "follows",
        r#""follower_id", "created_at" DESC, "following_id" DESC"#,
        None,
    ),
    // Tags by name.
    ("idx_tags_name", "tags", r#""name""#, None),
    // Categories by name.
    ("idx_categories_name", "categories", r#""name""#, None),
    // Unread notifications of a user, newest first.
    (
        "idx_notifications_unread_recent",
        "notifications",
        r#""user_id", "id" DESC"#,
        Some(r#"NOT "read""#),
    ),
];

/// Name, table and columns of each index the new ones replace.
const REPLACED_INDEXES: [(&str, &str, &str); 4] = [
    (
        "idx_posts_listing",
        "posts",
        r#""published", "deleted_at", "published_at", "id""#,
    ),
    (
        "idx_comments_post_thread",
        "comments",
        r#""post_id", "parent_id", "id""#,
    ),
    (
        "idx_follows_following",
        "follows",
        r#""following_id", "created_at""#,
    ),
    (
        "idx_notifications_unread",
        "notifications",
        r#""user_id", "read", "id""#,
    ),
];

/// `CREATE INDEX` for one index, the same on both backends.
fn create_index(name: &str, table: &str, columns: &str, condition: Option<&str>) -> String {
    let condition = condition
        .map(|condition| format!(" WHERE {condition}"))
        .unwrap_or_default();
    format!(r#"CREATE INDEX "{name}" ON "{table}" ({columns}){condition}"#)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, table, columns, condition) in LIST_INDEXES {
            db.execute_unprepared(&create_index(name, table, columns, condition))
                .await?;
        }
        for (name, _, _) in REPLACED_INDEXES {
            db.execute_unprepared(&format!(r#"DROP INDEX "{name}""#))
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        for (name, table, columns) in REPLACED_INDEXES {
            db.execute_unprepared(&create_index(name, table, columns, None))
                .await?;
        }
        for (name, _, _, _) in LIST_INDEXES {
            db.execute_unprepared(&format!(r#"DROP INDEX "{name}""#))
                .await?;
        }
        Ok(())
    }
}
