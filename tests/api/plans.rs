//! Query plans: every list the APIs serve reads an index in the list's order, on
//! SQLite and on PostgreSQL, so a page costs the rows it shows, not a sort of every
//! row that matches.
//!
//! Each case explains the statement the server runs (built by the same domain
//! function, with realistic values) and checks that the plan names the expected
//! index and sorts nothing.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, QuerySelect, QueryTrait, Statement,
    TransactionTrait,
};
use sparkle_universe::{
    domain::{
        comments::{self, CommentThread},
        follows::{self, FollowList},
        notification_feed::{self, NotificationFilter},
        pagination::CursorWindow,
        posts::{self, PostSort},
        taxonomy,
    },
    jobs::{Queue, monitor, queue},
    realtime::feeds::{CommentFeed, NotificationFeed},
};

use crate::support::TestApp;

/// Ids shaped like the real ones (UUIDv7 text).
const USER_ID: &str = "019ad3a4-5b6c-7d8e-9f01-23456789abcd";
const POST_ID: &str = "019ad3a4-5b6c-7d8e-9f01-3456789abcde";
const OTHER_POST_ID: &str = "019ad3a4-5b6c-7d8e-9f01-456789abcdef";
const COMMENT_ID: &str = "019ad3a4-5b6c-7d8e-9f01-56789abcdef0";
const CATEGORY_ID: &str = "019ad3a4-5b6c-7d8e-9f01-6789abcdef01";
const TAG_ID: &str = "019ad3a4-5b6c-7d8e-9f01-789abcdef012";
/// A cursor: the id of the last row of the previous page.
const AFTER_ID: &str = "019ad3a4-5b6c-7d8e-9f01-89abcdef0123";

/// One list: what it is, the statement the server runs, and the indexes its plan
/// must read.
struct Case {
    name: String,
    statement: Statement,
    indexes: &'static [&'static str],
}

impl Case {
    fn new(
        name: impl Into<String>,
        statement: Statement,
        indexes: &'static [&'static str],
    ) -> Self {
        Self {
            name: name.into(),
            statement,
            indexes,
        }
    }
}

/// The query plan of `statement` on `db`'s backend, as text (one line per step).
///
/// On PostgreSQL the plan is made with sorting switched off: on the empty test tables
/// a sort always looks cheapest, so a plan that sorts even then has no index giving
/// the order. On SQLite it is the `detail` column of `EXPLAIN QUERY PLAN`.
async fn explain(db: &DatabaseConnection, statement: &Statement) -> String {
    let backend = db.get_database_backend();
    let txn = db.begin().await.expect("begin");
    let (prefix, column) = match backend {
        DbBackend::Postgres => {
            txn.execute_unprepared("SET LOCAL enable_sort = off")
                .await
                .expect("disable sorting");
            ("EXPLAIN", 0)
        }
        _ => ("EXPLAIN QUERY PLAN", 3),
    };
    let explain = Statement {
        sql: format!("{prefix} {}", statement.sql),
        values: statement.values.clone(),
        db_backend: backend,
    };
    let rows = txn.query_all_raw(explain).await.unwrap_or_else(|err| {
        panic!("cannot explain {}: {err}", statement.sql);
    });
    let lines: Vec<String> = rows
        .iter()
        .map(|row| row.try_get_by_index(column).expect("plan text"))
        .collect();
    txn.rollback().await.expect("rollback");
    lines.join("\n")
}

/// Explains every case and fails with all the cases whose plan does not read its
/// indexes or sorts.
async fn assert_plans(db: &DatabaseConnection, cases: Vec<Case>) {
    let mut failures = Vec::new();
    for case in cases {
        let plan = explain(db, &case.statement).await;
        let unused: Vec<&str> = case
            .indexes
            .iter()
            .copied()
            .filter(|index| !plan_names_index(&plan, index))
            .collect();
        let sorts = plan.contains("Sort") || plan.contains("TEMP B-TREE");
        if !unused.is_empty() || sorts {
            failures.push(format!(
                "{}: unused {unused:?}, sorts: {sorts}\n  {}\n{plan}",
                case.name, case.statement.sql
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

/// Whether `plan` names the index `index` (and not just one whose name starts so).
fn plan_names_index(plan: &str, index: &str) -> bool {
    plan.match_indices(index).any(|(at, _)| {
        plan[at + index.len()..]
            .chars()
            .next()
            .is_none_or(|next| !(next.is_ascii_alphanumeric() || next == '_'))
    })
}

/// A keyset window: the first page (`after` = `None`) or a later one.
fn window<K>(after: Option<K>) -> CursorWindow<K> {
    CursorWindow { after, limit: 20 }
}

#[tokio::test]
async fn recent_post_pages_read_their_index_in_order() {
    let app = TestApp::new().await;
    let backend = app.state.db.get_database_backend();
    // Page 3 of 20, as REST asks for it.
    let page = |category: Option<&str>, tag: Option<&str>| {
        posts::listing(PostSort::Recent, category, tag)
            .offset(40)
            .limit(20)
            .build(backend)
    };
    let cases = vec![
        Case::new("all", page(None, None), &["idx_posts_recent"]),
        Case::new(
            "by category",
            page(Some(CATEGORY_ID), None),
            &["idx_posts_category_recent"],
        ),
        Case::new("by tag", page(None, Some(TAG_ID)), &["idx_posts_recent"]),
        Case::new(
            "by category and tag",
            page(Some(CATEGORY_ID), Some(TAG_ID)),
            &["idx_posts_category_recent"],
        ),
    ];
    assert_plans(&app.state.db, cases).await;
}

#[tokio::test]
async fn popular_and_trending_pages_read_their_index_in_order() {
    let app = TestApp::new().await;
    let backend = app.state.db.get_database_backend();
    let mut cases = Vec::new();
    let sorts: [(PostSort, &'static [&'static str]); 2] = [
        (PostSort::Popular, &["idx_posts_popular"]),
        (PostSort::Trending, &["idx_posts_trending"]),
    ];
    for (sort, indexes) in sorts {
        for (filter, category, tag) in [
            ("all", None, None),
            ("by category", Some(CATEGORY_ID), None),
            ("by tag", None, Some(TAG_ID)),
        ] {
            let statement = posts::listing(sort, category, tag)
                .offset(40)
                .limit(20)
                .build(backend);
            cases.push(Case::new(format!("{sort:?} {filter}"), statement, indexes));
        }
    }
    assert_plans(&app.state.db, cases).await;
}

#[tokio::test]
async fn author_post_pages_read_their_index_in_order() {
    let app = TestApp::new().await;
    let backend = app.state.db.get_database_backend();
    let page = |with_drafts| {
        posts::by_author(USER_ID, with_drafts)
            .offset(20)
            .limit(21)
            .build(backend)
    };
    let cases = vec![
        Case::new("published", page(false), &["idx_posts_author_recent"]),
        Case::new("with drafts", page(true), &["idx_posts_author_recent"]),
    ];
    assert_plans(&app.state.db, cases).await;
}

#[tokio::test]
async fn comment_threads_read_their_index_in_order() {
    let app = TestApp::new().await;
    let backend = app.state.db.get_database_backend();
    let pages = |threads: &[CommentThread], after: Option<&str>| {
        let statement =
            comments::thread_pages_statement(threads, &window(after.map(str::to_owned)))
                .expect("a statement for some threads");
        backend.build(&statement)
    };
    let post = CommentThread::Post(POST_ID.to_owned());
    let replies = CommentThread::Replies(COMMENT_ID.to_owned());
    let several = [
        post.clone(),
        CommentThread::Post(OTHER_POST_ID.to_owned()),
        replies.clone(),
    ];
    let feed = CommentFeed {
        post_id: POST_ID.to_owned(),
    };
    let cases = vec![
        Case::new(
            "comments of a post",
            pages(std::slice::from_ref(&post), None),
            &["idx_comments_post_top"],
        ),
        Case::new(
            "comments of a post, later page",
            pages(std::slice::from_ref(&post), Some(AFTER_ID)),
            &["idx_comments_post_top"],
        ),
        Case::new(
            "replies of a comment",
            pages(std::slice::from_ref(&replies), None),
            &["idx_comments_parent"],
        ),
        Case::new(
            "replies of a comment, later page",
            pages(std::slice::from_ref(&replies), Some(AFTER_ID)),
            &["idx_comments_parent"],
        ),
        Case::new(
            "several threads at once",
            pages(&several, Some(AFTER_ID)),
            &["idx_comments_post_top", "idx_comments_parent"],
        ),
        Case::new(
            "live comments of a post, replayed",
            feed.replay_query(7, 100).build(backend),
            &["idx_comments_feed"],
        ),
    ];
    assert_plans(&app.state.db, cases).await;
}

#[tokio::test]
async fn notification_pages_read_their_index_in_order() {
    let app = TestApp::new().await;
    let backend = app.state.db.get_database_backend();
    let page = |unread_only, after: Option<&str>| {
        notification_feed::page_query(
            USER_ID,
            NotificationFilter { unread_only },
            &window(after.map(str::to_owned)),
        )
        .build(backend)
    };
    let feed = NotificationFeed {
        user_id: USER_ID.to_owned(),
    };
    let cases = vec![
        Case::new("all", page(false, None), &["idx_notifications_user"]),
        Case::new(
            "all, later page",
            page(false, Some(AFTER_ID)),
            &["idx_notifications_user"],
        ),
        Case::new(
            "unread",
            page(true, None),
            &["idx_notifications_unread_recent"],
        ),
        Case::new(
            "unread, later page",
            page(true, Some(AFTER_ID)),
            &["idx_notifications_unread_recent"],
        ),
        Case::new(
            "live notifications, replayed",
            feed.replay_query(7, 100).build(backend),
            &["idx_notifications_feed"],
        ),
    ];
    assert_plans(&app.state.db, cases).await;
}

#[tokio::test]
async fn follow_lists_read_their_index_in_order() {
    let app = TestApp::new().await;
    let backend = app.state.db.get_database_backend();
    let followed_at = Utc
        .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
        .single()
        .expect("a valid time");
    let page = |which, after: Option<&str>| {
        let after = after.map(|id| (followed_at, id.to_owned()));
        follows::page_query(USER_ID, which, &window(after)).build(backend)
    };
    let cases = vec![
        Case::new(
            "followers",
            page(FollowList::Followers, None),
            &["idx_follows_followers_list"],
        ),
        Case::new(
            "followers, later page",
            page(FollowList::Followers, Some(AFTER_ID)),
            &["idx_follows_followers_list"],
        ),
        Case::new(
            "following",
            page(FollowList::Following, None),
            &["idx_follows_following_list"],
        ),
        Case::new(
            "following, later page",
            page(FollowList::Following, Some(AFTER_ID)),
            &["idx_follows_following_list"],
        ),
    ];
    assert_plans(&app.state.db, cases).await;
}

#[tokio::test]
async fn tag_and_category_lists_read_their_index_in_order() {
    let app = TestApp::new().await;
    let backend = app.state.db.get_database_backend();
    let cases = vec![
        Case::new(
            "tags",
            taxonomy::tags_query().build(backend),
            &["idx_tags_name"],
        ),
        Case::new(
            "categories",
            taxonomy::categories_query().build(backend),
            &["idx_categories_name"],
        ),
    ];
    assert_plans(&app.state.db, cases).await;
}

#[tokio::test]
async fn job_claims_and_failures_read_their_index_in_order() {
    let app = TestApp::new().await;
    let backend = app.state.db.get_database_backend();
    let now = Utc
        .with_ymd_and_hms(2026, 12, 3, 12, 0, 0)
        .single()
        .expect("a valid time");
    let cases = vec![
        Case::new(
            "claim",
            queue::claim_statement(
                backend,
                Queue::Email,
                "worker-1",
                4,
                Duration::from_secs(30),
                now,
            ),
            &["idx_jobs_claim"],
        ),
        Case::new(
            "latest failures",
            monitor::latest_failures_query().build(backend),
            &["idx_jobs_failed"],
        ),
    ];
    assert_plans(&app.state.db, cases).await;
}
