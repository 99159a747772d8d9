//! Several instances behind a load balancer: PostgreSQL and Redis shared, events
//! produced on one instance reach subscribers on another. Runs when
//! `TEST_DATABASE_URL` (PostgreSQL) and `TEST_REDIS_URL` are set (CI sets both).

use std::time::Duration;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::json;
use sparkle_universe::config::RateLimit;

use crate::{
    support::{PrivateRedis, TestApp},
    ws_client::{Protocol, WsClient},
};

/// The longest a cross-instance event may take.
const WITHIN: Duration = Duration::from_secs(1);

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: TEST_DATABASE_URL and TEST_REDIS_URL, then --include-ignored"]
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
#[ignore = "needs PostgreSQL and Redis: TEST_DATABASE_URL and TEST_REDIS_URL, then --include-ignored"]
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

fn limited(count: u32) -> RateLimit {
    RateLimit {
        count,
        window: Duration::from_secs(3600),
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL and Redis: TEST_DATABASE_URL and TEST_REDIS_URL, then --include-ignored"]
async fn instances_share_one_rate_budget_and_one_login_lockout() {
    let Some(instances) = TestApp::cluster_with(2, |config| {
        config.limits.rate_limit_post_create = limited(3);
        config.auth.login_lockout_attempts = 3;
    })
    .await
    else {
        eprintln!("skipped: set TEST_DATABASE_URL (postgres) and TEST_REDIS_URL");
        return;
    };
    let (a, b) = (&instances[0], &instances[1]);
    let writer = a.register("budget").await;
    let body = |title: &str| json!({ "title": title, "content": "text", "published": true });
    let token = Some(writer.token.as_str());
    a.post("/api/posts", token, body("one")).await.data(201);
    b.post("/api/posts", token, body("two")).await.data(201);
    a.post("/api/posts", token, body("three")).await.data(201);
    // Three posts across the cluster spend the budget on every instance.
    b.post("/api/posts", token, body("four"))
        .await
        .assert_error(429, "RATE_LIMITED");
    a.post("/api/posts", token, body("five"))
        .await
        .assert_error(429, "RATE_LIMITED");

    let wrong = json!({ "email": "budget@example.com", "password": "Wrong-pass1" });
    for instance in [a, b, a] {
        instance
            .post("/api/auth/login", None, wrong.clone())
            .await
            .assert_error(401, "INVALID_CREDENTIALS");
    }
    let right = json!({ "email": "budget@example.com", "password": crate::support::PASSWORD });
    for instance in [a, b] {
        instance
            .post("/api/auth/login", None, right.clone())
            .await
            .assert_error(429, "ACCOUNT_LOCKED");
    }
}

#[tokio::test]
#[ignore = "needs redis-server: TEST_REDIS_URL, then --include-ignored"]
async fn rate_limits_fall_back_to_each_instance_while_redis_is_down() {
    let Some(redis) = PrivateRedis::start().await else {
        eprintln!("skipped: set TEST_REDIS_URL (and have redis-server installed)");
        return;
    };
    // Two instances (each with its own database) counting in one Redis; anonymous
    // requests of this test all come from one unknown address.
    let channel = format!("sparkle:test:{}", uuid::Uuid::new_v4().simple());
    let mut instances = Vec::new();
    for _ in 0..2 {
        let (url, channel) = (redis.url(), channel.clone());
        instances.push(
            TestApp::with_config(move |config| {
                config.realtime.redis_url = Some(url);
                config.realtime.redis_channel = channel;
                config.limits.rate_limit_api = limited(2);
            })
            .await,
        );
    }
    let (a, b) = (&instances[0], &instances[1]);
    a.get("/api/posts", None).await.data(200);
    b.get("/api/posts", None).await.data(200);
    a.get("/api/posts", None)
        .await
        .assert_error(429, "RATE_LIMITED");

    let redis = redis
        .restart_after(async {
            // Redis is down: every request is answered, the limit applies per instance.
            for instance in [a, b] {
                instance.get("/api/posts", None).await.data(200);
                instance.get("/api/posts", None).await.data(200);
                instance
                    .get("/api/posts", None)
                    .await
                    .assert_error(429, "RATE_LIMITED");
            }
        })
        .await;
    // Back (and empty): one budget again, once the retry delay has passed.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    a.get("/api/posts", None).await.data(200);
    b.get("/api/posts", None).await.data(200);
    b.get("/api/posts", None)
        .await
        .assert_error(429, "RATE_LIMITED");
    drop(redis);
}

const WRITERS: usize = 8;
const COMMENTS_PER_WRITER: usize = 10;

/// The ids of `count` comments a subscription `id` receives, in arrival order.
async fn receive_comments(socket: &mut WsClient, id: &str, count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    while ids.len() < count {
        let data = socket.next_data(id).await;
        ids.push(
            data["commentAdded"]["id"]
                .as_str()
                .expect("comment id")
                .to_owned(),
        );
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streams_deliver_every_comment_once_in_commit_order_under_concurrent_writers() {
    // Two instances on PostgreSQL and Redis when available, else one on a SQLite file.
    let instances = match TestApp::cluster(2).await {
        Some(instances) => instances,
        None => vec![TestApp::with_file_database().await],
    };
    let instances = std::sync::Arc::new(instances);
    let first = &instances[0];
    let last = &instances[instances.len() - 1];
    let (address_first, address_last) = (first.serve().await, last.serve().await);
    let author = first.register("streamed").await;
    let post = first
        .create_post(
            &author.token,
            json!({ "title": "Busy thread", "content": "Talk.", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id").to_owned();
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        writers.push(first.register(&format!("streamer{writer}")).await.token);
    }
    const SUBSCRIPTION: &str =
        "subscription($p: ID!, $a: ID) { commentAdded(postId: $p, after: $a) { id } }";
    let mut live = WsClient::connect(address_last, Protocol::TransportWs, None)
        .await
        .expect("live subscriber");
    live.subscribe("c", SUBSCRIPTION, json!({ "p": post_id }))
        .await;
    let mut resuming = WsClient::connect(address_first, Protocol::TransportWs, None)
        .await
        .expect("resuming subscriber");
    resuming
        .subscribe("c", SUBSCRIPTION, json!({ "p": post_id }))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let mut tasks = tokio::task::JoinSet::new();
    for (writer, token) in writers.into_iter().enumerate() {
        let (instances, post_id) = (instances.clone(), post_id.clone());
        tasks.spawn(async move {
            for index in 0..COMMENTS_PER_WRITER {
                // Alternate instances, so commits race across them.
                let instance = &instances[(writer + index) % instances.len()];
                let response = instance
                    .post(
                        &format!("/api/posts/{post_id}/comments"),
                        Some(&token),
                        json!({ "content": format!("{writer}-{index}") }),
                    )
                    .await;
                assert_eq!(response.status, 201, "{}", response.body);
            }
        });
    }
    let total = WRITERS * COMMENTS_PER_WRITER;
    // The resuming subscriber leaves part way, then comes back after its last one.
    let mut resumed = receive_comments(&mut resuming, "c", total / 4).await;
    resuming.close().await;
    let mut resuming = WsClient::connect(address_last, Protocol::TransportWs, None)
        .await
        .expect("reconnected");
    let seen = resumed.last().cloned().expect("some seen");
    resuming
        .subscribe("c", SUBSCRIPTION, json!({ "p": post_id, "a": seen }))
        .await;
    while let Some(finished) = tasks.join_next().await {
        finished.expect("writer");
    }
    resumed.extend(receive_comments(&mut resuming, "c", total - resumed.len()).await);
    let delivered = receive_comments(&mut live, "c", total).await;

    let db = &first.state.db;
    let committed: Vec<String> = entity::comment::Entity::find()
        .filter(entity::comment::Column::PostId.eq(&post_id))
        .order_by_asc(entity::comment::Column::FeedPosition)
        .all(db)
        .await
        .expect("comments")
        .into_iter()
        .map(|comment| comment.id)
        .collect();
    assert_eq!(committed.len(), total);
    assert_eq!(delivered, committed, "live subscriber");
    assert_eq!(resumed, committed, "resuming subscriber");
    live.assert_quiet("c", Duration::from_millis(300)).await;
    resuming.assert_quiet("c", Duration::from_millis(300)).await;
}
