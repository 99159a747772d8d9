//! Many writers at once: every request succeeds and every counter equals its rows.
//!
//! Runs over a SQLite file with several connections (in-memory SQLite has one, so its
//! writers never meet), or over PostgreSQL when `TEST_DATABASE_URL` is set.

use std::sync::Arc;

use axum::http::Method;
use sea_orm::{ConnectionTrait, Statement};
use serde_json::json;

use crate::support::{Session, TestApp};

const CLIENTS: usize = 16;
const WRITES_OF_EACH_KIND: usize = 50;

/// Asserts a 2xx answer, naming the request otherwise.
#[track_caller]
fn assert_success(status: u16, what: &str, body: &serde_json::Value) {
    assert!((200..300).contains(&status), "{what}: {status} {body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_clients_writing_at_once_all_succeed_and_counters_match_rows() {
    let app = Arc::new(TestApp::with_file_database().await);
    let mut sessions = Vec::with_capacity(CLIENTS);
    for client in 0..CLIENTS {
        sessions.push(app.register(&format!("writer{client}")).await);
    }
    let sessions = Arc::new(sessions);
    let hot_post = app
        .create_post(
            &sessions[0].token,
            json!({ "title": "Hot post", "content": "Everyone writes here.", "published": true }),
        )
        .await;
    let hot_post = hot_post["id"].as_str().expect("post id").to_owned();

    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..CLIENTS {
        for kind in [
            WriteKind::Posts,
            WriteKind::Comments,
            WriteKind::Reactions,
            WriteKind::Follows,
        ] {
            let (app, sessions, hot_post) = (app.clone(), sessions.clone(), hot_post.clone());
            tasks.spawn(async move { kind.run(&app, &sessions, client, &hot_post).await });
        }
    }
    while let Some(finished) = tasks.join_next().await {
        finished.expect("writer task");
    }

    let scalar = |sql: &'static str| {
        let app = app.clone();
        async move {
            let db = &app.state.db;
            let row = db
                .query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .expect("query")
                .expect("one row");
            row.try_get_by_index::<i64>(0).expect("a count")
        }
    };
    let expected_posts = i64::try_from(CLIENTS * WRITES_OF_EACH_KIND + 1).expect("small");
    assert_eq!(scalar("SELECT COUNT(*) FROM posts").await, expected_posts);
    assert_eq!(
        scalar("SELECT comment_count FROM posts WHERE title = 'Hot post'").await,
        i64::try_from(CLIENTS * WRITES_OF_EACH_KIND).expect("small")
    );
    // Each client's last reaction stays, on the hot post.
    assert_eq!(
        scalar("SELECT reaction_count FROM posts WHERE title = 'Hot post'").await,
        i64::try_from(CLIENTS).expect("small")
    );
    assert_eq!(
        scalar(
            "SELECT COUNT(*) FROM posts p WHERE p.comment_count <> (SELECT COUNT(*) FROM comments c WHERE c.post_id = p.id) \
             OR p.reaction_count <> (SELECT COUNT(*) FROM reactions r WHERE r.target_type = 'POST' AND r.target_id = p.id)"
        )
        .await,
        0,
        "a post counter differs from its rows"
    );
    assert_eq!(scalar("SELECT COUNT(*) FROM follows").await, 0);
    // A follower is announced once however often they follow again.
    assert_eq!(
        scalar("SELECT COUNT(*) FROM notifications WHERE notification_type = 'USER_FOLLOWED'")
            .await,
        i64::try_from(CLIENTS * (CLIENTS - 1)).expect("small")
    );

    // The server still reads after the storm.
    let page = app.get("/api/posts?limit=1", None).await;
    assert_eq!(page.data(200)["total"], json!(expected_posts));
}

/// One kind of write a client repeats [`WRITES_OF_EACH_KIND`] times.
#[derive(Clone, Copy)]
enum WriteKind {
    Posts,
    Comments,
    /// Given and taken back in turn, ending given.
    Reactions,
    /// Each other client followed, then each unfollowed.
    Follows,
}

impl WriteKind {
    async fn run(self, app: &TestApp, sessions: &[Session], client: usize, hot_post: &str) {
        let token = Some(sessions[client].token.as_str());
        let others: Vec<usize> = (0..CLIENTS).filter(|other| *other != client).collect();
        for write in 0..WRITES_OF_EACH_KIND {
            let (method, path, body) = match self {
                Self::Posts => (
                    Method::POST,
                    "/api/posts".to_owned(),
                    Some(json!({
                        "title": format!("Post {write} of writer {client}"),
                        "content": "Written while everyone writes.",
                        "published": true,
                        "tags": ["busy"],
                    })),
                ),
                Self::Comments => (
                    Method::POST,
                    format!("/api/posts/{hot_post}/comments"),
                    Some(json!({ "content": format!("Comment {write} of writer {client}") })),
                ),
                Self::Reactions => {
                    let path = format!("/api/posts/{hot_post}/reactions");
                    if write % 2 == 0 {
                        let kind = ["LIKE", "FIRE", "SPARKLE"][write % 3];
                        (Method::PUT, path, Some(json!({ "type": kind })))
                    } else {
                        (Method::DELETE, path, None)
                    }
                }
                Self::Follows => {
                    // 25 follows reach all 15 others, then 25 unfollows leave none.
                    let username = format!("writer{}", others[write % others.len()]);
                    let method = if write < WRITES_OF_EACH_KIND / 2 {
                        Method::POST
                    } else {
                        Method::DELETE
                    };
                    (method, format!("/api/users/{username}/follow"), None)
                }
            };
            let response = app.call(method, &path, token, body).await;
            assert_success(response.status.as_u16(), &path, &response.body);
        }
        if let Self::Reactions = self {
            // The 50 writes ended with a take-back; one more give stays.
            let path = format!("/api/posts/{hot_post}/reactions");
            let response = app
                .call(Method::PUT, &path, token, Some(json!({ "type": "LOVE" })))
                .await;
            assert_success(response.status.as_u16(), &path, &response.body);
        }
    }
}
