//! Notifications over REST and GraphQL: mentions in posts, the feed with cursors,
//! reading (only your own), counts, system broadcasts, and expiry.

use axum::http::Method;
use chrono::{TimeDelta, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};
use sparkle_universe::domain::{
    notification_feed::purge_expired,
    notifications::{NewNotification, NotificationType, notify},
};

use crate::support::{Session, TestApp, TestResponse};

/// Stores a notification for `user` directly and returns its id.
async fn store(
    app: &TestApp,
    user: &Session,
    kind: NotificationType,
    actor: Option<&Session>,
    title: &str,
) -> String {
    notify(
        &app.state.db,
        NewNotification {
            user_id: user.user_id.clone(),
            kind,
            actor_id: actor.map(|actor| actor.user_id.clone()),
            title: title.to_owned(),
            message: format!("{title}!"),
            data: json!({ "title": title }),
            dedupe_key: None,
        },
    )
    .await
    .expect("notify")
    .expect("stored")
    .id
}

async fn inbox(app: &TestApp, user: &Session, query: &str) -> Value {
    app.get(&format!("/api/notifications{query}"), Some(&user.token))
        .await
        .data(200)
        .clone()
}

fn titles(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["title"].as_str().expect("title"))
        .collect()
}

/// Each notification of `user` as `(type, data)`.
async fn kinds_and_data(app: &TestApp, user: &Session) -> Vec<(String, Value)> {
    app.run_jobs().await;
    let page = inbox(app, user, "?limit=100").await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| {
            (
                item["type"].as_str().expect("type").to_owned(),
                item["data"].clone(),
            )
        })
        .collect()
}

async fn unread_count(app: &TestApp, user: &Session) -> Value {
    app.get("/api/notifications/unread-count", Some(&user.token))
        .await
        .data(200)
        .clone()
}

async fn put(app: &TestApp, path: &str, token: Option<&str>) -> TestResponse {
    app.call(Method::PUT, path, token, None).await
}

#[tokio::test]
async fn a_mention_notifies_each_user_once_per_post() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;

    let post = app
        .create_post(
            &alice.token,
            json!({ "title": "Hello @Bob", "content": "Hi @bob and @BOB, me @alice, @nobody_here, mail@carol.example", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id");
    let mention = ("MENTION".to_owned(), json!({ "postId": post_id }));
    assert_eq!(kinds_and_data(&app, &bob).await, vec![mention.clone()]);
    assert!(kinds_and_data(&app, &alice).await.is_empty());
    assert!(kinds_and_data(&app, &carol).await.is_empty());
    let bob_inbox = inbox(&app, &bob, "").await;
    assert_eq!(
        bob_inbox["items"][0]["actor"],
        json!({ "id": alice.user_id, "username": "alice", "image": null })
    );

    let edited = app
        .call(
            Method::PUT,
            &format!("/api/posts/{post_id}"),
            Some(&alice.token),
            Some(json!({ "content": "Still @bob, now @carol too" })),
        )
        .await;
    edited.data(200);
    assert_eq!(kinds_and_data(&app, &bob).await, vec![mention.clone()]);
    assert_eq!(kinds_and_data(&app, &carol).await, vec![mention.clone()]);

    let graphql_edit = app
        .graphql(
            "mutation($id: String!) { updatePost(id: $id, input: {content: \"@dave @bob @carol\"}) { id } }",
            json!({ "id": post_id }),
            Some(&alice.token),
        )
        .await;
    assert_eq!(graphql_edit.body["data"]["updatePost"]["id"], post_id);
    for user in [&bob, &carol, &dave] {
        assert_eq!(kinds_and_data(&app, user).await, vec![mention.clone()]);
    }

    let graphql_post = app
        .graphql(
            "mutation { createPost(input: {title: \"Second\", content: \"cc @bob\", published: true}) { id } }",
            json!({}),
            Some(&alice.token),
        )
        .await;
    let second_id = graphql_post.body["data"]["createPost"]["id"]
        .as_str()
        .expect("second post id");
    assert_eq!(
        kinds_and_data(&app, &bob).await,
        vec![
            ("MENTION".to_owned(), json!({ "postId": second_id })),
            mention,
        ]
    );
}

#[tokio::test]
async fn drafts_notify_their_mentions_when_published() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let draft = app
        .create_post(
            &alice.token,
            json!({ "title": "Draft", "content": "for @bob" }),
        )
        .await;
    assert!(kinds_and_data(&app, &bob).await.is_empty());
    let post_id = draft["id"].as_str().expect("post id");
    app.call(
        Method::PUT,
        &format!("/api/posts/{post_id}"),
        Some(&alice.token),
        Some(json!({ "published": true })),
    )
    .await
    .data(200);
    assert_eq!(
        kinds_and_data(&app, &bob).await,
        vec![("MENTION".to_owned(), json!({ "postId": post_id }))]
    );
}

#[tokio::test]
async fn the_feed_pages_newest_first_and_filters_unread() {
    let app = TestApp::new().await;
    let bob = app.register("bob").await;
    let alice = app.register("alice").await;
    let mut ids = Vec::new();
    for index in 1..=5 {
        ids.push(
            store(
                &app,
                &bob,
                NotificationType::PostLiked,
                Some(&alice),
                &format!("n{index}"),
            )
            .await,
        );
    }
    store(&app, &alice, NotificationType::System, None, "not bob's").await;

    let first = inbox(&app, &bob, "?limit=2").await;
    assert_eq!(titles(&first), ["n5", "n4"]);
    assert_eq!(first["hasMore"], true);
    assert_eq!(
        first["items"][0],
        json!({
            "id": ids[4],
            "type": "POST_LIKED",
            "title": "n5",
            "message": "n5!",
            "read": false,
            "actor": { "id": alice.user_id, "username": "alice", "image": null },
            "data": { "title": "n5" },
            "createdAt": first["items"][0]["createdAt"],
        })
    );
    assert!(
        first["items"][0]["createdAt"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))
    );
    let cursor = first["nextCursor"].as_str().expect("cursor");
    let second = inbox(&app, &bob, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(titles(&second), ["n3", "n2"]);
    let cursor = second["nextCursor"].as_str().expect("cursor");
    let last = inbox(&app, &bob, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(titles(&last), ["n1"]);
    assert_eq!(last["hasMore"], false);
    assert_eq!(last["nextCursor"], Value::Null);

    let read = put(
        &app,
        &format!("/api/notifications/{}/read", ids[3]),
        Some(&bob.token),
    )
    .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body, json!({ "success": true }));
    let unread = inbox(&app, &bob, "?unreadOnly=true").await;
    assert_eq!(titles(&unread), ["n5", "n3", "n2", "n1"]);
    let everything = inbox(&app, &bob, "").await;
    assert_eq!(titles(&everything), ["n5", "n4", "n3", "n2", "n1"]);
    assert_eq!(everything["items"][1]["read"], true);
    let unread_page = inbox(&app, &bob, "?unreadOnly=true&limit=1").await;
    let cursor = unread_page["nextCursor"].as_str().expect("cursor");
    let unread_next = inbox(
        &app,
        &bob,
        &format!("?unreadOnly=true&limit=2&cursor={cursor}"),
    )
    .await;
    assert_eq!(titles(&unread_next), ["n3", "n2"]);

    for (query, field) in [
        ("?cursor=%%%", "cursor"),
        ("?limit=0", "limit"),
        ("?limit=101", "limit"),
        ("?unreadOnly=maybe", "unreadOnly"),
    ] {
        let response = app
            .get(&format!("/api/notifications{query}"), Some(&bob.token))
            .await;
        response.assert_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["fields"][field].is_string(),
            "{query}: {}",
            response.body
        );
    }
}

#[tokio::test]
async fn only_the_owner_reads_a_notification_and_others_learn_nothing() {
    let app = TestApp::new().await;
    let bob = app.register("bob").await;
    let alice = app.register("alice").await;
    let id = store(
        &app,
        &bob,
        NotificationType::UserFollowed,
        Some(&alice),
        "followed",
    )
    .await;

    put(
        &app,
        &format!("/api/notifications/{id}/read"),
        Some(&alice.token),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    put(
        &app,
        "/api/notifications/no-such-id/read",
        Some(&alice.token),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    put(&app, &format!("/api/notifications/{id}/read"), None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    let still = inbox(&app, &bob, "").await;
    assert_eq!(still["items"][0]["read"], false);

    for _ in 0..2 {
        let read = put(
            &app,
            &format!("/api/notifications/{id}/read"),
            Some(&bob.token),
        )
        .await;
        assert_eq!(read.body, json!({ "success": true }));
    }
    let row = entity::notification::Entity::find_by_id(id.clone())
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("row");
    assert!(row.read && row.read_at.is_some());
}

#[tokio::test]
async fn read_all_and_the_unread_count() {
    let app = TestApp::new().await;
    let bob = app.register("bob").await;
    let alice = app.register("alice").await;
    for index in 0..3 {
        store(
            &app,
            &bob,
            NotificationType::Mention,
            Some(&alice),
            &format!("m{index}"),
        )
        .await;
    }
    store(
        &app,
        &alice,
        NotificationType::Mention,
        Some(&bob),
        "alice's",
    )
    .await;
    assert_eq!(unread_count(&app, &bob).await, json!({ "count": 3 }));

    let all = put(&app, "/api/notifications/read-all", Some(&bob.token)).await;
    assert_eq!(all.status, 200);
    assert_eq!(
        all.body,
        json!({ "success": true, "data": { "updated": 3 } })
    );
    let again = put(&app, "/api/notifications/read-all", Some(&bob.token)).await;
    assert_eq!(again.data(200), &json!({ "updated": 0 }));
    assert_eq!(unread_count(&app, &bob).await, json!({ "count": 0 }));
    assert_eq!(unread_count(&app, &alice).await, json!({ "count": 1 }));
    let unread = inbox(&app, &bob, "?unreadOnly=true").await;
    assert_eq!(unread["items"], json!([]));

    for (method, path) in [
        (Method::GET, "/api/notifications"),
        (Method::GET, "/api/notifications/unread-count"),
        (Method::PUT, "/api/notifications/read-all"),
    ] {
        app.call(method, path, None, None)
            .await
            .assert_error(401, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn a_broadcast_is_for_admins_and_reaches_everyone_else_once() {
    // The mail about the notice waits for its window: only the delivery job runs.
    let app = TestApp::with_config(|config| config.mail.mail_coalesce_secs = 3600).await;
    let admin = app.register("admin").await;
    app.set_role(&admin.user_id, "ADMIN").await;
    let moderator = app.register("moderator").await;
    app.set_role(&moderator.user_id, "MODERATOR").await;
    let mut users = Vec::new();
    for index in 0..4 {
        users.push(app.register(&format!("user_{index}")).await);
    }
    let suspended = app.register("suspended").await;
    app.state
        .db
        .execute_unprepared(&format!(
            "UPDATE users SET status = 'SUSPENDED' WHERE id = '{}'",
            suspended.user_id
        ))
        .await
        .expect("suspend");
    app.run_jobs().await; // the welcome mails
    let body = json!({ "title": "Maintenance", "message": "Back in five minutes" });

    for token in [&moderator.token, &users[0].token] {
        app.post("/api/admin/notifications", Some(token), body.clone())
            .await
            .assert_error(403, "FORBIDDEN");
    }
    app.post("/api/admin/notifications", None, body.clone())
        .await
        .assert_error(401, "UNAUTHORIZED");
    for (bad, field) in [
        (json!({ "title": "", "message": "m" }), "title"),
        (json!({ "title": "t".repeat(201), "message": "m" }), "title"),
        (
            json!({ "title": "t", "message": "m".repeat(2001) }),
            "message",
        ),
        (json!({ "title": "t" }), "message"),
    ] {
        let response = app
            .post("/api/admin/notifications", Some(&admin.token), bad)
            .await;
        response.assert_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["fields"][field].is_string(),
            "{}",
            response.body
        );
    }
    assert_eq!(kinds_and_data(&app, &users[0]).await, Vec::new());

    let sent = app
        .post("/api/admin/notifications", Some(&admin.token), body)
        .await;
    let sent = sent.data(200);
    assert_eq!(sent["recipients"], 5, "{sent}");
    let job_id = sent["jobId"].as_str().expect("the delivery job's id");
    assert_eq!(app.run_jobs().await, 1, "one job delivers the broadcast");
    let delivery = entity::job::Entity::find_by_id(job_id)
        .one(&app.state.db)
        .await
        .expect("read the job")
        .expect("the delivery job");
    assert_eq!((delivery.state.as_str(), delivery.attempt), ("done", 1));
    let last_recipient = [
        &moderator.user_id,
        &users[0].user_id,
        &users[1].user_id,
        &users[2].user_id,
        &users[3].user_id,
    ]
    .into_iter()
    .max()
    .expect("recipients");
    assert_eq!(
        delivery
            .progress
            .as_deref()
            .map(serde_json::from_str::<Value>)
            .and_then(Result::ok),
        Some(json!({ "after": last_recipient })),
        "the delivery checkpoints after its last batch"
    );
    for user in users.iter().chain([&moderator]) {
        let page = inbox(&app, user, "").await;
        let items = page["items"].as_array().expect("items");
        assert_eq!(items.len(), 1, "{page}");
        assert_eq!(items[0]["type"], "SYSTEM");
        assert_eq!(items[0]["title"], "Maintenance");
        assert_eq!(items[0]["message"], "Back in five minutes");
        assert_eq!(items[0]["data"], json!({}));
        assert_eq!(items[0]["actor"]["username"], "admin");
    }
    assert!(kinds_and_data(&app, &admin).await.is_empty());
    let suspended_rows = entity::notification::Entity::find()
        .filter(entity::notification::Column::UserId.eq(&suspended.user_id))
        .all(&app.state.db)
        .await
        .expect("query");
    assert!(suspended_rows.is_empty());
}

const FEED_QUERY: &str = "query($first: Int, $after: String, $unread: Boolean) {
    notifications(first: $first, after: $after, unreadOnly: $unread) {
        edges { cursor node { id type title message read data createdAt actor { id username image } } }
        pageInfo { hasNextPage endCursor }
    }
    unreadNotificationCount
}";

#[tokio::test]
async fn graphql_notifications_match_rest() {
    let app = TestApp::new().await;
    let bob = app.register("bob").await;
    let alice = app.register("alice").await;
    for (index, kind) in [
        NotificationType::UserFollowed,
        NotificationType::Mention,
        NotificationType::System,
        NotificationType::PostLiked,
        NotificationType::LevelUp,
    ]
    .into_iter()
    .enumerate()
    {
        let actor = (kind != NotificationType::System).then_some(&alice);
        store(&app, &bob, kind, actor, &format!("t{index}")).await;
    }
    let second = inbox(&app, &bob, "").await["items"][1]["id"].clone();
    put(
        &app,
        &format!("/api/notifications/{}/read", second.as_str().expect("id")),
        Some(&bob.token),
    )
    .await
    .data(200);

    for unread in [false, true] {
        let mut rest_cursor: Option<String> = None;
        let mut graphql_cursor: Option<String> = None;
        loop {
            let mut query = format!("?limit=2&unreadOnly={unread}");
            if let Some(cursor) = &rest_cursor {
                query.push_str(&format!("&cursor={cursor}"));
            }
            let rest = inbox(&app, &bob, &query).await;
            let graphql = app
                .graphql(
                    FEED_QUERY,
                    json!({ "first": 2, "after": graphql_cursor, "unread": unread }),
                    Some(&bob.token),
                )
                .await;
            assert_eq!(graphql.body["data"]["unreadNotificationCount"], 4);
            let connection = &graphql.body["data"]["notifications"];
            let nodes: Vec<Value> = connection["edges"]
                .as_array()
                .expect("edges")
                .iter()
                .map(|edge| edge["node"].clone())
                .collect();
            assert_eq!(rest["items"], Value::Array(nodes), "{}", graphql.body);
            assert_eq!(rest["hasMore"], connection["pageInfo"]["hasNextPage"]);
            if rest["hasMore"] != true {
                break;
            }
            rest_cursor = rest["nextCursor"].as_str().map(str::to_owned);
            graphql_cursor = connection["pageInfo"]["endCursor"]
                .as_str()
                .map(str::to_owned);
            assert_eq!(rest_cursor, graphql_cursor);
        }
    }

    let anonymous = app
        .graphql(FEED_QUERY, json!({ "unread": false }), None)
        .await;
    assert_eq!(
        anonymous.body["errors"][0]["extensions"]["code"],
        "UNAUTHORIZED"
    );
    let bogus = app
        .graphql(
            FEED_QUERY,
            json!({ "after": "???", "unread": false }),
            Some(&bob.token),
        )
        .await;
    assert!(bogus.body["errors"][0]["extensions"]["fields"]["after"].is_string());
}

#[tokio::test]
async fn graphql_notification_mutations_match_rest() {
    let app = TestApp::new().await;
    let admin = app.register("admin").await;
    app.set_role(&admin.user_id, "ADMIN").await;
    let bob = app.register("bob").await;
    let alice = app.register("alice").await;
    let id = store(
        &app,
        &bob,
        NotificationType::CommentLiked,
        Some(&alice),
        "liked",
    )
    .await;
    store(
        &app,
        &bob,
        NotificationType::AchievementUnlocked,
        None,
        "achieved",
    )
    .await;

    let mark = "mutation($id: String!) { markNotificationRead(id: $id) { id read title } }";
    let others = app
        .graphql(mark, json!({ "id": id }), Some(&alice.token))
        .await;
    assert_eq!(others.body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    assert_eq!(
        inbox(&app, &bob, "?unreadOnly=true").await["items"]
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let own = app
        .graphql(mark, json!({ "id": id }), Some(&bob.token))
        .await;
    assert_eq!(
        own.body["data"]["markNotificationRead"],
        json!({ "id": id, "read": true, "title": "liked" })
    );

    let all = app
        .graphql(
            "mutation { markAllNotificationsRead { updated } }",
            json!({}),
            Some(&bob.token),
        )
        .await;
    assert_eq!(
        all.body["data"]["markAllNotificationsRead"],
        json!({ "updated": 1 })
    );
    let count = app
        .graphql("{ unreadNotificationCount }", json!({}), Some(&bob.token))
        .await;
    assert_eq!(count.body["data"]["unreadNotificationCount"], 0);

    let broadcast = "mutation($t: String!, $m: String!) { broadcastSystemNotification(title: $t, message: $m) { recipients } }";
    let refused = app
        .graphql(
            broadcast,
            json!({ "t": "Hi", "m": "all" }),
            Some(&bob.token),
        )
        .await;
    assert_eq!(refused.body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    let invalid = app
        .graphql(
            broadcast,
            json!({ "t": "", "m": "all" }),
            Some(&admin.token),
        )
        .await;
    assert!(invalid.body["errors"][0]["extensions"]["fields"]["title"].is_string());
    let sent = app
        .graphql(
            broadcast,
            json!({ "t": "Hi", "m": "all" }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(
        sent.body["data"]["broadcastSystemNotification"],
        json!({ "recipients": 2 })
    );
    app.run_jobs().await;
    assert_eq!(
        app.get("/api/notifications/unread-count", Some(&alice.token))
            .await
            .data(200),
        &json!({ "count": 1 })
    );
}

#[tokio::test]
async fn read_notifications_expire_by_type() {
    let app = TestApp::new().await;
    let bob = app.register("bob").await;
    let cases = [
        (NotificationType::System, 31, true, false),
        (NotificationType::System, 29, true, true),
        (NotificationType::Mention, 8, true, false),
        (NotificationType::Mention, 6, true, true),
        (NotificationType::LevelUp, 80, true, true),
        (NotificationType::AchievementUnlocked, 91, true, false),
        (NotificationType::PostLiked, 400, false, true),
    ];
    let mut ids = Vec::new();
    for (index, (kind, days, read, _)) in cases.iter().enumerate() {
        let id = store(&app, &bob, *kind, None, &format!("case {index}")).await;
        if *read {
            entity::notification::Entity::update_many()
                .col_expr(entity::notification::Column::Read, true.into())
                .col_expr(
                    entity::notification::Column::ReadAt,
                    Some(Utc::now() - TimeDelta::days(*days)).into(),
                )
                .filter(entity::notification::Column::Id.eq(&id))
                .exec(&app.state.db)
                .await
                .expect("backdate");
        }
        ids.push(id);
    }

    let purged = purge_expired(&app.state.db).await.expect("purge");
    assert_eq!(purged, 3);
    for (id, (kind, days, _, kept)) in ids.iter().zip(cases) {
        let row = entity::notification::Entity::find_by_id(id.clone())
            .one(&app.state.db)
            .await
            .expect("query");
        assert_eq!(row.is_some(), kept, "{kind:?} read {days} days ago");
    }
    assert_eq!(purge_expired(&app.state.db).await.expect("purge"), 0);
}
