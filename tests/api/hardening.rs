//! Hostile and careless clients: deeply nested values, NUL characters, slow and idle
//! connections, cross-site callers, and protocol details. Each must get a clear answer
//! and leave the server answering everyone else.

use std::{
    net::{IpAddr, Ipv4Addr, SocketAddr},
    time::Duration,
};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{Method, Request},
};
use serde_json::json;
use sparkle_universe::config::RateLimit;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpSocket, TcpStream},
};

use crate::{
    support::{TestApp, TestResponse},
    ws_client::{Protocol, WAIT, WsClient},
};

/// Far deeper than any stack could recurse through.
const DEPTH: usize = 100_000;

fn nested_list(levels: usize) -> String {
    format!("{}1{}", "[".repeat(levels), "]".repeat(levels))
}

fn nested_object(levels: usize) -> String {
    format!("{}1{}", "{a:".repeat(levels), "}".repeat(levels))
}

/// Asserts a GraphQL answer refusing input with `VALIDATION_ERROR`.
#[track_caller]
fn assert_graphql_validation_error(response: &TestResponse) {
    assert_eq!(
        response.body["errors"][0]["extensions"]["code"], "VALIDATION_ERROR",
        "status {}, body {}",
        response.status, response.body
    );
}

async fn assert_still_answers(app: &TestApp) {
    let health = app.get("/health", None).await;
    assert_eq!(health.body["status"], "ok");
}

#[tokio::test]
async fn deeply_nested_graphql_values_are_refused_over_post_and_get() {
    let app = TestApp::new().await;
    for literal in [nested_list(DEPTH), nested_object(DEPTH)] {
        let query = format!("{{ posts(first: 1, after: {literal}) {{ totalCount }} }}");
        let posted = app.graphql(&query, json!({}), None).await;
        assert_graphql_validation_error(&posted);

        assert_still_answers(&app).await;
    }
    // A URI is at most 64 KiB: as deep as fits in one.
    for literal in [nested_list(10_000), nested_object(4_000)] {
        let query = format!("{{ posts(first: 1, after: {literal}) {{ totalCount }} }}");
        let encoded: String = form_urlencoded::byte_serialize(query.as_bytes()).collect();
        let fetched = app.get(&format!("/graphql?query={encoded}"), None).await;
        assert_graphql_validation_error(&fetched);
        assert_still_answers(&app).await;
    }

    // Variables: the JSON body itself nests too deeply.
    let body = format!(
        r#"{{"query": "query($v: String) {{ posts(first: 1, after: $v) {{ totalCount }} }}", "variables": {{"v": {}}}}}"#,
        nested_list(DEPTH)
    );
    let posted = app.post_raw("/graphql", "application/json", &body).await;
    assert_eq!(posted.status, 400, "{}", posted.body);
    assert_graphql_validation_error(&posted);
    assert_still_answers(&app).await;

    // Just under the bound, the value reaches the schema, which refuses its type.
    let shallow = format!(
        "{{ posts(first: 1, after: {}) {{ totalCount }} }}",
        nested_list(sparkle_universe::raw_input::MAX_NESTING - 1)
    );
    let typed = app.graphql(&shallow, json!({}), None).await;
    assert_ne!(
        typed.body["errors"][0]["extensions"]["code"],
        "VALIDATION_ERROR"
    );
    assert!(
        typed.body["errors"][0]["message"].is_string(),
        "{}",
        typed.body
    );
}

#[tokio::test]
async fn deeply_nested_rest_bodies_are_refused() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    for nested in [
        nested_list(DEPTH),
        nested_object(DEPTH).replace("{a:", "{\"a\":"),
    ] {
        let body = format!(r#"{{"title": "Deep", "content": "x", "tags": {nested}}}"#);
        let request = Request::post("/api/posts")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", alice.token))
            .body(Body::from(body))
            .expect("request");
        let response = app.send(request).await;
        response.assert_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["fields"]["body"]
                .as_str()
                .is_some_and(|message| message.contains("nest")),
            "{}",
            response.body
        );
    }
    assert_still_answers(&app).await;
}

#[tokio::test]
async fn deeply_nested_values_over_a_websocket_are_refused() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let mut socket = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("connected");
    // As deep as fits in one message (64 KiB).
    let query = format!(
        "subscription {{ onlineUsers(x: {}) {{ count }} }}",
        nested_list(30_000)
    );
    socket.subscribe("deep", &query, json!({})).await;
    let errors = socket.next_errors("deep").await;
    assert_eq!(
        errors[0]["extensions"]["code"], "VALIDATION_ERROR",
        "{errors}"
    );
    // The socket still works.
    socket
        .subscribe(
            "online",
            "subscription { onlineUsers { count } }",
            json!({}),
        )
        .await;
    socket.next_data("online").await;
    socket.close().await;

    // Deeper than a message may be: the socket is closed, the server lives on.
    let mut socket = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("connected");
    let query = format!(
        "subscription {{ onlineUsers(x: {}) {{ count }} }}",
        nested_list(DEPTH)
    );
    socket.subscribe("deeper", &query, json!({})).await;
    let closed = tokio::time::timeout(WAIT, socket.closed())
        .await
        .expect("closed");
    assert_ne!(closed.code, 1000, "{closed:?}");
    let alive = WsClient::connect(address, Protocol::TransportWs, None).await;
    assert!(alive.is_ok(), "server stopped answering");
    assert_still_answers(&app).await;
}

#[tokio::test]
async fn nul_characters_are_refused_naming_the_field() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let token = Some(alice.token.as_str());
    let post = app
        .create_post(
            &alice.token,
            json!({ "title": "Clean", "content": "Clean content.", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id");
    let nul = "a\u{0}b";

    for (body, field) in [
        (json!({ "title": nul, "content": "x" }), "title"),
        (json!({ "title": "t", "content": nul }), "content"),
        (
            json!({ "title": "t", "content": "x", "tags": ["ok", nul] }),
            "tags[1]",
        ),
    ] {
        let response = app.post("/api/posts", token, body).await;
        response.assert_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["fields"][field].is_string(),
            "{}",
            response.body
        );
    }
    let comment = app
        .post(
            &format!("/api/posts/{post_id}/comments"),
            token,
            json!({ "content": nul }),
        )
        .await;
    comment.assert_error(400, "VALIDATION_ERROR");
    assert!(comment.body["fields"]["content"].is_string());
    let bio = app
        .call(
            Method::PATCH,
            "/api/users/me",
            token,
            Some(json!({ "bio": nul })),
        )
        .await;
    bio.assert_error(400, "VALIDATION_ERROR");
    assert!(bio.body["fields"]["bio"].is_string());
    let login = app
        .post(
            "/api/auth/login",
            None,
            json!({ "email": "alice\u{0}@example.com", "password": "x" }),
        )
        .await;
    login.assert_error(400, "VALIDATION_ERROR");
    assert!(login.body["fields"]["email"].is_string());
    let cursor = app
        .get(&format!("/api/posts/{post_id}/comments?cursor=a%00b"), None)
        .await;
    cursor.assert_error(400, "VALIDATION_ERROR");
    assert!(cursor.body["fields"]["cursor"].is_string());
    app.get("/api/users/a%00b", None)
        .await
        .assert_error(404, "NOT_FOUND");
    app.get("/api/posts/a%00b", None)
        .await
        .assert_error(404, "NOT_FOUND");

    let variable = app
        .graphql(
            "query($id: String!) { post(by: {id: $id}) { title } }",
            json!({ "id": nul }),
            None,
        )
        .await;
    assert_graphql_validation_error(&variable);
    assert!(variable.body["errors"][0]["extensions"]["fields"]["id"].is_string());
    let literal = app
        .graphql(
            r#"{ post(by: {id: "a\u0000b"}) { title } }"#,
            json!({}),
            None,
        )
        .await;
    assert_graphql_validation_error(&literal);
    // The server still reads the clean post.
    let clean = app.get(&format!("/api/posts/{post_id}"), None).await;
    assert_eq!(clean.data(200)["title"], "Clean");
}

/// Sends raw bytes on a new connection from `source` and returns what the server
/// answers before it closes the connection (or `WAIT` passes).
async fn raw_exchange(address: SocketAddr, source: IpAddr, request: &[u8]) -> (String, bool) {
    let mut stream = connect_from(address, source).await;
    stream.write_all(request).await.expect("write");
    read_until_closed(&mut stream).await
}

async fn connect_from(address: SocketAddr, source: IpAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(source, 0))
        .expect("bind source");
    socket.connect(address).await.expect("connect")
}

/// What arrives until the server closes the connection, and whether it did within `WAIT`.
async fn read_until_closed(stream: &mut TcpStream) -> (String, bool) {
    let mut received = Vec::new();
    let closed = tokio::time::timeout(WAIT, async {
        let mut buffer = [0u8; 4096];
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(read) => received.extend_from_slice(&buffer[..read]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&received).into_owned(), closed)
}

const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const OTHER_CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2));

#[tokio::test]
async fn slow_clients_are_cut_off_and_oversized_bodies_refused_at_once() {
    let app = TestApp::with_config(|config| {
        config.server.header_read_timeout_secs = 1;
        config.server.body_read_timeout_secs = 1;
        config.server.body_limit_bytes = 1024;
    })
    .await;
    let address = app.serve().await;

    // Headers that never end: the connection is closed.
    let (answer, closed) =
        raw_exchange(address, LOCAL, b"GET /health HTTP/1.1\r\nHost: test\r\n").await;
    assert!(closed, "a stalled header kept its connection");
    assert!(!answer.starts_with("HTTP/1.1 200"), "{answer}");

    // A body that stops arriving: the request fails with an error, not a hang.
    let (answer, closed) = raw_exchange(
        address,
        LOCAL,
        b"POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"email\":",
    )
    .await;
    assert!(closed, "a stalled body kept its connection");
    // A client's fault (4xx), never the server's.
    assert!(answer.starts_with("HTTP/1.1 4"), "{answer}");

    // An idle keep-alive connection is closed once it has been quiet that long.
    let mut stream = connect_from(address, LOCAL).await;
    stream
        .write_all(b"GET /health HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("write");
    let (answer, closed) = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(closed, "an idle keep-alive connection stayed open");

    // A declared length over the limit: 413 before a byte of the body is sent.
    let mut stream = connect_from(address, LOCAL).await;
    stream
        .write_all(b"POST /api/auth/login HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n")
        .await
        .expect("write");
    let (answer, _) = read_until_closed(&mut stream).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
}

#[tokio::test]
async fn one_address_cannot_hold_every_connection() {
    let app = TestApp::with_config(|config| {
        config.server.max_connections_per_ip = 4;
        config.server.header_read_timeout_secs = 30;
    })
    .await;
    let address = app.serve().await;
    let mut idle = Vec::new();
    for _ in 0..4 {
        idle.push(connect_from(address, LOCAL).await);
    }
    // Let the server account for them.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (answer, closed) = raw_exchange(
        address,
        LOCAL,
        b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(closed && answer.is_empty(), "over the cap: {answer}");
    let (answer, _) = raw_exchange(
        address,
        OTHER_CLIENT,
        b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    // A freed slot is available again.
    idle.pop();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (answer, _) = raw_exchange(
        address,
        LOCAL,
        b"GET /health HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test]
async fn responses_carry_security_headers() {
    let app = TestApp::new().await;
    let registered = app
        .post(
            "/api/auth/register",
            None,
            json!({ "email": "h@example.com", "password": crate::support::PASSWORD, "username": "headers" }),
        )
        .await;
    assert_eq!(registered.status, 201);
    assert_eq!(registered.headers["cache-control"], "no-store");
    for path in ["/health", "/api/posts", "/api/no-such-route"] {
        let response = app.get(path, None).await;
        assert_eq!(
            response.headers["x-content-type-options"], "nosniff",
            "{path}"
        );
    }
    for path in ["/graphql", "/api/docs"] {
        let request = Request::get(path)
            .header("accept", "text/html")
            .body(Body::empty())
            .expect("request");
        let page = app.send(request).await;
        let policy = page.headers["content-security-policy"]
            .to_str()
            .expect("policy");
        assert!(
            policy.contains("frame-ancestors 'none'"),
            "{path}: {policy}"
        );
        assert!(policy.contains("script-src 'self'"), "{path}: {policy}");
        assert!(!policy.contains("unsafe-eval"), "{path}: {policy}");
        assert_eq!(page.headers["x-frame-options"], "DENY");
        assert_eq!(page.headers["x-content-type-options"], "nosniff");
    }
}

async fn preflight(app: &TestApp, path: &str, origin: &str) -> TestResponse {
    let request = Request::builder()
        .method(Method::OPTIONS)
        .uri(path)
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .body(Body::empty())
        .expect("request");
    app.send(request).await
}

#[tokio::test]
async fn cors_answers_only_the_configured_origins() {
    let app = TestApp::with_config(|config| {
        config.server.cors_allowed_origins = vec!["https://app.example".to_owned()];
    })
    .await;
    for path in ["/api/posts", "/graphql"] {
        let allowed = preflight(&app, path, "https://app.example").await;
        assert_eq!(
            allowed.headers["access-control-allow-origin"], "https://app.example",
            "{path}"
        );
        let methods = allowed.headers["access-control-allow-methods"]
            .to_str()
            .expect("methods");
        assert!(methods.contains("POST"), "{methods}");
        let other = preflight(&app, path, "https://evil.example").await;
        assert!(
            !other.headers.contains_key("access-control-allow-origin"),
            "{path}: {:?}",
            other.headers
        );
    }
    let closed = TestApp::new().await;
    let response = preflight(&closed, "/api/posts", "https://app.example").await;
    assert!(!response.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn method_not_allowed_answers_with_the_envelope() {
    let app = TestApp::new().await;
    let response = app
        .call(Method::DELETE, "/api/categories", None, None)
        .await;
    response.assert_error(405, "METHOD_NOT_ALLOWED");
    assert!(
        response.headers.contains_key("allow"),
        "{:?}",
        response.headers
    );
}

#[tokio::test]
async fn subscribing_before_connection_init_closes_with_4401() {
    let app = TestApp::new().await;
    let address = app.serve().await;
    let mut socket = WsClient::open(address, Protocol::TransportWs).await;
    socket
        .subscribe("early", "subscription { onlineUsers { count } }", json!({}))
        .await;
    let closed = tokio::time::timeout(WAIT, socket.closed())
        .await
        .expect("closed");
    assert_eq!(closed.code, 4401, "{closed:?}");
}

#[tokio::test]
async fn an_undefined_variable_in_a_directive_is_an_error() {
    let app = TestApp::new().await;
    let response = app
        .graphql(
            "query { posts(first: 1) @include(if: $nowhere) { totalCount } }",
            json!({}),
            None,
        )
        .await;
    assert_names_undefined_variable(&response);
    for query in [
        "query { posts(first: 1) { ... on PostConnection @include(if: $nowhere) { totalCount } } }",
        "query { posts(first: 1) { ...total @skip(if: $nowhere) } } fragment total on PostConnection { totalCount }",
        "query @deprecated(reason: $nowhere) { categories { id } }",
    ] {
        let response = app.graphql(query, json!({}), None).await;
        assert_names_undefined_variable(&response);
    }
}

#[track_caller]
fn assert_names_undefined_variable(response: &TestResponse) {
    let errors = response.body["errors"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        errors.iter().any(|error| error["message"]
            .as_str()
            .is_some_and(|message| message.contains("nowhere"))),
        "{}",
        response.body
    );
}

#[tokio::test]
async fn health_checks_are_never_rate_limited() {
    let app = TestApp::with_config(|config| {
        config.limits.rate_limit_api = RateLimit {
            count: 1,
            window: Duration::from_secs(3600),
        };
    })
    .await;
    app.get("/api/posts", None).await.data(200);
    app.get("/api/posts", None)
        .await
        .assert_error(429, "RATE_LIMITED");
    for _ in 0..10 {
        assert_eq!(app.get("/health", None).await.status, 200);
        assert_eq!(app.get("/ready", None).await.status, 200);
    }
}

#[tokio::test]
async fn websocket_operations_count_against_the_api_budget() {
    let app = TestApp::with_config(|config| {
        config.limits.rate_limit_api = RateLimit {
            count: 3,
            window: Duration::from_secs(3600),
        };
    })
    .await;
    let address = app.serve().await;
    // The upgrade request is one request of the budget.
    let mut socket = WsClient::connect(address, Protocol::TransportWs, None)
        .await
        .expect("connected");
    for id in ["one", "two"] {
        socket
            .subscribe(id, "subscription { onlineUsers { count } }", json!({}))
            .await;
        socket.next_data(id).await;
    }
    socket
        .subscribe("three", "subscription { onlineUsers { count } }", json!({}))
        .await;
    let errors = socket.next_errors("three").await;
    assert_eq!(errors[0]["extensions"]["code"], "RATE_LIMITED", "{errors}");
    // HTTP from the same address shares the spent budget.
    let (answer, _) = raw_exchange(
        address,
        LOCAL,
        b"GET /api/posts HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
}

/// A request as if it arrived from `peer`, forwarded for `forwarded_for`.
async fn from_peer(app: &TestApp, peer: IpAddr, forwarded_for: &str) -> TestResponse {
    let mut request = Request::get("/api/posts")
        .header("x-forwarded-for", forwarded_for)
        .body(Body::empty())
        .expect("request");
    request
        .extensions_mut()
        .insert(ConnectInfo(SocketAddr::new(peer, 40_000)));
    app.send(request).await
}

#[tokio::test]
async fn forwarded_addresses_are_believed_only_from_trusted_proxies() {
    let limited = |config: &mut sparkle_universe::Config| {
        config.limits.rate_limit_api = RateLimit {
            count: 1,
            window: Duration::from_secs(3600),
        };
    };
    let proxy: IpAddr = "10.0.0.5".parse().expect("ip");
    let trusted = TestApp::with_config(|config| {
        limited(config);
        config.server.trusted_proxies = vec!["10.0.0.0/24".parse().expect("cidr")];
    })
    .await;
    // Two clients behind the proxy have a budget each; the left-most (client-written)
    // entry is not believed, the right-most untrusted hop is.
    from_peer(&trusted, proxy, "203.0.113.1").await.data(200);
    from_peer(&trusted, proxy, "203.0.113.2").await.data(200);
    from_peer(&trusted, proxy, "198.51.100.9, 203.0.113.1, 10.0.0.7")
        .await
        .assert_error(429, "RATE_LIMITED");

    let untrusted = TestApp::with_config(limited).await;
    // Without trust the header is ignored: both requests are the peer's.
    from_peer(&untrusted, proxy, "203.0.113.1").await.data(200);
    from_peer(&untrusted, proxy, "203.0.113.2")
        .await
        .assert_error(429, "RATE_LIMITED");
}
