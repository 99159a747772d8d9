//! The test harness: a fresh database per test (in-memory SQLite, or a new
//! PostgreSQL database when `TEST_DATABASE_URL` is set), the real router driven
//! in-process, and small request helpers.

use std::time::Duration;

use axum::{
    Router,
    body::Body,
    http::{HeaderMap, Method, Request, StatusCode},
};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};
use sparkle_universe::{AppState, Config, app, config::RateLimit, db, server};
use tower::ServiceExt;

/// A running application over its own database.
pub struct TestApp {
    pub state: AppState,
    /// The database's URL (another process or instance may open it).
    pub database_url: String,
    router: Router,
    /// The SQLite file of [`TestApp::with_file_database`], removed on drop.
    _database_file: Option<DatabaseFile>,
    /// The data directory (mail files among them), removed on drop.
    data_dir: DataDir,
}

/// A test's data directory, removed when dropped.
struct DataDir(std::path::PathBuf);

impl DataDir {
    fn new() -> Self {
        let path = std::env::temp_dir().join(format!(
            "sparkle-test-data-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&path).expect("test data directory");
        Self(path)
    }
}

impl Drop for DataDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A SQLite database file (with its WAL files) removed when dropped.
struct DatabaseFile(std::path::PathBuf);

impl Drop for DatabaseFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.0.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A response, with its body parsed as JSON (or `Value::Null` when empty).
#[derive(Debug)]
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
}

impl TestResponse {
    /// Asserts the contract's error envelope with `status` and `code`.
    #[track_caller]
    pub fn assert_error(&self, status: u16, code: &str) {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status, body: {}",
            self.body
        );
        assert_eq!(self.body["success"], json!(false), "body: {}", self.body);
        assert_eq!(self.body["code"], json!(code), "body: {}", self.body);
        assert!(
            self.body["error"]
                .as_str()
                .is_some_and(|message| !message.is_empty()),
            "body: {}",
            self.body
        );
    }

    /// Asserts a success envelope with `status` and returns its `data`.
    #[track_caller]
    pub fn data(&self, status: u16) -> &Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status, body: {}",
            self.body
        );
        assert_eq!(self.body["success"], json!(true), "body: {}", self.body);
        &self.body["data"]
    }

    /// The `count` of the `sql` entry of `Server-Timing`.
    pub fn sql_statements(&self) -> u32 {
        let timing = self
            .headers
            .get("server-timing")
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        timing
            .split(';')
            .find_map(|part| part.trim().strip_prefix("count="))
            .and_then(|count| count.split(',').next())
            .and_then(|count| count.parse().ok())
            .unwrap_or_else(|| panic!("no SQL count in Server-Timing: {timing:?}"))
    }
}

/// The value at `pointer` (a JSON pointer, e.g. `/node/title`) in each element of the
/// array `array`.
pub fn each<'a>(array: &'a Value, pointer: &str) -> Vec<&'a Value> {
    array
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {array}"))
        .iter()
        .map(|element| element.pointer(pointer).unwrap_or(&Value::Null))
        .collect()
}

/// A local port nothing listens on now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// Configuration for tests: fast password hashing and no rate limits.
pub fn test_config() -> Config {
    let mut config = Config::defaults();
    config.auth.jwt_secret = Some(
        "test-secret-test-secret-test-secret-0123"
            .parse()
            .expect("valid secret"),
    );
    config.auth.argon2_memory_kib = 256;
    config.auth.argon2_iterations = 1;
    config.limits.rate_limit_api = RateLimit::unlimited();
    // Tests write rows behind the server's back; remembered totals would go stale.
    config.api.list_total_cache_ms = 0;
    config.api.category_cache_ms = 0;
    config.limits.rate_limit_auth = RateLimit::unlimited();
    config.limits.rate_limit_post_create = RateLimit::unlimited();
    config.limits.rate_limit_comment_create = RateLimit::unlimited();
    config.limits.rate_limit_reaction = RateLimit::unlimited();
    config.limits.rate_limit_follow = RateLimit::unlimited();
    config.limits.rate_limit_upload = RateLimit::unlimited();
    // Notification mail is due at once: a test's notifications are mailed when it runs
    // the jobs, coalesced as the window would.
    config.mail.mail_coalesce_secs = 0;
    config.mail.public_url = Some("http://sparkle.test".to_owned());
    config
}

/// The SMTP server the tests send to (`TEST_SMTP_URL`, with the Maildir it delivers
/// into, `TEST_SMTP_MAILDIR`); without it mail is written as `.eml` files.
pub fn test_smtp() -> Option<(String, std::path::PathBuf)> {
    let url = std::env::var("TEST_SMTP_URL")
        .ok()
        .filter(|url| !url.is_empty())?;
    let maildir = std::env::var("TEST_SMTP_MAILDIR")
        .ok()
        .filter(|dir| !dir.is_empty())?;
    Some((url, std::path::PathBuf::from(maildir)))
}

/// Points `config`'s data at `data_dir`, its uploads at the test bucket (when there is
/// one) and its mail at the test SMTP server (or at `.eml` files there), from a sender
/// unique to this application, so a test reads its own mail only.
fn use_test_services(config: &mut Config, data_dir: &DataDir) {
    crate::storage::store_uploads_in_test_bucket(config);
    config.server.data_dir = data_dir.0.clone();
    config.mail.mail_from = format!(
        "Sparkle Universe <no-reply+{}@sparkle.test>",
        uuid::Uuid::new_v4().simple()
    );
    if let Some((url, _)) = test_smtp() {
        config.mail.mail_transports = vec![url.parse().expect("TEST_SMTP_URL is a mail transport")];
    }
}

/// The URL of a brand-new test database (or PostgreSQL schema).
async fn fresh_database_url() -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(server) if !server.is_empty() => {
            // A schema per test: as isolated as a database, and far cheaper to drop.
            let name = format!("sparkle_t_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&server)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE SCHEMA {name}"))
                .await
                .expect("create test schema");
            admin.close().await.ok();
            let separator = if server.contains('?') { '&' } else { '?' };
            format!("{server}{separator}options[search_path]={name}")
        }
        _ => "sqlite::memory:".to_owned(),
    }
}

impl TestApp {
    /// An application with [`test_config`].
    pub async fn new() -> Self {
        Self::with_config(|_| {}).await
    }

    /// An application with [`test_config`] changed by `adjust`.
    pub async fn with_config(adjust: impl FnOnce(&mut Config)) -> Self {
        Self::over(&fresh_database_url().await, None, adjust).await
    }

    /// An application over a SQLite file with several connections, as the server
    /// runs (in-memory SQLite has one connection, so its writers never meet), or over
    /// PostgreSQL when `TEST_DATABASE_URL` is set.
    pub async fn with_file_database() -> Self {
        Self::with_file_database_and_config(|_| {}).await
    }

    /// [`TestApp::with_file_database`] with [`test_config`] changed by `adjust`.
    pub async fn with_file_database_and_config(adjust: impl FnOnce(&mut Config)) -> Self {
        if std::env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.is_empty()) {
            return Self::with_config(adjust).await;
        }
        let path =
            std::env::temp_dir().join(format!("sparkle-test-{}.db", uuid::Uuid::new_v4().simple()));
        let file = DatabaseFile(path);
        let url = format!("sqlite://{}?mode=rwc", file.0.display());
        Self::over(&url, Some(file), adjust).await
    }

    async fn over(
        url: &str,
        database_file: Option<DatabaseFile>,
        adjust: impl FnOnce(&mut Config),
    ) -> Self {
        let data_dir = DataDir::new();
        let mut config = test_config();
        use_test_services(&mut config, &data_dir);
        adjust(&mut config);
        let connection = db::connect(url, 4).await.expect("connect");
        db::migrate(&connection).await.expect("migrate");
        let state = AppState::with_database(config, connection)
            .await
            .expect("state");
        Self {
            router: app(state.clone()),
            state,
            database_url: url.to_owned(),
            _database_file: database_file,
            data_dir,
        }
    }

    /// `count` instances over one shared PostgreSQL database and one Redis channel,
    /// like servers behind a load balancer; `None` unless both `TEST_DATABASE_URL`
    /// and `TEST_REDIS_URL` are set.
    pub async fn cluster(count: usize) -> Option<Vec<Self>> {
        Self::cluster_with(count, |_| {}).await
    }

    /// [`TestApp::cluster`] with [`test_config`] changed by `adjust` on every instance.
    pub async fn cluster_with(count: usize, adjust: impl Fn(&mut Config)) -> Option<Vec<Self>> {
        let redis = std::env::var("TEST_REDIS_URL")
            .ok()
            .filter(|url| !url.is_empty())?;
        std::env::var("TEST_DATABASE_URL")
            .ok()
            .filter(|url| url.starts_with("postgres"))?;
        let database = fresh_database_url().await;
        let channel = format!("sparkle:test:{}", uuid::Uuid::new_v4().simple());
        let mut instances = Vec::with_capacity(count);
        for _ in 0..count {
            let data_dir = DataDir::new();
            let mut config = test_config();
            use_test_services(&mut config, &data_dir);
            config.realtime.redis_url = Some(redis.clone());
            config.realtime.redis_channel = channel.clone();
            adjust(&mut config);
            let connection = db::connect(&database, 4).await.expect("connect");
            db::migrate(&connection).await.expect("migrate");
            let state = AppState::with_database(config, connection)
                .await
                .expect("state with redis");
            instances.push(Self {
                router: app(state.clone()),
                state,
                database_url: database.clone(),
                _database_file: None,
                data_dir,
            });
        }
        Some(instances)
    }

    /// A second instance over the same database (a SQLite file or PostgreSQL; see
    /// [`TestApp::with_file_database`]), with the same configuration.
    pub async fn twin(&self) -> AppState {
        let connection = db::connect(&self.database_url, 4).await.expect("connect");
        AppState::with_database(self.state.config.clone(), connection)
            .await
            .expect("state")
    }

    /// Runs every due background job now (the tests run no workers of their own);
    /// returns how many ran.
    pub async fn run_jobs(&self) -> u64 {
        sparkle_universe::jobs::drain(&self.state)
            .await
            .expect("run due jobs")
    }

    /// Serves the application on an ephemeral local port (for WebSockets).
    pub async fn serve(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        tokio::spawn(server::serve_on(
            listener,
            self.state.clone(),
            std::future::pending(),
        ));
        address
    }

    /// Sends a request through the real router; the answer's status, headers and
    /// raw bytes.
    pub async fn send_raw(&self, request: Request<Body>) -> (StatusCode, HeaderMap, Vec<u8>) {
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible router");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        (status, headers, bytes.to_vec())
    }

    /// Sends a request through the real router.
    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let (status, headers, bytes) = self.send_raw(request).await;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        TestResponse {
            status,
            headers,
            body,
        }
    }

    /// A JSON request (`body` of `None` sends no body).
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> TestResponse {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match body {
            Some(body) => {
                request = request.header("content-type", "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send(request.body(body).expect("request")).await
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> TestResponse {
        self.call(Method::GET, path, token, None).await
    }

    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> TestResponse {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Sends raw bytes with a content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: &str) -> TestResponse {
        let request = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("content-type", content_type)
            .body(Body::from(body.to_owned()))
            .expect("request");
        self.send(request).await
    }

    /// A GraphQL operation over POST; returns the whole response.
    pub async fn graphql(
        &self,
        query: &str,
        variables: Value,
        token: Option<&str>,
    ) -> TestResponse {
        self.post(
            "/graphql",
            token,
            json!({ "query": query, "variables": variables }),
        )
        .await
    }

    /// Registers `username` (password `Passw0rdX`) and returns the session data.
    pub async fn register(&self, username: &str) -> Session {
        let response = self
            .post(
                "/api/auth/register",
                None,
                json!({ "email": format!("{username}@example.com"), "password": PASSWORD, "username": username }),
            )
            .await;
        let data = response.data(201);
        Session {
            token: data["token"].as_str().expect("token").to_owned(),
            refresh_token: data["refreshToken"]
                .as_str()
                .expect("refresh token")
                .to_owned(),
            user_id: data["user"]["id"].as_str().expect("user id").to_owned(),
        }
    }

    /// Gives `user_id` a role directly in the database.
    pub async fn set_role(&self, user_id: &str, role: &str) {
        self.state
            .db
            .execute_unprepared(&format!(
                "UPDATE users SET role = '{role}' WHERE id = '{user_id}'"
            ))
            .await
            .expect("set role");
    }

    /// Creates a post through REST and returns its data.
    pub async fn create_post(&self, token: &str, body: Value) -> Value {
        self.post("/api/posts", Some(token), body)
            .await
            .data(201)
            .clone()
    }

    /// Inserts a category and returns its id.
    pub async fn create_category(&self, name: &str, slug: &str) -> String {
        let id = uuid::Uuid::now_v7().to_string();
        self.state
            .db
            .execute_unprepared(&format!(
                "INSERT INTO categories (id, name, slug, description, created_at) VALUES ('{id}', '{name}', '{slug}', NULL, '2026-01-01T00:00:00Z')"
            ))
            .await
            .expect("insert category");
        id
    }
}

/// A private `redis-server` on its own port, stopped when dropped.
pub struct PrivateRedis {
    port: u16,
    process: tokio::process::Child,
}

impl PrivateRedis {
    /// Starts one on a free port; `None` (the test is skipped) unless `TEST_REDIS_URL`
    /// is set, which says Redis is installed here.
    pub async fn start() -> Option<Self> {
        std::env::var("TEST_REDIS_URL")
            .ok()
            .filter(|url| !url.is_empty())?;
        Some(Self::on(free_port()).await)
    }

    async fn on(port: u16) -> Self {
        let process = tokio::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("redis-server starts");
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(("127.0.0.1", port))
                .await
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { port, process }
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Stops the server, runs `outage`, then starts a fresh one (nothing kept) on the
    /// same port.
    pub async fn restart_after(mut self, outage: impl std::future::Future<Output = ()>) -> Self {
        self.process.kill().await.expect("redis-server stops");
        outage.await;
        Self::on(self.port).await
    }
}

/// The password every test account uses.
pub const PASSWORD: &str = "Passw0rdX";

/// A signed-in test account.
pub struct Session {
    pub token: String,
    pub refresh_token: String,
    pub user_id: String,
}

/// A mail as a test reads it, from the test SMTP server's Maildir or the `.eml` files.
#[derive(Debug)]
pub struct ReceivedMail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    /// Every header, name and raw value, in order.
    pub headers: Vec<(String, String)>,
}

impl ReceivedMail {
    fn parse(bytes: &[u8]) -> Option<(String, Self)> {
        let message = mail_parser::MessageParser::default().parse(bytes)?;
        let address = |field: Option<&mail_parser::Address<'_>>| {
            field
                .and_then(|address| address.first())
                .and_then(|address| address.address())
                .unwrap_or_default()
                .to_owned()
        };
        let headers = message
            .headers()
            .iter()
            .map(|header| {
                let raw = bytes
                    .get(header.offset_start as usize..header.offset_end as usize)
                    .unwrap_or_default();
                (
                    header.name().to_owned(),
                    String::from_utf8_lossy(raw).trim().to_owned(),
                )
            })
            .collect();
        Some((
            address(message.from()),
            Self {
                to: address(message.to()),
                subject: message.subject().unwrap_or_default().to_owned(),
                text: message.body_text(0).unwrap_or_default().into_owned(),
                html: message.body_html(0).unwrap_or_default().into_owned(),
                headers,
            },
        ))
    }

    /// The raw value of the first header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The first URL of the text body that contains `marker`.
    pub fn link(&self, marker: &str) -> String {
        self.text
            .split_whitespace()
            .find(|word| word.starts_with("http") && word.contains(marker))
            .unwrap_or_else(|| panic!("no link with {marker} in:\n{}", self.text))
            .to_owned()
    }

    /// The `token` parameter of the link to `page` (e.g. `/verify-email`).
    pub fn token(&self, page: &str) -> String {
        let link = self.link(&format!("{page}?token="));
        let query = link
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or_default();
        form_urlencoded::parse(query.as_bytes())
            .find(|(key, _)| key == "token")
            .map(|(_, value)| value.into_owned())
            .unwrap_or_else(|| panic!("no token in {link}"))
    }
}

impl TestApp {
    /// Every mail this application sent (to the test SMTP server, or as files), oldest
    /// first.
    pub fn mails(&self) -> Vec<ReceivedMail> {
        let folder = match test_smtp() {
            Some((_, maildir)) => maildir.join("new"),
            None => self.data_dir.0.join("mail"),
        };
        let sender = self.state.config.mail.mail_from.clone();
        let mut files: Vec<(std::time::SystemTime, std::path::PathBuf)> =
            std::fs::read_dir(&folder)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .filter_map(|entry| {
                            let modified = entry.metadata().ok()?.modified().ok()?;
                            Some((modified, entry.path()))
                        })
                        .collect()
                })
                .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .filter_map(|(_, path)| std::fs::read(path).ok())
            .filter_map(|bytes| ReceivedMail::parse(&bytes))
            .filter(|(from, _)| !from.is_empty() && sender.contains(from.as_str()))
            .map(|(_, mail)| mail)
            .collect()
    }

    /// What the application stored, read behind its back.
    pub fn storage(&self) -> crate::storage::TestStorage {
        crate::storage::TestStorage::of(&self.state.config)
    }

    /// The mails sent to `address`, oldest first.
    pub fn mails_to(&self, address: &str) -> Vec<ReceivedMail> {
        self.mails()
            .into_iter()
            .filter(|mail| mail.to == address)
            .collect()
    }
}
