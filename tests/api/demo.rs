//! `sparkle seed-demo`: what a newcomer gets to look at.

use serde_json::json;
use sparkle_universe::seed::{self, DEMO_ADMIN, DEMO_MEMBER, DEMO_PASSWORD};

use crate::support::TestApp;

#[tokio::test]
async fn seeding_twice_leaves_accounts_to_sign_in_with_and_conversations_to_see() {
    let app = TestApp::new().await;
    for _ in 0..2 {
        seed::seed_demo(&app.state, 4, 12).await.expect("seeded");
    }
    let mut tokens = Vec::new();
    for (username, email) in [DEMO_ADMIN, DEMO_MEMBER] {
        let session = app
            .post(
                "/api/auth/login",
                None,
                json!({ "email": email, "password": DEMO_PASSWORD }),
            )
            .await;
        assert_eq!(session.data(200)["user"]["username"], username);
        tokens.push(
            session.data(200)["token"]
                .as_str()
                .expect("token")
                .to_owned(),
        );
    }
    let admin = app.get("/api/auth/me", Some(&tokens[0])).await;
    assert_eq!(admin.data(200)["role"], "ADMIN");

    let newest = app.get("/api/posts?limit=1", None).await;
    let post = &newest.data(200)["items"][0];
    let post_id = post["id"].as_str().expect("post id");
    assert!(
        post["_count"]["comments"].as_i64().unwrap_or_default() >= 2,
        "{post}"
    );
    let thread = app
        .get(&format!("/api/posts/{post_id}/comments"), None)
        .await;
    let first = &thread.data(200)["items"][0];
    assert!(first["youtubeTimestamp"].is_number(), "{first}");
    assert!(
        first["_count"]["replies"].as_i64().unwrap_or_default() >= 1,
        "{first}"
    );
    let reactions = app
        .get(&format!("/api/posts/{post_id}/reactions"), None)
        .await;
    assert!(reactions.data(200)["total"].as_i64().unwrap_or_default() >= 1);

    // The admin's replies mention the member, who is notified.
    let notifications = app.get("/api/notifications", Some(&tokens[1])).await;
    let kinds: Vec<&str> = notifications.data(200)["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|item| item["type"].as_str())
        .collect();
    assert!(kinds.contains(&"MENTION"), "{kinds:?}");
    assert!(
        kinds.contains(&"COMMENT_LIKED") || kinds.contains(&"POST_COMMENTED"),
        "{kinds:?}"
    );
}
