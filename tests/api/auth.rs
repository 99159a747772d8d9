//! `/api/auth/*` and the GraphQL session mutations: registration rules, login
//! secrecy and lockout, refresh rotation and reuse detection, logout, and every
//! kind of bad token.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};
use sparkle_universe::config::RateLimit;

use crate::support::{PASSWORD, TestApp};

fn registration(username: &str) -> Value {
    json!({ "email": format!("{username}@example.com"), "password": PASSWORD, "username": username })
}

async fn login(app: &TestApp, email: &str, password: &str) -> crate::support::TestResponse {
    app.post(
        "/api/auth/login",
        None,
        json!({ "email": email, "password": password }),
    )
    .await
}

#[tokio::test]
async fn register_returns_the_account_and_a_working_session() {
    let app = TestApp::new().await;
    let response = app
        .post("/api/auth/register", None, registration("Sparkly_1"))
        .await;
    let data = response.data(201);
    assert_eq!(data["user"]["username"], "Sparkly_1");
    assert_eq!(data["user"]["email"], "sparkly_1@example.com");
    assert_eq!(data["user"]["role"], "USER");
    assert_eq!(data["user"]["level"], 1);
    assert_eq!(data["user"]["experience"], 0);
    assert!(data["user"]["createdAt"].as_str().is_some());
    assert!(
        data["refreshToken"]
            .as_str()
            .is_some_and(|token| token.len() >= 40)
    );
    assert!(
        data.get("user")
            .and_then(|user| user.get("passwordHash"))
            .is_none()
    );

    let token = data["token"].as_str().expect("token");
    let me = app.get("/api/auth/me", Some(token)).await;
    assert_eq!(me.data(200)["username"], "Sparkly_1");
    assert_eq!(me.data(200)["email"], "sparkly_1@example.com");
}

#[tokio::test]
async fn register_rejects_bad_input_and_creates_nothing() {
    let app = TestApp::new().await;
    let cases = [
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "username": "ab" }),
            "username",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "username": "has space" }),
            "username",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "username": "x".repeat(31) }),
            "username",
        ),
        (
            json!({ "email": "not-an-email", "password": PASSWORD, "username": "valid_name" }),
            "email",
        ),
        (
            json!({ "email": "a@example.com", "password": "short1A", "username": "valid_name" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "alllowercase1", "username": "valid_name" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": "NoDigitsHere", "username": "valid_name" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "username": "valid_name" }),
            "password",
        ),
        (
            json!({ "email": "a@example.com", "password": PASSWORD, "username": 5 }),
            "username",
        ),
    ];
    for (body, field) in cases {
        let response = app.post("/api/auth/register", None, body.clone()).await;
        response.assert_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["fields"][field].as_str().is_some(),
            "{body} should blame {field}: {}",
            response.body
        );
    }
    let malformed = app
        .post_raw("/api/auth/register", "application/json", r#"{"email": "#)
        .await;
    malformed.assert_error(400, "BAD_REQUEST");
    let form = app
        .post_raw(
            "/api/auth/register",
            "application/x-www-form-urlencoded",
            "email=a",
        )
        .await;
    form.assert_error(415, "UNSUPPORTED_MEDIA_TYPE");

    login(&app, "a@example.com", PASSWORD)
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn register_conflicts_name_the_field() {
    let app = TestApp::new().await;
    app.register("taken").await;
    let same_email = app
        .post(
            "/api/auth/register",
            None,
            json!({ "email": "TAKEN@example.com", "password": PASSWORD, "username": "other" }),
        )
        .await;
    same_email.assert_error(409, "CONFLICT");
    assert!(same_email.body["fields"]["email"].is_string());

    let same_name = app
        .post(
            "/api/auth/register",
            None,
            json!({ "email": "new@example.com", "password": PASSWORD, "username": "TaKeN" }),
        )
        .await;
    same_name.assert_error(409, "CONFLICT");
    assert!(same_name.body["fields"]["username"].is_string());
}

#[tokio::test]
async fn login_never_reveals_whether_an_email_exists() {
    let app = TestApp::new().await;
    app.register("known").await;
    let ok = login(&app, "KNOWN@example.com", PASSWORD).await;
    assert_eq!(ok.data(200)["user"]["username"], "known");
    assert!(ok.data(200)["token"].is_string());

    let wrong_password = login(&app, "known@example.com", "Wrong-pass1").await;
    let unknown_email = login(&app, "nobody@example.com", PASSWORD).await;
    wrong_password.assert_error(401, "INVALID_CREDENTIALS");
    unknown_email.assert_error(401, "INVALID_CREDENTIALS");
    // Alike but for the id of each request.
    let without_id = |body: &Value| {
        let mut body = body.clone();
        body.as_object_mut()
            .map(|fields| fields.remove("requestId"));
        body
    };
    assert_eq!(
        without_id(&wrong_password.body),
        without_id(&unknown_email.body)
    );
}

#[tokio::test]
async fn failed_logins_lock_any_email_for_a_while() {
    let app = TestApp::new().await;
    app.register("victim").await;
    for _ in 0..5 {
        login(&app, "victim@example.com", "Wrong-pass1")
            .await
            .assert_error(401, "INVALID_CREDENTIALS");
        login(&app, "ghost@example.com", "Wrong-pass1")
            .await
            .assert_error(401, "INVALID_CREDENTIALS");
    }
    for email in ["victim@example.com", "ghost@example.com"] {
        let locked = login(&app, email, PASSWORD).await;
        locked.assert_error(429, "ACCOUNT_LOCKED");
        let retry_after: u64 = locked.headers["retry-after"]
            .to_str()
            .expect("ascii")
            .parse()
            .expect("seconds");
        assert!(
            (14 * 60..=15 * 60).contains(&retry_after),
            "retry after {retry_after}s"
        );
    }
}

#[tokio::test]
async fn dev_mode_relaxes_the_auth_limit_and_the_lockout() {
    let app = TestApp::with_config(|config| {
        config.limits.rate_limit_auth = sparkle_universe::Config::defaults().limits.rate_limit_auth;
        config.dev_mode = true;
    })
    .await;
    app.register("developer").await;
    // More attempts than the default limit (5 in 15 minutes) allows.
    for _ in 0..4 {
        login(&app, "developer@example.com", "Wrong-pass1")
            .await
            .assert_error(401, "INVALID_CREDENTIALS");
    }
    login(&app, "developer@example.com", PASSWORD)
        .await
        .data(200);
    for _ in 0..5 {
        login(&app, "developer@example.com", "Wrong-pass1").await;
    }
    let locked = login(&app, "developer@example.com", PASSWORD).await;
    locked.assert_error(429, "ACCOUNT_LOCKED");
    let retry_after: u64 = locked.headers["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!(retry_after <= 60, "retry after {retry_after}s");
}

#[tokio::test]
async fn auth_actions_are_rate_limited_per_client() {
    let app = TestApp::with_config(|config| {
        config.limits.rate_limit_auth = "3/15m".parse().expect("rate")
    })
    .await;
    for attempt in 0..3 {
        let response = login(&app, "someone@example.com", PASSWORD).await;
        assert_eq!(response.status, 401, "attempt {attempt}: {}", response.body);
    }
    let limited = app
        .post("/api/auth/register", None, registration("late_comer"))
        .await;
    limited.assert_error(429, "RATE_LIMITED");
    assert!(limited.headers.contains_key("retry-after"));
    let graphql = app
        .graphql("mutation { login(input: {email: \"x@example.com\", password: \"Passw0rdX\"}) { token } }", json!({}), None)
        .await;
    assert_eq!(
        graphql.body["errors"][0]["extensions"]["code"], "RATE_LIMITED",
        "{}",
        graphql.body
    );
}

#[tokio::test]
async fn the_overall_api_limit_answers_429() {
    let app = TestApp::with_config(|config| {
        config.limits.rate_limit_api = RateLimit {
            count: 2,
            window: std::time::Duration::from_secs(3600),
        }
    })
    .await;
    assert_eq!(app.get("/api/posts", None).await.status, 200);
    assert_eq!(app.get("/api/tags", None).await.status, 200);
    let limited = app.get("/api/posts", None).await;
    limited.assert_error(429, "RATE_LIMITED");
    assert!(limited.headers.contains_key("retry-after"));
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let app = TestApp::new().await;
    let session = app.register("rotator").await;
    let first = app
        .post(
            "/api/auth/refresh",
            None,
            json!({ "refreshToken": session.refresh_token }),
        )
        .await;
    let rotated = first.data(200)["refreshToken"]
        .as_str()
        .expect("new refresh token")
        .to_owned();
    assert_ne!(rotated, session.refresh_token);
    let new_access = first.data(200)["token"].as_str().expect("token").to_owned();
    assert_eq!(
        app.get("/api/auth/me", Some(&new_access)).await.data(200)["username"],
        "rotator"
    );

    // The spent token comes back: a thief has it. The whole family dies.
    let reuse = app
        .post(
            "/api/auth/refresh",
            None,
            json!({ "refreshToken": session.refresh_token }),
        )
        .await;
    reuse.assert_error(401, "UNAUTHORIZED");
    let after_reuse = app
        .post(
            "/api/auth/refresh",
            None,
            json!({ "refreshToken": rotated }),
        )
        .await;
    after_reuse.assert_error(401, "UNAUTHORIZED");

    app.post(
        "/api/auth/refresh",
        None,
        json!({ "refreshToken": "made-up" }),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
    app.post("/api/auth/refresh", None, json!({}))
        .await
        .assert_error(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn logout_ends_one_session_or_all_of_them() {
    let app = TestApp::new().await;
    let first = app.register("leaver").await;
    let second = login(&app, "leaver@example.com", PASSWORD).await;
    let second_refresh = second.data(200)["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();

    app.post(
        "/api/auth/logout",
        None,
        json!({ "refreshToken": first.refresh_token }),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
    let one = app
        .post(
            "/api/auth/logout",
            Some(&first.token),
            json!({ "refreshToken": first.refresh_token }),
        )
        .await;
    assert_eq!(one.body, json!({ "success": true }));
    app.post(
        "/api/auth/refresh",
        None,
        json!({ "refreshToken": first.refresh_token }),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
    let still_alive = app
        .post(
            "/api/auth/refresh",
            None,
            json!({ "refreshToken": second_refresh }),
        )
        .await;
    let second_refresh = still_alive.data(200)["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();

    let all = app
        .post(
            "/api/auth/logout",
            Some(&first.token),
            json!({ "allSessions": true }),
        )
        .await;
    assert_eq!(all.status, 200, "{}", all.body);
    app.get("/api/auth/me", Some(&first.token))
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.post(
        "/api/auth/refresh",
        None,
        json!({ "refreshToken": second_refresh }),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
    let fresh = login(&app, "leaver@example.com", PASSWORD).await;
    let token = fresh.data(200)["token"].as_str().expect("token");
    assert_eq!(
        app.get("/api/auth/me", Some(token)).await.data(200)["username"],
        "leaver"
    );
}

#[derive(serde::Serialize)]
struct Claims<'a> {
    sub: &'a str,
    sv: i32,
    iat: u64,
    exp: u64,
    iss: &'a str,
    aud: &'a str,
}

fn sign(claims: &Claims<'_>, secret: &str) -> String {
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("sign")
}

#[tokio::test]
async fn bad_tokens_get_401_everywhere() {
    let app = TestApp::new().await;
    let session = app.register("holder").await;
    let secret = app
        .state
        .config
        .auth
        .jwt_secret
        .as_ref()
        .expect("test secret")
        .expose()
        .to_owned();
    let now = jsonwebtoken::get_current_timestamp();
    let valid = Claims {
        sub: &session.user_id,
        sv: 0,
        iat: now,
        exp: now + 600,
        iss: "sparkle-universe",
        aud: "sparkle-universe-api",
    };
    assert_eq!(
        app.get("/api/auth/me", Some(&sign(&valid, &secret)))
            .await
            .status,
        200
    );

    let expired = sign(
        &Claims {
            iat: now - 7200,
            exp: now - 3600,
            ..valid
        },
        &secret,
    );
    let forged = sign(&valid, "another-secret-another-secret-0123456789");
    let wrong_audience = sign(
        &Claims {
            aud: "someone-else",
            ..valid
        },
        &secret,
    );
    let wrong_issuer = sign(
        &Claims {
            iss: "evil",
            ..valid
        },
        &secret,
    );
    let old_session = sign(&Claims { sv: 7, ..valid }, &secret);
    let unsigned = {
        use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
        let header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&valid).expect("json"));
        format!("{header}.{payload}.")
    };
    for token in [
        expired.as_str(),
        &forged,
        &wrong_audience,
        &wrong_issuer,
        &old_session,
        &unsigned,
        "garbage",
    ] {
        app.get("/api/auth/me", Some(token))
            .await
            .assert_error(401, "UNAUTHORIZED");
        // A bad token is refused even where no token is needed.
        app.get("/api/posts", Some(token))
            .await
            .assert_error(401, "UNAUTHORIZED");
        let graphql = app
            .graphql("{ me { username } }", json!({}), Some(token))
            .await;
        assert_eq!(graphql.status, 401);
        assert_eq!(
            graphql.body["errors"][0]["extensions"]["code"], "UNAUTHORIZED",
            "{}",
            graphql.body
        );
    }
    let expired_message = app.get("/api/auth/me", Some(&expired)).await;
    assert!(
        expired_message.body["error"]
            .as_str()
            .is_some_and(|message| message.contains("expired"))
    );
    let basic = app
        .send(
            axum::http::Request::get("/api/auth/me")
                .header("authorization", "Basic dXNlcjpwYXNz")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    basic.assert_error(401, "UNAUTHORIZED");
    app.get("/api/auth/me", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
}

#[tokio::test]
async fn banned_accounts_lose_their_sessions_and_cannot_log_in() {
    let app = TestApp::new().await;
    let session = app.register("troll").await;
    sea_orm::ConnectionTrait::execute_unprepared(
        &app.state.db,
        &format!(
            "UPDATE users SET status = 'BANNED' WHERE id = '{}'",
            session.user_id
        ),
    )
    .await
    .expect("ban");
    app.get("/api/auth/me", Some(&session.token))
        .await
        .assert_error(401, "UNAUTHORIZED");
    login(&app, "troll@example.com", PASSWORD)
        .await
        .assert_error(403, "FORBIDDEN");
    app.post(
        "/api/auth/refresh",
        None,
        json!({ "refreshToken": session.refresh_token }),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
}

const SESSION_FIELDS: &str = "token refreshToken expiresIn user { id username email role level }";

#[tokio::test]
async fn graphql_session_mutations_mirror_rest() {
    let app = TestApp::new().await;
    let register = app
        .graphql(
            &format!("mutation($input: RegisterInput!) {{ register(input: $input) {{ {SESSION_FIELDS} }} }}"),
            json!({ "input": registration("gql_user") }),
            None,
        )
        .await;
    let payload = &register.body["data"]["register"];
    assert_eq!(payload["user"]["username"], "gql_user", "{}", register.body);
    assert_eq!(payload["user"]["email"], "gql_user@example.com");
    assert_eq!(payload["user"]["role"], "USER");
    let token = payload["token"].as_str().expect("token");

    let me = app
        .graphql("{ me { id username email } }", json!({}), Some(token))
        .await;
    assert_eq!(me.body["data"]["me"]["username"], "gql_user");
    let rest_me = app.get("/api/auth/me", Some(token)).await;
    assert_eq!(me.body["data"]["me"]["id"], rest_me.data(200)["id"]);
    assert_eq!(me.body["data"]["me"]["email"], rest_me.data(200)["email"]);
    let anonymous = app.graphql("{ me { id } }", json!({}), None).await;
    assert_eq!(anonymous.body["data"]["me"], Value::Null);

    let duplicate = app
        .graphql(
            "mutation($input: RegisterInput!) { register(input: $input) { token } }",
            json!({ "input": registration("gql_user") }),
            None,
        )
        .await;
    assert_eq!(
        duplicate.body["errors"][0]["extensions"]["code"],
        "CONFLICT"
    );
    assert!(duplicate.body["errors"][0]["extensions"]["fields"]["email"].is_string());

    let weak = app
        .graphql(
            "mutation { register(input: {email: \"w@example.com\", password: \"weak\", username: \"w_user\"}) { token } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        weak.body["errors"][0]["extensions"]["code"],
        "VALIDATION_ERROR"
    );
    assert!(weak.body["errors"][0]["extensions"]["fields"]["password"].is_string());

    let bad_login = app
        .graphql("mutation { login(input: {email: \"gql_user@example.com\", password: \"Wrong-pass1\"}) { token } }", json!({}), None)
        .await;
    assert_eq!(
        bad_login.body["errors"][0]["extensions"]["code"],
        "INVALID_CREDENTIALS"
    );

    let login = app
        .graphql(
            &format!("mutation {{ login(input: {{email: \"gql_user@example.com\", password: \"{PASSWORD}\"}}) {{ {SESSION_FIELDS} }} }}"),
            json!({}),
            None,
        )
        .await;
    let refresh_token = login.body["data"]["login"]["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    let refreshed = app
        .graphql(
            "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { token refreshToken } }",
            json!({ "t": refresh_token }),
            None,
        )
        .await;
    let new_refresh = refreshed.body["data"]["refreshToken"]["refreshToken"]
        .as_str()
        .expect("rotated")
        .to_owned();
    let new_access = refreshed.body["data"]["refreshToken"]["token"]
        .as_str()
        .expect("rotated access token")
        .to_owned();
    let reused = app
        .graphql(
            "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { token } }",
            json!({ "t": refresh_token }),
            None,
        )
        .await;
    assert_eq!(
        reused.body["errors"][0]["extensions"]["code"],
        "UNAUTHORIZED"
    );
    // The reuse ended the login at once: its newest access token is refused too.
    let with_rotated = app
        .graphql("{ me { id } }", json!({}), Some(&new_access))
        .await;
    assert_eq!(
        with_rotated.body["errors"][0]["extensions"]["code"], "UNAUTHORIZED",
        "{}",
        with_rotated.body
    );

    let login = app
        .graphql(
            &format!("mutation {{ login(input: {{email: \"gql_user@example.com\", password: \"{PASSWORD}\"}}) {{ {SESSION_FIELDS} }} }}"),
            json!({}),
            None,
        )
        .await;
    let token = login.body["data"]["login"]["token"]
        .as_str()
        .expect("a new login");
    let logout = app
        .graphql(
            "mutation { logout(input: {allSessions: true}) }",
            json!({}),
            Some(token),
        )
        .await;
    assert_eq!(logout.body["data"]["logout"], true, "{}", logout.body);
    let after = app.graphql("{ me { id } }", json!({}), Some(token)).await;
    assert_eq!(
        after.body["errors"][0]["extensions"]["code"],
        "UNAUTHORIZED"
    );
    app.post(
        "/api/auth/refresh",
        None,
        json!({ "refreshToken": new_refresh }),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
    let anonymous_logout = app.graphql("mutation { logout }", json!({}), None).await;
    assert_eq!(
        anonymous_logout.body["errors"][0]["extensions"]["code"],
        "UNAUTHORIZED"
    );
}
