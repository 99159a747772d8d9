//! Several instances behind a load balancer: PostgreSQL and Redis shared, events
//! produced on one instance reach subscribers on another. Runs when
//! `TEST_DATABASE_URL` (PostgreSQL) and `TEST_REDIS_URL` are set (CI sets both).

use std::time::Duration;

use serde_json::json;

use crate::{
    support::TestApp,
    ws_client::{Protocol, WsClient},
};

/// The longest a cross-instance event may take.
const WITHIN: Duration = Duration::from_secs(1);

#[tokio::test]
async fn a_subscriber_on_one_instance_hears_actions_on_another() {
    let Some(instances) = TestApp::cluster(2).await else {
        eprintln!("skipped: set TEST_DATABASE_URL (postgres) and TEST_REDIS_URL");
        return;
    };
    let (a, b) = (&instances[0], &instances[1]);
    let address_b = b.serve().await;

    let author = a.register("author").await;
    let fan = b.register("fan").await;
    let post = a
        .create_post(
            &author.token,
            json!({ "title": "across", "content": "text", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id");

    let mut socket = WsClient::connect(address_b, Protocol::TransportWs, Some(&author.token))
        .await
        .expect("connected to B");
    socket
        .subscribe(
            "n",
            "subscription { notificationAdded { type actor { username } } }",
            json!({}),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;

    let commented = a
        .post(
            &format!("/api/posts/{post_id}/comments"),
            Some(&fan.token),
            json!({ "content": "hello from A" }),
        )
        .await;
    assert_eq!(commented.status, 201, "{}", commented.body);
    let received = tokio::time::timeout(WITHIN, socket.next_data("n"))
        .await
        .expect("delivered within one second");
    assert_eq!(
        received["notificationAdded"],
        json!({ "type": "POST_COMMENTED", "actor": { "username": "fan" } })
    );
}

#[tokio::test]
async fn presence_and_session_ends_cross_instances() {
    let Some(instances) = TestApp::cluster(2).await else {
        eprintln!("skipped: set TEST_DATABASE_URL (postgres) and TEST_REDIS_URL");
        return;
    };
    let (a, b) = (&instances[0], &instances[1]);
    let (address_a, address_b) = (a.serve().await, b.serve().await);
    let user = a.register("wanderer").await;

    let mut watcher = WsClient::connect(address_b, Protocol::Legacy, None)
        .await
        .expect("watcher on B");
    watcher
        .subscribe(
            "online",
            "subscription { onlineUsers { count userIds } }",
            json!({}),
        )
        .await;
    assert_eq!(watcher.next_data("online").await["onlineUsers"]["count"], 0);

    let mut on_a = WsClient::connect(address_a, Protocol::TransportWs, Some(&user.token))
        .await
        .expect("user on A");
    let online = tokio::time::timeout(WITHIN, watcher.next_data("online"))
        .await
        .expect("presence within one second");
    assert_eq!(
        online["onlineUsers"],
        json!({ "count": 1, "userIds": [user.user_id] })
    );

    // Logging out everywhere on B closes the socket on A.
    let logout = b
        .post(
            "/api/auth/logout",
            Some(&user.token),
            json!({ "allSessions": true }),
        )
        .await;
    assert_eq!(logout.status, 200);
    let closed = tokio::time::timeout(WITHIN, on_a.closed())
        .await
        .expect("closed within one second");
    assert_eq!(closed.code, 4403);
    let offline = tokio::time::timeout(WITHIN, watcher.next_data("online"))
        .await
        .expect("offline within one second");
    assert_eq!(offline["onlineUsers"]["count"], 0);
}
