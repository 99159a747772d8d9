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

use crate::support::TestApp;

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
        config.trusted_proxies = vec!["10.0.0.0/24".parse().expect("cidr")];
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
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port();
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
