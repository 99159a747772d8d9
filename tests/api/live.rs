//! Live updates over a real WebSocket on an ephemeral port: authentication in
//! `connection_init`, keep-alives, presence, typing, and sessions that end.

use std::time::Duration;

use serde_json::json;

use crate::{
    support::{PrivateRedis, TestApp},
    ws_client::{Protocol, WAIT, WsClient},
};

const ONLINE: &str = "subscription { onlineUsers { count userIds } }";

#[tokio::test]
async fn a_bad_token_is_refused_at_connection_init() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    for protocol in Protocol::BOTH {
        let refused = WsClient::connect(address, protocol, Some("not-a-token")).await;
        let closed = refused.err().expect("connection refused");
        assert!(
            closed.code == 4403 || closed.reason.contains("Invalid access token"),
            "{protocol:?}: {closed:?}"
        );
    }
}

#[tokio::test]
async fn sockets_that_never_initialise_are_closed() {
    let app = TestApp::with_config(|config| config.realtime.ws_init_timeout_secs = 1).await;
    let address = app.serve().await;
    let mut silent = WsClient::open(address, Protocol::TransportWs).await;
    assert_eq!(silent.closed().await.code, 4408);
}

#[tokio::test]
async fn the_server_sends_keep_alives_in_each_protocol() {
    let app = TestApp::with_config(|config| config.realtime.ws_keepalive_secs = 1).await;
    let address = app.serve().await;
    for (protocol, keepalive) in [(Protocol::TransportWs, "ping"), (Protocol::Legacy, "ka")] {
        let mut client = WsClient::connect(address, protocol, None)
            .await
            .expect("anonymous connection");
        let message = client.next_with_pings().await.expect("open");
        assert_eq!(message["type"], keepalive, "{protocol:?}");
        client.close().await;
    }
}

#[tokio::test]
async fn presence_follows_live_connections_in_both_protocols() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut watcher = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("watcher");
    watcher.subscribe("online", ONLINE, json!({})).await;
    assert_eq!(watcher.next_data("online").await["onlineUsers"]["count"], 0);

    let alice_socket = WsClient::connect(address, Protocol::TransportWs, Some(&alice.token))
        .await
        .expect("alice");
    let online = watcher.next_data("online").await;
    assert_eq!(
        online["onlineUsers"],
        json!({ "count": 1, "userIds": [alice.user_id] })
    );

    let bob_socket = WsClient::connect(address, Protocol::Legacy, Some(&bob.token))
        .await
        .expect("bob");
    assert_eq!(watcher.next_data("online").await["onlineUsers"]["count"], 2);
    let mut bob_status = WsClient::connect(address, Protocol::Legacy, None)
        .await
        .expect("status watcher");
    bob_status
        .subscribe(
            "bob",
            "subscription($id: ID!) { userOnline(userId: $id) }",
            json!({ "id": bob.user_id }),
        )
        .await;
    assert_eq!(bob_status.next_data("bob").await["userOnline"], true);

    // Disconnecting frees the connection: the count drops.
    bob_socket.close().await;
    assert_eq!(
        watcher.next_data("online").await["onlineUsers"],
        json!({ "count": 1, "userIds": [alice.user_id] })
    );
    assert_eq!(bob_status.next_data("bob").await["userOnline"], false);
    alice_socket.close().await;
    assert_eq!(watcher.next_data("online").await["onlineUsers"]["count"], 0);
    assert_eq!(app.state.presence.local_connections(), 0);
}

#[tokio::test]
async fn typing_indicators_arrive_and_lapse() {
    let app = TestApp::with_config(|config| config.realtime.typing_ttl_secs = 1).await;
    let address = app.serve().await;
    let typist = app.register("typist").await;
    let post = app
        .create_post(
            &typist.token,
            json!({ "title": "Typed on", "content": "Say something.", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id");
    let typing_query =
        format!("subscription {{ typing(postId: \"{post_id}\") {{ userId username }} }}");
    let set_typing = format!("mutation {{ setTyping(postId: \"{post_id}\", typing: true) }}");
    for protocol in Protocol::BOTH {
        let mut reader = WsClient::connect(address, protocol, None)
            .await
            .expect("reader");
        reader.subscribe("t", &typing_query, json!({})).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let set = app
            .graphql(&set_typing, json!({}), Some(&typist.token))
            .await;
        assert_eq!(set.body["data"]["setTyping"], true, "{}", set.body);
        let typing = reader.next_data("t").await;
        assert_eq!(
            typing["typing"],
            json!([{ "userId": typist.user_id, "username": "typist" }]),
            "{protocol:?}"
        );
        // Not renewed: it lapses by itself.
        assert_eq!(reader.next_data("t").await["typing"], json!([]));
        reader.close().await;
    }
    let anonymous = app.graphql(&set_typing, json!({}), None).await;
    assert_eq!(
        anonymous.body["errors"][0]["extensions"]["code"],
        "UNAUTHORIZED"
    );
}

#[tokio::test]
async fn typing_on_a_draft_is_only_for_those_who_may_see_it() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let author = app.register("drafter").await;
    let stranger = app.register("stranger").await;
    let draft = app
        .create_post(
            &author.token,
            json!({ "title": "Secret draft", "content": "Not yet." }),
        )
        .await;
    let draft_id = draft["id"].as_str().expect("post id");
    let set_typing = format!("mutation {{ setTyping(postId: \"{draft_id}\", typing: true) }}");

    let refused = app
        .graphql(&set_typing, json!({}), Some(&stranger.token))
        .await;
    assert_eq!(
        refused.body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{}",
        refused.body
    );
    let allowed = app
        .graphql(&set_typing, json!({}), Some(&author.token))
        .await;
    assert_eq!(allowed.body["data"]["setTyping"], true, "{}", allowed.body);

    let mut watcher = WsClient::connect(address, Protocol::TransportWs, Some(&stranger.token))
        .await
        .expect("connected");
    watcher
        .subscribe(
            "t",
            &format!("subscription {{ typing(postId: \"{draft_id}\") {{ userId }} }}"),
            json!({}),
        )
        .await;
    let errors = watcher.next_errors("t").await;
    assert_eq!(errors[0]["extensions"]["code"], "NOT_FOUND", "{errors}");
    watcher.close().await;
}

#[tokio::test]
async fn logging_out_everywhere_closes_live_connections() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    app.register("leaving").await;
    for protocol in Protocol::BOTH {
        let session = app
            .post(
                "/api/auth/login",
                None,
                json!({ "email": "leaving@example.com", "password": crate::support::PASSWORD }),
            )
            .await;
        let token = session.data(200)["token"]
            .as_str()
            .expect("token")
            .to_owned();
        let mut socket = WsClient::connect(address, protocol, Some(&token))
            .await
            .expect("connected");
        socket.subscribe("online", ONLINE, json!({})).await;
        socket.next_data("online").await;
        let logout = app
            .post(
                "/api/auth/logout",
                Some(&token),
                json!({ "allSessions": true }),
            )
            .await;
        assert_eq!(logout.status, 200);
        let closed = tokio::time::timeout(WAIT, socket.closed())
            .await
            .expect("closed in time");
        assert_eq!(closed.code, 4403, "{protocol:?}");
    }
}

#[tokio::test]
async fn a_ban_closes_the_users_connections() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let moderator = app.register("moderator").await;
    app.set_role(&moderator.user_id, "MODERATOR").await;
    let troll = app.register("troll").await;
    let mut socket = WsClient::connect(address, Protocol::TransportWs, Some(&troll.token))
        .await
        .expect("connected");

    let banned = app
        .call(
            axum::http::Method::PUT,
            "/api/users/troll/status",
            Some(&moderator.token),
            Some(json!({ "status": "BANNED" })),
        )
        .await;
    assert_eq!(banned.data(200)["username"], "troll");
    assert_eq!(socket.closed().await.code, 4403);
    app.get("/api/auth/me", Some(&troll.token))
        .await
        .assert_error(401, "UNAUTHORIZED");

    // Only moderators ban, never themselves, and a moderator cannot ban another.
    let other = app.register("other").await;
    let by_user = app
        .call(
            axum::http::Method::PUT,
            "/api/users/moderator/status",
            Some(&other.token),
            Some(json!({ "status": "BANNED" })),
        )
        .await;
    by_user.assert_error(403, "FORBIDDEN");
    let own = app
        .call(
            axum::http::Method::PUT,
            "/api/users/moderator/status",
            Some(&moderator.token),
            Some(json!({ "status": "BANNED" })),
        )
        .await;
    own.assert_error(403, "FORBIDDEN");
    let bad = app
        .call(
            axum::http::Method::PUT,
            "/api/users/other/status",
            Some(&moderator.token),
            Some(json!({ "status": "DELETED" })),
        )
        .await;
    bad.assert_error(400, "VALIDATION_ERROR");
    for wrong_type in [
        json!({ "status": 5 }),
        json!({ "status": null }),
        json!({ "status": ["BANNED"] }),
    ] {
        let response = app
            .call(
                axum::http::Method::PUT,
                "/api/users/other/status",
                Some(&moderator.token),
                Some(wrong_type),
            )
            .await;
        response.assert_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["fields"]["status"].is_string(),
            "{}",
            response.body
        );
    }
    let reinstated = app
        .graphql(
            "mutation { setUserStatus(username: \"troll\", input: {status: ACTIVE}) { username } }",
            json!({}),
            Some(&moderator.token),
        )
        .await;
    assert_eq!(
        reinstated.body["data"]["setUserStatus"]["username"], "troll",
        "{}",
        reinstated.body
    );
    let login = app
        .post(
            "/api/auth/login",
            None,
            json!({ "email": "troll@example.com", "password": crate::support::PASSWORD }),
        )
        .await;
    assert_eq!(login.status, 200);
}

#[tokio::test]
async fn an_expiring_token_closes_its_connection() {
    let app = TestApp::with_config(|config| config.auth.access_token_ttl_secs = 1).await;
    let address = app.serve().await;
    let user = app.register("shortlived").await;
    let mut socket = WsClient::connect(address, Protocol::Legacy, Some(&user.token))
        .await
        .expect("connected");
    let closed = socket.closed().await;
    assert_eq!(closed.code, 4401);
    assert!(closed.reason.contains("expired"));
}

/// Posts `count` comments by `token` on `post_id`.
async fn comment(app: &TestApp, token: &str, post_id: &str, count: usize) {
    for index in 0..count {
        let response = app
            .post(
                &format!("/api/posts/{post_id}/comments"),
                Some(token),
                json!({ "content": format!("comment {index}") }),
            )
            .await;
        assert_eq!(response.status, 201, "{}", response.body);
    }
}

/// Ids of `user_id`'s notifications in creation order.
async fn notification_ids(app: &TestApp, user_id: &str) -> Vec<String> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
    entity::notification::Entity::find()
        .filter(entity::notification::Column::UserId.eq(user_id))
        .order_by_asc(entity::notification::Column::Id)
        .all(&app.state.db)
        .await
        .expect("notifications")
        .into_iter()
        .map(|row| row.id)
        .collect()
}

const NOTIFICATIONS: &str = "subscription($after: ID) { notificationAdded(after: $after) { id type title actor { username } } }";

#[tokio::test]
async fn notifications_arrive_live_and_resume_exactly_once() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    for (round, protocol) in Protocol::BOTH.into_iter().enumerate() {
        let author = app.register(&format!("author_{round}")).await;
        let fan = app.register(&format!("fan_{round}")).await;
        let post = app
            .create_post(
                &author.token,
                json!({ "title": "live", "content": "text", "published": true }),
            )
            .await;
        let post_id = post["id"].as_str().expect("post id");

        let mut socket = WsClient::connect(address, protocol, Some(&author.token))
            .await
            .expect("connected");
        socket.subscribe("n", NOTIFICATIONS, json!({})).await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        comment(&app, &fan.token, post_id, 1).await;
        let first = socket.next_data("n").await;
        assert_eq!(
            first["notificationAdded"]["type"], "POST_COMMENTED",
            "{protocol:?}"
        );
        assert_eq!(
            first["notificationAdded"]["actor"]["username"],
            format!("fan_{round}")
        );
        let seen = first["notificationAdded"]["id"]
            .as_str()
            .expect("id")
            .to_owned();
        socket.close().await;

        // Offline: three more happen.
        comment(&app, &fan.token, post_id, 3).await;
        let missed: Vec<String> = notification_ids(&app, &author.user_id)
            .await
            .into_iter()
            .skip(1)
            .collect();
        assert_eq!(missed.len(), 3);

        let mut socket = WsClient::connect(address, protocol, Some(&author.token))
            .await
            .expect("reconnected");
        socket
            .subscribe("n", NOTIFICATIONS, json!({ "after": seen }))
            .await;
        for expected in &missed {
            assert_eq!(
                socket.next_data("n").await["notificationAdded"]["id"],
                expected.as_str(),
                "{protocol:?}: replay order"
            );
        }
        comment(&app, &fan.token, post_id, 1).await;
        let live = socket.next_data("n").await;
        let newest = notification_ids(&app, &author.user_id)
            .await
            .pop()
            .expect("newest");
        assert_eq!(live["notificationAdded"]["id"], newest.as_str());
        socket.assert_quiet("n", Duration::from_millis(300)).await;
        socket.close().await;
    }
}

#[tokio::test]
async fn notification_streams_need_a_signed_in_viewer() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let mut anonymous = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("anonymous");
    anonymous.subscribe("n", NOTIFICATIONS, json!({})).await;
    let errors = anonymous.next_errors("n").await;
    assert!(errors.to_string().contains("UNAUTHORIZED"), "{errors}");
}

#[tokio::test]
async fn comments_and_reactions_stream_per_post() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let author = app.register("poster").await;
    let reader = app.register("reader").await;
    let post = app
        .create_post(
            &author.token,
            json!({ "title": "watched", "content": "text", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id").to_owned();
    let other = app
        .create_post(
            &author.token,
            json!({ "title": "other", "content": "text", "published": true }),
        )
        .await;
    for protocol in Protocol::BOTH {
        let mut socket = WsClient::connect(address, protocol, None)
            .await
            .expect("anonymous reader");
        socket.subscribe("c", "subscription($p: ID!) { commentAdded(postId: $p) { id content author { username } } }", json!({ "p": post_id })).await;
        socket
            .subscribe(
                "r",
                "subscription($p: ID!) { reactionsChanged(postId: $p) { id reactions { total } } }",
                json!({ "p": post_id }),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;

        comment(&app, &reader.token, other["id"].as_str().expect("id"), 1).await;
        comment(&app, &reader.token, &post_id, 1).await;
        let added = socket.next_data("c").await;
        assert_eq!(
            added["commentAdded"]["content"], "comment 0",
            "{protocol:?}"
        );
        assert_eq!(added["commentAdded"]["author"]["username"], "reader");

        let reacted = app
            .call(
                axum::http::Method::PUT,
                &format!("/api/posts/{post_id}/reactions"),
                Some(&reader.token),
                Some(json!({ "type": "FIRE" })),
            )
            .await;
        assert_eq!(reacted.status, 200, "{}", reacted.body);
        let changed = socket.next_data("r").await;
        assert_eq!(changed["reactionsChanged"]["id"], post_id.as_str());
        assert!(
            changed["reactionsChanged"]["reactions"]["total"]
                .as_i64()
                .is_some_and(|total| total >= 1)
        );
        app.call(
            axum::http::Method::DELETE,
            &format!("/api/posts/{post_id}/reactions"),
            Some(&reader.token),
            None,
        )
        .await;
        let removed = socket.next_data("r").await;
        assert_eq!(removed["reactionsChanged"]["reactions"]["total"], 0);
        socket.close().await;
    }

    // Resume: comments missed while away arrive first, in order.
    let mut socket = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("reader");
    let first_id = {
        socket
            .subscribe(
                "c",
                "subscription($p: ID!) { commentAdded(postId: $p) { id } }",
                json!({ "p": post_id }),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        comment(&app, &reader.token, &post_id, 1).await;
        socket.next_data("c").await["commentAdded"]["id"]
            .as_str()
            .expect("id")
            .to_owned()
    };
    socket.close().await;
    comment(&app, &reader.token, &post_id, 2).await;
    let mut socket = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("reader");
    socket
        .subscribe(
            "c",
            "subscription($p: ID!, $a: ID) { commentAdded(postId: $p, after: $a) { id content } }",
            json!({ "p": post_id, "a": first_id }),
        )
        .await;
    assert_eq!(
        socket.next_data("c").await["commentAdded"]["content"],
        "comment 0"
    );
    assert_eq!(
        socket.next_data("c").await["commentAdded"]["content"],
        "comment 1"
    );
    socket.assert_quiet("c", Duration::from_millis(300)).await;

    let mut unknown = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("reader");
    unknown
        .subscribe(
            "x",
            "subscription { commentAdded(postId: \"nope\") { id } }",
            json!({}),
        )
        .await;
    assert!(
        unknown
            .next_errors("x")
            .await
            .to_string()
            .contains("NOT_FOUND")
    );
}

/// Runs when `GRAPHQL_WS_CLIENT_DIR` points at `tests/node` with its packages
/// installed (`npm ci --prefix tests/node`; CI does this).
#[tokio::test]
#[ignore = "needs npm: GRAPHQL_WS_CLIENT_DIR=tests/node after npm ci --prefix tests/node, then --include-ignored"]
async fn the_graphql_ws_library_receives_live_comments() {
    use tokio::io::{AsyncBufReadExt, BufReader};
    let Ok(client_dir) = std::env::var("GRAPHQL_WS_CLIENT_DIR") else {
        eprintln!(
            "skipped: set GRAPHQL_WS_CLIENT_DIR=tests/node after `npm ci --prefix tests/node`"
        );
        return;
    };
    let app = TestApp::new().await;
    let address = app.serve().await;
    let author = app.register("npm_author").await;
    let post = app
        .create_post(
            &author.token,
            json!({ "title": "npm", "content": "text", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id");

    let mut client = tokio::process::Command::new("node")
        .arg(std::path::Path::new(&client_dir).join("subscribe.mjs"))
        .args([
            format!("ws://{address}/graphql/ws"),
            author.token.clone(),
            post_id.to_owned(),
            "2".to_owned(),
        ])
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node runs");
    let mut lines = BufReader::new(client.stdout.take().expect("stdout")).lines();
    let next_line = async |lines: &mut tokio::io::Lines<_>| -> serde_json::Value {
        let line = tokio::time::timeout(WAIT, lines.next_line())
            .await
            .expect("in time")
            .expect("read")
            .expect("a line");
        serde_json::from_str(&line).expect("json line")
    };
    assert_eq!(next_line(&mut lines).await, json!({ "ready": true }));
    tokio::time::sleep(Duration::from_millis(300)).await;
    comment(&app, &author.token, post_id, 2).await;
    for index in 0..2 {
        let result = next_line(&mut lines).await;
        assert_eq!(
            result["data"]["commentAdded"]["content"],
            format!("comment {index}"),
            "{result}"
        );
        assert_eq!(
            result["data"]["commentAdded"]["author"]["username"],
            "npm_author"
        );
    }
    let status = tokio::time::timeout(WAIT, client.wait())
        .await
        .expect("exits")
        .expect("status");
    assert!(status.success());
}

async fn wait_until_ready_says(app: &TestApp, status: &str) {
    for _ in 0..100 {
        if app.get("/ready", None).await.body["status"] == status {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("/ready never said {status}");
}

#[tokio::test]
#[ignore = "needs redis-server: TEST_REDIS_URL, then --include-ignored"]
async fn a_live_subscriber_gets_what_it_missed_while_redis_was_down() {
    let Some(redis) = PrivateRedis::start().await else {
        eprintln!("skipped: set TEST_REDIS_URL (and have redis-server installed)");
        return;
    };
    let url = redis.url();
    let app = TestApp::with_config(|config| config.realtime.redis_url = Some(url)).await;
    let address = app.serve().await;
    let author = app.register("outage").await;
    let post = app
        .create_post(
            &author.token,
            json!({ "title": "Through an outage", "content": "Keep talking.", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id").to_owned();
    let comment = |content: String| {
        let (app, token, post_id) = (&app, author.token.clone(), post_id.clone());
        async move {
            app.post(
                &format!("/api/posts/{post_id}/comments"),
                Some(&token),
                json!({ "content": content }),
            )
            .await
            .data(201)["id"]
                .as_str()
                .expect("comment id")
                .to_owned()
        }
    };
    let first = comment("before".to_owned()).await;

    let mut socket = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("connected");
    socket
        .subscribe(
            "c",
            "subscription($p: ID!, $a: ID) { commentAdded(postId: $p, after: $a) { id content } }",
            json!({ "p": post_id, "a": first }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    comment("live".to_owned()).await;
    assert_eq!(
        socket.next_data("c").await["commentAdded"]["content"],
        "live"
    );

    let mut missed = Vec::new();
    let redis = redis
        .restart_after(async {
            wait_until_ready_says(&app, "redis unreachable").await;
            for index in 0..3 {
                missed.push(comment(format!("missed {index}")).await);
            }
        })
        .await;
    wait_until_ready_says(&app, "ready").await;

    for expected in &missed {
        let added = socket.next_data("c").await;
        assert_eq!(&added["commentAdded"]["id"], expected, "{added}");
    }
    // Each exactly once: the events queued during the outage arrive too, and are
    // not delivered again.
    socket.assert_quiet("c", Duration::from_millis(1500)).await;
    comment("after".to_owned()).await;
    assert_eq!(
        socket.next_data("c").await["commentAdded"]["content"],
        "after"
    );
    drop(redis);
}

/// Stores a comment on `post_id` by `author_id` the way the domain does (a feed
/// position taken in the transaction) but announces nothing.
async fn commit_unannounced_comment(
    app: &TestApp,
    post_id: &str,
    author_id: &str,
) -> entity::comment::Model {
    use sea_orm::{ActiveModelTrait, ActiveValue::Set};
    use sparkle_universe::domain::{feed_positions, new_id, now};
    let txn = app.state.begin_write().await.expect("begin");
    let position = feed_positions::take(&txn, &feed_positions::comments_of(post_id))
        .await
        .expect("position");
    let row = entity::comment::ActiveModel {
        id: Set(new_id()),
        post_id: Set(post_id.to_owned()),
        author_id: Set(author_id.to_owned()),
        parent_id: Set(None),
        depth: Set(0),
        content: Set(format!("at position {position}")),
        youtube_timestamp: Set(None),
        edited: Set(false),
        edited_at: Set(None),
        deleted: Set(false),
        reply_count: Set(0),
        reaction_count: Set(0),
        feed_position: Set(position),
        created_at: Set(now()),
        updated_at: Set(now()),
    }
    .insert(&txn)
    .await
    .expect("insert");
    txn.commit().await.expect("commit");
    row
}

#[tokio::test]
async fn a_stream_reads_an_earlier_commit_whose_event_is_late() {
    use sparkle_universe::realtime::Event;
    let app = TestApp::new().await;
    let address = app.serve().await;
    let author = app.register("late").await;
    let post = app
        .create_post(
            &author.token,
            json!({ "title": "Out of order", "content": "Events race.", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id");
    let mut socket = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("connected");
    socket
        .subscribe(
            "c",
            "subscription($p: ID!) { commentAdded(postId: $p) { id } }",
            json!({ "p": post_id }),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let earlier = commit_unannounced_comment(&app, post_id, &author.user_id).await;
    let later = commit_unannounced_comment(&app, post_id, &author.user_id).await;
    // The later commit is announced first, as when the earlier one's instance is
    // slower to publish: the stream reads the earlier one rather than skip it.
    for comment in [later.clone(), earlier.clone()] {
        app.state.events.publish(Event::CommentAdded { comment });
    }
    for expected in [&earlier.id, &later.id] {
        let data = socket.next_data("c").await;
        assert_eq!(&data["commentAdded"]["id"], expected, "{data}");
    }
    socket.assert_quiet("c", Duration::from_millis(300)).await;
}
