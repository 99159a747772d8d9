//! Live updates over a real WebSocket on an ephemeral port: authentication in
//! `connection_init`, keep-alives, presence, typing, and sessions that end.

use std::time::Duration;

use serde_json::json;

use crate::{
    support::TestApp,
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
    let app = TestApp::with_config(|config| config.ws_init_timeout_secs = 1).await;
    let address = app.serve().await;
    let mut silent = WsClient::open(address, Protocol::TransportWs).await;
    assert_eq!(silent.closed().await.code, 4408);
}

#[tokio::test]
async fn the_server_sends_keep_alives_in_each_protocol() {
    let app = TestApp::with_config(|config| config.ws_keepalive_secs = 1).await;
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
    let app = TestApp::with_config(|config| config.typing_ttl_secs = 1).await;
    let address = app.serve().await;
    let typist = app.register("typist").await;
    for protocol in Protocol::BOTH {
        let mut reader = WsClient::connect(address, protocol, None)
            .await
            .expect("reader");
        reader
            .subscribe(
                "t",
                "subscription { typing(postId: \"post-1\") { userId username } }",
                json!({}),
            )
            .await;
        tokio::time::sleep(Duration::from_millis(100)).await;
        let set = app
            .graphql(
                "mutation { setTyping(postId: \"post-1\", typing: true) }",
                json!({}),
                Some(&typist.token),
            )
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
    let anonymous = app
        .graphql(
            "mutation { setTyping(postId: \"post-1\", typing: true) }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        anonymous.body["errors"][0]["extensions"]["code"],
        "UNAUTHORIZED"
    );
}

#[tokio::test]
async fn logging_out_everywhere_closes_live_connections() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let user = app.register("leaving").await;
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
    let _ = user;
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
    let app = TestApp::with_config(|config| config.access_token_ttl_secs = 1).await;
    let address = app.serve().await;
    let user = app.register("shortlived").await;
    let mut socket = WsClient::connect(address, Protocol::Legacy, Some(&user.token))
        .await
        .expect("connected");
    let closed = socket.closed().await;
    assert_eq!(closed.code, 4401);
    assert!(closed.reason.contains("expired"));
}
