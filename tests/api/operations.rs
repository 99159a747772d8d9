//! What operators rely on: a request id on every answer and error, and log lines a
//! machine can read.

use std::{
    io::{BufRead, BufReader},
    net::{IpAddr, SocketAddr},
    process::{Command, Stdio},
    time::Duration,
};

use axum::{body::Body, extract::ConnectInfo, http::Request};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{TestApp, free_port};

#[tokio::test]
async fn every_answer_and_error_carries_the_request_id() {
    let app = TestApp::new().await;
    let missing = app.get("/api/no-such-route", None).await;
    missing.assert_error(404, "NOT_FOUND");
    let header = missing.headers["x-request-id"].to_str().expect("ascii");
    assert_eq!(missing.body["requestId"], header);

    let ok = app.get("/health", None).await;
    let other = ok.headers["x-request-id"].to_str().expect("ascii");
    assert_ne!(other, header, "ids are per request");

    let failed = app.graphql("{ nonsense }", json!({}), None).await;
    assert_eq!(
        failed.body["errors"][0]["extensions"]["requestId"],
        failed.headers["x-request-id"].to_str().expect("ascii")
    );
}

#[tokio::test]
async fn a_trusted_proxy_names_the_request_and_others_cannot() {
    let app = TestApp::with_config(|config| {
        config.server.trusted_proxies = vec!["10.0.0.0/24".parse().expect("cidr")];
    })
    .await;
    let from = |peer: &str| {
        let mut request = Request::get("/api/no-such-route")
            .header("x-request-id", "edge-7f3a")
            .body(Body::empty())
            .expect("request");
        let peer: IpAddr = peer.parse().expect("ip");
        request
            .extensions_mut()
            .insert(ConnectInfo(SocketAddr::new(peer, 40_000)));
        request
    };
    let proxied = app.send(from("10.0.0.5")).await;
    assert_eq!(proxied.headers["x-request-id"], "edge-7f3a");
    assert_eq!(proxied.body["requestId"], "edge-7f3a");
    let direct = app.send(from("203.0.113.9")).await;
    assert_ne!(direct.headers["x-request-id"], "edge-7f3a");
}

#[tokio::test]
async fn json_logs_have_one_line_per_request_with_its_id() {
    let port = free_port();
    let data_dir =
        std::env::temp_dir().join(format!("sparkle-logs-{}", uuid::Uuid::new_v4().simple()));
    let mut server = Command::new(env!("CARGO_BIN_EXE_sparkle"))
        .arg("serve")
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("LOG_FORMAT", "json")
        .env("RUST_LOG", "info")
        .env("PORT", port.to_string())
        .env("DATA_DIR", &data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let stdout = server.stdout.take().expect("stdout");
    let (lines_sender, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines_sender.send(line).is_err() {
                return;
            }
        }
    });

    let mut answer = String::new();
    for _ in 0..100 {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            stream
                .write_all(
                    b"GET /api/no-such-route HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
                )
                .await
                .expect("write");
            stream.read_to_string(&mut answer).await.expect("read");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let request_id = answer
        .lines()
        .find_map(|line| line.strip_prefix("x-request-id: "))
        .expect("a request id header")
        .trim()
        .to_owned();

    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut logged = None;
    while logged.is_none() && std::time::Instant::now() < deadline {
        let Ok(line) = lines.recv_timeout(Duration::from_millis(200)) else {
            continue;
        };
        let entry: Value = serde_json::from_str(&line)
            .unwrap_or_else(|err| panic!("not a JSON log line ({err}): {line}"));
        if entry["span"]["request_id"] == request_id.as_str() {
            logged = Some(entry);
        }
    }
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&data_dir);
    let entry = logged.expect("a log line for the request");
    assert_eq!(entry["message"], "request");
    assert_eq!(entry["status"], 404);
    assert_eq!(entry["span"]["method"], "GET");
    assert!(entry["latency_ms"].is_number(), "{entry}");
}

/// The value of the sample `series` (name and labels, as printed) in `text`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.trim().parse().ok())
}

#[tokio::test]
async fn metrics_count_requests_operations_statements_connections_and_refusals() {
    let app = TestApp::with_config(|config| {
        config.limits.rate_limit_post_create = sparkle_universe::config::RateLimit {
            count: 1,
            window: Duration::from_secs(3600),
        };
    })
    .await;
    let address = app.serve().await;
    let alice = app.register("metered").await;
    let post = app
        .create_post(
            &alice.token,
            json!({ "title": "Counted", "content": "One.", "published": true }),
        )
        .await;
    app.post(
        "/api/posts",
        Some(&alice.token),
        json!({ "title": "Too many", "content": "Two." }),
    )
    .await
    .assert_error(429, "RATE_LIMITED");
    app.post(
        &format!("/api/posts/{}/comments", post["id"].as_str().expect("id")),
        Some(&alice.token),
        json!({ "content": "An event on the bus." }),
    )
    .await
    .data(201);
    for _ in 0..2 {
        app.get("/api/posts", None).await.data(200);
    }
    app.graphql("query Cats { categories { id } }", json!({}), None)
        .await;
    app.graphql("query Broken { nonsense }", json!({}), None)
        .await;
    let mut socket =
        crate::ws_client::WsClient::connect(address, crate::ws_client::Protocol::TransportWs, None)
            .await
            .expect("connected");
    socket
        .subscribe("o", "subscription { onlineUsers { count } }", json!({}))
        .await;
    socket.next_data("o").await;

    let scraped = app.get("/metrics", None).await;
    assert_eq!(scraped.status, 200);
    let text = scraped.body.as_str().expect("text").to_owned();
    let expect_at_least = |series: &str, least: f64| {
        let value = sample(&text, series).unwrap_or_else(|| panic!("no {series} in\n{text}"));
        assert!(value >= least, "{series} = {value}");
    };
    expect_at_least(
        r#"sparkle_http_requests_total{method="GET",route="/api/posts",status="200"}"#,
        2.0,
    );
    expect_at_least(
        r#"sparkle_http_request_duration_seconds_count{method="GET",route="/api/posts"}"#,
        2.0,
    );
    expect_at_least(
        r#"sparkle_graphql_operations_total{operation="Cats",outcome="ok"}"#,
        1.0,
    );
    expect_at_least(
        r#"sparkle_graphql_operations_total{operation="Broken",outcome="error"}"#,
        1.0,
    );
    expect_at_least("sparkle_sql_statements_total", 5.0);
    expect_at_least(
        r#"sparkle_database_connections{pool="reader",state="idle"}"#,
        0.0,
    );
    expect_at_least("sparkle_websockets_open", 1.0);
    expect_at_least("sparkle_subscriptions_live", 1.0);
    expect_at_least("sparkle_bus_events_published_total", 1.0);
    expect_at_least("sparkle_bus_events_received_total", 1.0);
    expect_at_least(
        r#"sparkle_rate_limit_refusals_total{limit="post_create"}"#,
        1.0,
    );
    socket.close().await;
}

#[tokio::test]
async fn metrics_need_the_token_when_one_is_set() {
    let app = TestApp::with_config(|config| {
        config.observability.metrics_token = Some(
            "metrics-token-metrics-token-0123456789"
                .parse()
                .expect("token"),
        );
    })
    .await;
    app.get("/metrics", None)
        .await
        .assert_error(404, "NOT_FOUND");
    app.get("/metrics", Some("wrong-token"))
        .await
        .assert_error(404, "NOT_FOUND");
    let scraped = app
        .get("/metrics", Some("metrics-token-metrics-token-0123456789"))
        .await;
    assert_eq!(scraped.status, 200);
    assert!(
        scraped
            .body
            .as_str()
            .is_some_and(|text| text.contains("# EOF"))
    );
}
