//! Email: the account flows (verify, forgot and reset, change the address), the
//! transports (fallback, timeouts, `/ready`), templates, notification mail with its
//! preferences, coalescing and one-click unsubscribe, the limits, tracking and the
//! weekly digest. Mail goes to the SMTP server of `TEST_SMTP_URL` (aiosmtpd in CI)
//! when it is set, and is read back from its Maildir; otherwise to `.eml` files.

use std::time::Duration;

use chrono::{DurationRound, TimeDelta, Utc};
use entity::{email_token, job, mail};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use sparkle_universe::{
    domain::notifications::NotificationType,
    jobs::{Job, NewJob},
    mail::{
        MailContent,
        content::{DigestPost, NotificationItem},
        templates::{self, Frame},
    },
};

use crate::support::{PASSWORD, ReceivedMail, Session, TestApp, free_port, test_smtp};

/// The address a test account registers with.
fn address(username: &str) -> String {
    format!("{username}@example.com")
}

/// The one mail `username` got of those with `subject_part` in the subject.
#[track_caller]
fn only_mail(app: &TestApp, username: &str, subject_part: &str) -> ReceivedMail {
    let mut mails: Vec<ReceivedMail> = app
        .mails_to(&address(username))
        .into_iter()
        .filter(|mail| mail.subject.contains(subject_part))
        .collect();
    assert_eq!(
        mails.len(),
        1,
        "mails to {username} about {subject_part:?}: {:?}",
        mails.iter().map(|mail| &mail.subject).collect::<Vec<_>>()
    );
    mails.remove(0)
}

/// Registers `username` and verifies the address through the welcome mail's link.
async fn verified(app: &TestApp, username: &str) -> Session {
    let session = app.register(username).await;
    app.run_jobs().await;
    let welcome = only_mail(app, username, "Welcome");
    app.post(
        "/api/auth/verify-email",
        None,
        json!({ "token": welcome.token("/verify-email") }),
    )
    .await
    .data(200);
    session
}

/// `url` without the public address, as the in-process router takes it.
fn local(url: &str) -> String {
    url.trim_start_matches("http://sparkle.test").to_owned()
}

#[tokio::test]
async fn registering_mails_a_link_that_verifies_the_account_once() {
    if test_smtp().is_none() {
        eprintln!("TEST_SMTP_URL is not set: mail is read from .eml files, not an SMTP server");
    }
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let me = app.get("/api/auth/me", Some(&alice.token)).await;
    assert_eq!(me.data(200)["status"], "PENDING_VERIFICATION");
    app.run_jobs().await;
    let welcome = only_mail(&app, "alice", "Welcome");
    assert!(welcome.text.contains("Hi alice"), "{}", welcome.text);
    assert!(
        welcome.html.contains("Confirm my email"),
        "{}",
        welcome.html
    );
    assert!(
        welcome.header("List-Unsubscribe").is_none(),
        "account mail has none"
    );
    let token = welcome.token("/verify-email");

    let verified = app
        .post("/api/auth/verify-email", None, json!({ "token": token }))
        .await;
    let user = verified.data(200);
    assert_eq!(user["id"], alice.user_id.as_str());
    assert_eq!(user["status"], "ACTIVE");
    assert_eq!(user["emailVerified"], true);
    assert_eq!(user["experience"], 20, "verifying is worth 20 XP");
    app.post("/api/auth/verify-email", None, json!({ "token": token }))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.post("/api/auth/verify-email", None, json!({ "token": "forged" }))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    app.post(
        "/api/auth/resend-verification",
        Some(&alice.token),
        json!({}),
    )
    .await
    .assert_error(409, "CONFLICT");
    let metrics = app.get("/metrics", None).await;
    let text = metrics.body.as_str().expect("metrics text");
    assert!(
        text.contains(r#"sparkle_mail_sends_total{kind="welcome",outcome="sent"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn a_new_verification_link_replaces_the_old_and_tokens_expire() {
    let app = TestApp::new().await;
    let bob = app.register("bob").await;
    app.run_jobs().await;
    let first = only_mail(&app, "bob", "Welcome").token("/verify-email");
    let resent = app
        .post("/api/auth/resend-verification", Some(&bob.token), json!({}))
        .await;
    assert_eq!(resent.status.as_u16(), 202, "{}", resent.body);
    app.run_jobs().await;
    let second = only_mail(&app, "bob", "Confirm your email").token("/verify-email");
    assert_ne!(first, second);
    app.post("/api/auth/verify-email", None, json!({ "token": first }))
        .await
        .assert_error(400, "VALIDATION_ERROR");

    // A day later the new link is dead too.
    email_token::Entity::update_many()
        .col_expr(
            email_token::Column::ExpiresAt,
            Expr::value(Utc::now() - TimeDelta::seconds(1)),
        )
        .exec(&app.state.writer)
        .await
        .expect("expire");
    app.post("/api/auth/verify-email", None, json!({ "token": second }))
        .await
        .assert_error(400, "VALIDATION_ERROR");
    let me = app.get("/api/auth/me", Some(&bob.token)).await;
    assert_eq!(me.data(200)["emailVerified"], false);
}

#[tokio::test]
async fn forgot_and_reset_password_end_every_old_session() {
    let app = TestApp::new().await;
    let carol = app.register("carol").await;
    let login = json!({ "email": address("carol"), "password": PASSWORD });
    let second = app.post("/api/auth/login", None, login.clone()).await;
    let second_refresh = second.data(200)["refreshToken"]
        .as_str()
        .expect("refresh")
        .to_owned();
    app.run_jobs().await;

    // Known and unknown addresses get the same answer.
    let known = app
        .post(
            "/api/auth/forgot-password",
            None,
            json!({ "email": "Carol@Example.com" }),
        )
        .await;
    let unknown = app
        .post(
            "/api/auth/forgot-password",
            None,
            json!({ "email": "nobody@example.com" }),
        )
        .await;
    assert_eq!(known.status.as_u16(), 202);
    assert_eq!((known.status, &known.body), (unknown.status, &unknown.body));
    app.post(
        "/api/auth/forgot-password",
        None,
        json!({ "email": "not an address" }),
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");
    app.run_jobs().await;
    assert!(app.mails_to("nobody@example.com").is_empty());
    let reset = only_mail(&app, "carol", "Reset your");
    assert!(reset.text.contains("expires in 1 hour"), "{}", reset.text);
    let token = reset.token("/reset-password");

    // A weak password is refused without spending the token.
    app.post(
        "/api/auth/reset-password",
        None,
        json!({ "token": token, "password": "weak" }),
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");
    let done = app
        .post(
            "/api/auth/reset-password",
            None,
            json!({ "token": token, "password": "N3wPassword" }),
        )
        .await;
    assert_eq!(done.body["success"], true, "{}", done.body);
    app.post(
        "/api/auth/reset-password",
        None,
        json!({ "token": token, "password": "An0therOne" }),
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");

    // Every old session is over; the new password signs in, the old does not.
    app.get("/api/auth/me", Some(&carol.token))
        .await
        .assert_error(401, "UNAUTHORIZED");
    for refresh in [&carol.refresh_token, &second_refresh] {
        app.post(
            "/api/auth/refresh",
            None,
            json!({ "refreshToken": refresh }),
        )
        .await
        .assert_error(401, "UNAUTHORIZED");
    }
    app.post("/api/auth/login", None, login)
        .await
        .assert_error(401, "INVALID_CREDENTIALS");
    let signed_in = app
        .post(
            "/api/auth/login",
            None,
            json!({ "email": address("carol"), "password": "N3wPassword" }),
        )
        .await;
    assert_eq!(
        signed_in.data(200)["user"]["emailVerified"],
        true,
        "a reset proves the mailbox"
    );
}

#[tokio::test]
async fn reset_links_expire_after_an_hour_and_floods_are_refused() {
    let app = TestApp::new().await;
    app.register("dora").await;
    for _ in 0..3 {
        app.post(
            "/api/auth/forgot-password",
            None,
            json!({ "email": address("dora") }),
        )
        .await;
    }
    app.run_jobs().await;
    let token = only_mail(&app, "dora", "Reset your").token("/reset-password");
    let issued = email_token::Entity::find()
        .filter(email_token::Column::Purpose.eq("RESET"))
        .one(&app.state.db)
        .await
        .expect("token")
        .expect("a reset token");
    assert_eq!(issued.expires_at - issued.created_at, TimeDelta::hours(1));
    email_token::Entity::update_many()
        .col_expr(
            email_token::Column::ExpiresAt,
            Expr::value(Utc::now() - TimeDelta::seconds(1)),
        )
        .exec(&app.state.writer)
        .await
        .expect("expire");
    app.post(
        "/api/auth/reset-password",
        None,
        json!({ "token": token, "password": "N3wPassword" }),
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");
}

#[tokio::test]
async fn changing_the_address_is_confirmed_from_the_new_one_and_told_to_the_old() {
    let app = TestApp::new().await;
    let erin = verified(&app, "erin").await;
    app.register("frank").await;
    let change =
        |new_email: &str, password: &str| json!({ "newEmail": new_email, "password": password });
    app.post(
        "/api/auth/change-email",
        Some(&erin.token),
        change("erin2@example.com", "Wr0ngPassword"),
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");
    app.post(
        "/api/auth/change-email",
        Some(&erin.token),
        change(&address("frank"), PASSWORD),
    )
    .await
    .assert_error(409, "CONFLICT");
    app.post(
        "/api/auth/change-email",
        None,
        change("erin2@example.com", PASSWORD),
    )
    .await
    .assert_error(401, "UNAUTHORIZED");
    let accepted = app
        .post(
            "/api/auth/change-email",
            Some(&erin.token),
            change("Erin2@Example.com", PASSWORD),
        )
        .await;
    assert_eq!(accepted.status.as_u16(), 202, "{}", accepted.body);
    app.run_jobs().await;
    let confirm = app.mails_to("erin2@example.com");
    assert_eq!(confirm.len(), 1);
    assert!(confirm[0].text.contains("erin2@example.com"));
    let token = confirm[0].token("/confirm-email");
    let me = app.get("/api/auth/me", Some(&erin.token)).await;
    assert_eq!(
        me.data(200)["email"],
        address("erin"),
        "unchanged until confirmed"
    );

    let moved = app
        .post(
            "/api/auth/confirm-email-change",
            None,
            json!({ "token": token }),
        )
        .await;
    assert_eq!(moved.data(200)["email"], "erin2@example.com");
    app.post(
        "/api/auth/confirm-email-change",
        None,
        json!({ "token": token }),
    )
    .await
    .assert_error(400, "VALIDATION_ERROR");
    app.run_jobs().await;
    let told = only_mail(&app, "erin", "was changed");
    assert!(told.text.contains("erin2@example.com"), "{}", told.text);
    app.post(
        "/api/auth/login",
        None,
        json!({ "email": "erin2@example.com", "password": PASSWORD }),
    )
    .await
    .data(200);
}

#[tokio::test]
async fn the_graphql_twins_run_the_same_flows() {
    let app = TestApp::new().await;
    let gina = app.register("gina").await;
    app.run_jobs().await;
    let token = only_mail(&app, "gina", "Welcome").token("/verify-email");
    let verify =
        "mutation($token: String!) { verifyEmail(input: { token: $token }) { id emailVerified } }";
    let verified = app.graphql(verify, json!({ "token": token }), None).await;
    assert_eq!(
        verified.body["data"]["verifyEmail"]["emailVerified"], true,
        "{}",
        verified.body
    );
    let again = app.graphql(verify, json!({ "token": token }), None).await;
    assert_eq!(
        again.body["errors"][0]["extensions"]["code"], "VALIDATION_ERROR",
        "{}",
        again.body
    );

    let forgot = app
        .graphql(
            "mutation { forgotPassword(input: { email: \"gina@example.com\" }) }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        forgot.body["data"]["forgotPassword"], true,
        "{}",
        forgot.body
    );
    app.run_jobs().await;
    let reset = only_mail(&app, "gina", "Reset your").token("/reset-password");
    let done = app
        .graphql(
            "mutation($token: String!) { resetPassword(input: { token: $token, password: \"N3wPassword\" }) }",
            json!({ "token": reset }),
            None,
        )
        .await;
    assert_eq!(done.body["data"]["resetPassword"], true, "{}", done.body);
    app.get("/api/auth/me", Some(&gina.token))
        .await
        .assert_error(401, "UNAUTHORIZED");

    // A new address, confirmed through GraphQL too.
    let signed_in = app
        .post(
            "/api/auth/login",
            None,
            json!({ "email": address("gina"), "password": "N3wPassword" }),
        )
        .await;
    let token = signed_in.data(200)["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let change = app
        .graphql(
            "mutation { changeEmail(input: { newEmail: \"gina2@example.com\", password: \"N3wPassword\" }) }",
            json!({}),
            Some(&token),
        )
        .await;
    assert_eq!(change.body["data"]["changeEmail"], true, "{}", change.body);
    app.run_jobs().await;
    let confirm = app.mails_to("gina2@example.com");
    assert_eq!(confirm.len(), 1);
    let moved = app
        .graphql(
            "mutation($token: String!) { confirmEmailChange(input: { token: $token }) { email emailVerified } }",
            json!({ "token": confirm[0].token("/confirm-email") }),
            None,
        )
        .await;
    assert_eq!(
        moved.body["data"]["confirmEmailChange"],
        json!({ "email": "gina2@example.com", "emailVerified": true }),
        "{}",
        moved.body
    );
    app.run_jobs().await;
    only_mail(&app, "gina", "was changed");
}

/// A TCP server that accepts connections and never says a word.
async fn silent_server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    port
}

/// The last-resort transport of a fallback test: the test SMTP server, or files.
fn working_transport(app_dir_hint: &str) -> String {
    match test_smtp() {
        Some((url, _)) => url,
        None => format!("file://{app_dir_hint}"),
    }
}

#[tokio::test]
async fn the_next_transport_delivers_when_one_is_down_or_never_answers() {
    let down = format!("smtp://127.0.0.1:{}", free_port());
    let silent = format!("smtp://127.0.0.1:{}", silent_server().await);
    let files =
        std::env::temp_dir().join(format!("sparkle-mail-{}", uuid::Uuid::new_v4().simple()));
    let working = working_transport(&files.display().to_string());
    let transports = vec![
        down.parse().expect("url"),
        silent.parse().expect("url"),
        working.parse().expect("url"),
    ];
    let app = TestApp::with_config(|config| {
        config.mail.mail_transports = transports;
        config.mail.mail_send_timeout_secs = 1;
    })
    .await;
    app.register("hana").await;
    // Bounded: a transport that never answers must not hold the worker.
    tokio::time::timeout(Duration::from_secs(30), app.run_jobs())
        .await
        .expect("the jobs finish although one server never answers");
    let sent = mail::Entity::find()
        .one(&app.state.db)
        .await
        .expect("mail")
        .expect("the welcome mail");
    assert_eq!(sent.status, "SENT");
    assert_eq!(sent.transport.as_deref(), Some(working.as_str()));
    let delivered = match test_smtp() {
        Some(_) => app.mails_to(&address("hana")).len(),
        None => std::fs::read_dir(&files)
            .map(|dir| dir.count())
            .unwrap_or(0),
    };
    assert_eq!(delivered, 1);
    let _ = std::fs::remove_dir_all(files);
}

#[tokio::test]
async fn ready_reports_an_smtp_server_that_cannot_be_reached_without_its_password() {
    let unreachable = format!("smtp://mailer:s3cret-pass@127.0.0.1:{}", free_port());
    let app = TestApp::with_config(|config| {
        config.mail.mail_transports = vec![unreachable.parse().expect("url")];
        config.mail.mail_send_timeout_secs = 1;
    })
    .await;
    let ready = app.get("/ready", None).await;
    assert_eq!(
        ready.status.as_u16(),
        200,
        "mail waits in the queue: still ready"
    );
    assert_eq!(ready.body["status"], "degraded", "{}", ready.body);
    assert_eq!(ready.body["mail"][0]["reachable"], false);
    let shown = ready.body["mail"][0]["transport"]
        .as_str()
        .expect("transport");
    assert!(shown.starts_with("smtp://mailer:***@127.0.0.1:"), "{shown}");
    assert!(!ready.body.to_string().contains("s3cret"));

    let healthy = TestApp::new().await;
    let ready = healthy.get("/ready", None).await;
    assert_eq!(ready.body["status"], "ready", "{}", ready.body);
    assert_eq!(ready.body["mail"][0]["reachable"], true);
}

/// A name with markup and a header break, as a hostile user would write it.
const HOSTILE: &str = "<script>alert(1)</script>\r\nBcc: victim@example.com";

fn every_kind_of_mail() -> Vec<MailContent> {
    let item = NotificationItem {
        title: HOSTILE.to_owned(),
        message: format!("{HOSTILE} commented"),
        url: "https://app.example/posts/1".to_owned(),
    };
    let mut contents = vec![
        MailContent::Welcome,
        MailContent::VerifyEmail,
        MailContent::PasswordReset,
        MailContent::ConfirmNewEmail {
            new_email: "new@example.com".to_owned(),
        },
        MailContent::EmailChanged {
            new_email: "new@example.com".to_owned(),
        },
        MailContent::WeeklyDigest {
            week_of: "2026-11-23".to_owned(),
            posts: vec![DigestPost {
                title: HOSTILE.to_owned(),
                author: HOSTILE.to_owned(),
                excerpt: HOSTILE.to_owned(),
                url: "https://app.example/posts/x".to_owned(),
                reason: "from people you follow".to_owned(),
            }],
            unread_notifications: 3,
        },
    ];
    for notification_type in [
        NotificationType::PostLiked,
        NotificationType::PostCommented,
        NotificationType::CommentLiked,
        NotificationType::UserFollowed,
        NotificationType::AchievementUnlocked,
        NotificationType::LevelUp,
        NotificationType::Mention,
        NotificationType::System,
    ] {
        for count in [1, 2] {
            contents.push(MailContent::Notifications {
                notification_type,
                items: vec![item.clone(); count],
            });
        }
    }
    contents
}

#[test]
fn every_kind_renders_in_html_and_text_and_user_content_stays_inert() {
    let frame = Frame {
        username: HOSTILE.to_owned(),
        action_url: Some("https://app.example/verify-email?token=abc".to_owned()),
        expires_in: Some("24 hours".to_owned()),
        unsubscribe_url: Some("https://api.example/api/mail/unsubscribe?token=t".to_owned()),
        category_description: Some("mail about comments".to_owned()),
        preferences_url: "https://app.example/settings/email".to_owned(),
        notifications_url: "https://app.example/notifications".to_owned(),
        pixel_url: Some("https://api.example/api/mail/open/1?sig=s".to_owned()),
    };
    for content in every_kind_of_mail() {
        let kind = content.kind();
        let rendered = templates::render(&content, &frame).expect("renders");
        assert!(!rendered.subject.is_empty(), "{kind}");
        assert!(
            !rendered.subject.contains(['\r', '\n']),
            "{kind}: {:?}",
            rendered.subject
        );
        assert!(rendered.html.contains("<html"), "{kind}");
        assert!(
            !rendered.html.contains("<script>"),
            "{kind}: {}",
            rendered.html
        );
        assert!(
            rendered.html.contains("&lt;script&gt;"),
            "{kind}: {}",
            rendered.html
        );
        assert!(
            rendered.text.contains("Hi <script>"),
            "{kind}: text is not HTML"
        );
        assert!(
            !rendered.text.contains("&lt;"),
            "{kind}: text is not escaped"
        );
        assert!(!rendered.text.contains("{{"), "{kind}");
    }
}

/// `follower` follows `username`.
async fn follow(app: &TestApp, follower: &Session, username: &str) {
    app.call(
        axum::http::Method::POST,
        &format!("/api/users/{username}/follow"),
        Some(&follower.token),
        None,
    )
    .await
    .data(200);
}

/// `who` likes post `post_id`.
async fn like(app: &TestApp, who: &Session, post_id: &str) {
    app.call(
        axum::http::Method::PUT,
        &format!("/api/posts/{post_id}/reactions"),
        Some(&who.token),
        Some(json!({ "type": "LIKE" })),
    )
    .await
    .data(200);
}

/// A published post by `author`; returns its id.
async fn post_by(app: &TestApp, author: &Session, title: &str) -> String {
    let post = app
        .create_post(
            &author.token,
            json!({ "title": title, "content": "Sparkles all around", "published": true }),
        )
        .await;
    post["id"].as_str().expect("post id").to_owned()
}

#[tokio::test]
async fn notifications_are_mailed_as_wanted_coalesced_and_never_to_the_unverified() {
    let app = TestApp::new().await;
    let ivy = verified(&app, "ivy").await;
    let fans = [
        verified(&app, "fan_a").await,
        verified(&app, "fan_b").await,
        verified(&app, "fan_c").await,
    ];
    let pending = app.register("pending").await;
    for fan in &fans {
        follow(&app, fan, "ivy").await;
    }
    follow(&app, &fans[0], "pending").await;
    app.run_jobs().await;
    // Three follows within the window: one mail, listing all three.
    let followers = only_mail(&app, "ivy", "new followers");
    assert_eq!(followers.subject, "3 new followers");
    for fan in ["fan_a", "fan_b", "fan_c"] {
        assert!(
            followers
                .text
                .contains(&format!("{fan} started following you")),
            "{}",
            followers.text
        );
    }
    assert!(
        app.mails_to(&address("pending"))
            .iter()
            .all(|mail| mail.subject.contains("Welcome")),
        "no notification mail before the address is verified"
    );

    // Likes are off by default; turned on, the next like is mailed (and only that one).
    let post = post_by(&app, &ivy, "Ivy's first post").await;
    like(&app, &fans[0], &post).await;
    app.run_jobs().await;
    assert!(
        app.mails_to(&address("ivy"))
            .iter()
            .all(|mail| !mail.subject.contains("reacted"))
    );
    let preferences = app
        .call(
            axum::http::Method::PUT,
            "/api/users/me/email-preferences",
            Some(&ivy.token),
            Some(json!({ "likes": true })),
        )
        .await;
    let preferences = preferences.data(200);
    assert_eq!(
        *preferences,
        json!({ "follows": true, "comments": true, "mentions": true, "likes": true, "achievements": false, "system": true, "digest": true })
    );
    like(&app, &fans[1], &post).await;
    app.run_jobs().await;
    let liked = only_mail(&app, "ivy", "reacted");
    assert_eq!(
        liked.subject,
        "fan_b reacted to your post \"Ivy's first post\""
    );

    // A suspended account gets none.
    app.state
        .writer
        .execute_unprepared(&format!(
            "UPDATE users SET status = 'SUSPENDED' WHERE id = '{}'",
            ivy.user_id
        ))
        .await
        .expect("suspend");
    like(&app, &fans[2], &post).await;
    app.run_jobs().await;
    assert_eq!(
        only_mail(&app, "ivy", "reacted").subject,
        liked.subject,
        "no second reaction mail"
    );

    // GraphQL reads the same preferences.
    let _ = pending;
    let read = app
        .graphql(
            "{ emailPreferences { likes follows } }",
            json!({}),
            Some(&fans[0].token),
        )
        .await;
    assert_eq!(
        read.body["data"]["emailPreferences"],
        json!({ "likes": false, "follows": true }),
        "{}",
        read.body
    );
}

#[tokio::test]
async fn hostile_titles_cannot_break_the_markup_or_add_a_header() {
    let app = TestApp::new().await;
    let jack = verified(&app, "jack").await;
    let kim = verified(&app, "kim").await;
    let post = post_by(&app, &jack, "<b>Bold</b> \r\nBcc: victim@example.com").await;
    app.post(
        &format!("/api/posts/{post}/comments"),
        Some(&kim.token),
        json!({ "content": "Nice" }),
    )
    .await
    .data(201);
    app.run_jobs().await;
    let comment = only_mail(&app, "jack", "commented");
    assert!(comment.header("Bcc").is_none(), "{:?}", comment.headers);
    assert!(
        !comment.subject.contains(['\r', '\n']),
        "{:?}",
        comment.subject
    );
    assert!(
        comment.html.contains("&lt;b&gt;Bold&lt;&#x2f;b&gt;"),
        "{}",
        comment.html
    );
    assert!(!comment.html.contains("<b>Bold"), "{}", comment.html);
}

#[tokio::test]
async fn one_click_unsubscribe_turns_a_category_off_without_login() {
    let app = TestApp::new().await;
    let lea = verified(&app, "lea").await;
    let max = verified(&app, "max").await;
    let ned = verified(&app, "ned").await;
    follow(&app, &max, "lea").await;
    app.run_jobs().await;
    let mail = only_mail(&app, "lea", "started following");
    assert_eq!(
        mail.header("List-Unsubscribe-Post"),
        Some("List-Unsubscribe=One-Click")
    );
    let link = mail
        .header("List-Unsubscribe")
        .expect("List-Unsubscribe")
        .trim_start_matches('<')
        .trim_end_matches('>')
        .to_owned();
    assert!(
        link.starts_with("http://sparkle.test/api/mail/unsubscribe?token="),
        "{link}"
    );
    let path = local(&link);

    // A GET (a link scanner) changes nothing: it shows a button.
    let page = app.get(&path, None).await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.body
            .as_str()
            .is_some_and(|html| html.contains("method=\"post\""))
    );
    let policy = page.headers["content-security-policy"]
        .to_str()
        .expect("policy");
    assert!(policy.contains("form-action 'self'"), "{policy}");
    // Tampered tokens are refused.
    let token = path.split_once("token=").expect("token").1.to_owned();
    let decoded: String = form_urlencoded::parse(format!("t={token}").as_bytes())
        .next()
        .expect("token")
        .1
        .into_owned();
    let moved = decoded.replacen(".follows.", ".mentions.", 1);
    let foreign = decoded.replacen(&lea.user_id, &max.user_id, 1);
    for bad in [moved, foreign, format!("{decoded}x"), "nonsense".to_owned()] {
        let encoded: String = form_urlencoded::byte_serialize(bad.as_bytes()).collect();
        app.post_raw(
            &format!("/api/mail/unsubscribe?token={encoded}"),
            "application/x-www-form-urlencoded",
            "List-Unsubscribe=One-Click",
        )
        .await
        .assert_error(400, "VALIDATION_ERROR");
    }
    // One POST, as a mail client sends it (RFC 8058), and no login.
    let done = app
        .post_raw(
            &path,
            "application/x-www-form-urlencoded",
            "List-Unsubscribe=One-Click",
        )
        .await;
    assert_eq!(done.data(200)["category"], "follows");
    let preferences = app
        .get("/api/users/me/email-preferences", Some(&lea.token))
        .await;
    assert_eq!(preferences.data(200)["follows"], false);
    assert_eq!(preferences.data(200)["mentions"], true);
    follow(&app, &ned, "lea").await;
    app.run_jobs().await;
    assert_eq!(
        only_mail(&app, "lea", "started following").subject,
        mail.subject
    );
    // The GraphQL twin: the same token turns the same category off (idempotent).
    let again = app
        .graphql(
            "mutation($token: String!) { unsubscribe(token: $token) { category } }",
            json!({ "token": decoded }),
            None,
        )
        .await;
    assert_eq!(
        again.body["data"]["unsubscribe"]["category"], "follows",
        "{}",
        again.body
    );
}

/// Account mail (a password reset) still reaches `username`, whatever the limits.
async fn assert_account_mail_still_goes(app: &TestApp, username: &str) {
    app.post(
        "/api/auth/forgot-password",
        None,
        json!({ "email": address(username) }),
    )
    .await;
    app.run_jobs().await;
    only_mail(app, username, "Reset your");
}

/// When the one deferred mail to `who` is to be sent again (its waiting job's time).
async fn deferred_until(app: &TestApp, who: &Session) -> chrono::DateTime<Utc> {
    let deferred = mail::Entity::find()
        .filter(mail::Column::UserId.eq(&who.user_id))
        .filter(mail::Column::Status.eq("DEFERRED"))
        .one(&app.state.db)
        .await
        .expect("mail")
        .expect("the mail over the limit is kept, deferred");
    job::Entity::find()
        .filter(job::Column::Kind.eq("send_mail"))
        .filter(job::Column::Args.contains(&deferred.id))
        .filter(job::Column::State.eq("available"))
        .one(&app.state.db)
        .await
        .expect("job")
        .expect("its job waits")
        .run_at
}

#[tokio::test]
async fn the_21st_mail_of_a_day_waits_for_the_next_while_account_mail_still_goes() {
    let app = TestApp::new().await;
    let admin = verified(&app, "admin").await;
    app.set_role(&admin.user_id, "ADMIN").await;
    let olga = verified(&app, "olga").await;
    for index in 1..=21 {
        app.post(
            "/api/admin/notifications",
            Some(&admin.token),
            json!({ "title": format!("Notice {index}"), "message": "Hello" }),
        )
        .await
        .data(200);
        app.run_jobs().await;
    }
    let notices = app
        .mails_to(&address("olga"))
        .into_iter()
        .filter(|mail| mail.subject == "Hello")
        .count();
    assert_eq!(notices, 20, "twenty a day");
    let tomorrow = Utc::now().duration_trunc(TimeDelta::days(1)).expect("day") + TimeDelta::days(1);
    assert_eq!(deferred_until(&app, &olga).await, tomorrow);

    // Account mail is exempt.
    assert_account_mail_still_goes(&app, "olga").await;
}

#[tokio::test]
async fn the_hourly_limit_defers_other_mail_but_never_account_mail() {
    let app = TestApp::with_config(|config| config.mail.mail_hourly_limit = 3).await;
    let pia = verified(&app, "pia").await;
    let quinn = verified(&app, "quinn").await;
    // Two welcome mails took two of the three; a follow mail takes the third.
    follow(&app, &quinn, "pia").await;
    app.run_jobs().await;
    only_mail(&app, "pia", "started following");
    follow(&app, &pia, "quinn").await;
    app.run_jobs().await;
    assert!(
        app.mails_to(&address("quinn"))
            .iter()
            .all(|mail| !mail.subject.contains("following"))
    );
    let next_hour = Utc::now()
        .duration_trunc(TimeDelta::hours(1))
        .expect("hour")
        + TimeDelta::hours(1);
    assert_eq!(deferred_until(&app, &quinn).await, next_hour);
    assert_account_mail_still_goes(&app, "quinn").await;
}

#[tokio::test]
async fn opens_and_clicks_count_through_signed_links_only() {
    let app = TestApp::new().await;
    let admin = verified(&app, "admin").await;
    app.set_role(&admin.user_id, "ADMIN").await;
    let rae = verified(&app, "rae").await;
    let sam = verified(&app, "sam").await;
    follow(&app, &sam, "rae").await;
    follow(&app, &rae, "sam").await;
    app.run_jobs().await;
    let to_rae = only_mail(&app, "rae", "started following");
    let to_sam = only_mail(&app, "sam", "started following");

    // The pixel.
    let html = to_rae.html.replace("&#x2f;", "/").replace("&amp;", "&");
    let pixel = html
        .split('"')
        .find(|part| part.contains("/api/mail/open/"))
        .expect("an open pixel");
    let opened = app.get(&local(pixel), None).await;
    assert_eq!(opened.status.as_u16(), 200);
    assert_eq!(opened.headers["content-type"], "image/gif");
    app.get(&format!("{}x", local(pixel)), None)
        .await
        .assert_error(404, "NOT_FOUND");

    // A click goes where the mail pointed.
    let click = to_rae.link("/api/mail/click/");
    let followed = app.get(&local(&click), None).await;
    assert_eq!(followed.status.as_u16(), 302);
    let target = followed.headers["location"].to_str().expect("location");
    assert_eq!(target, format!("http://sparkle.test/users/{}", sam.user_id));

    // Tampered, moved to another mail, or to a URL the mail did not carry: refused.
    let rae_mail_id = click
        .split("/api/mail/click/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .expect("mail id")
        .to_owned();
    let sam_mail_id = to_sam
        .link("/api/mail/click/")
        .split("/api/mail/click/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .expect("mail id")
        .to_owned();
    let tampered = click.replacen("sig=", "sig=A", 1);
    let moved = click.replacen(&rae_mail_id, &sam_mail_id, 1);
    let elsewhere = "https://evil.example/phish";
    let signed_elsewhere = format!(
        "/api/mail/click/{rae_mail_id}?url={}&sig={}",
        form_urlencoded::byte_serialize(elsewhere.as_bytes()).collect::<String>(),
        app.state
            .mail
            .signer
            .sign("click", &[&rae_mail_id, elsewhere])
    );
    for refused in [local(&tampered), local(&moved), signed_elsewhere] {
        let response = app.get(&refused, None).await;
        response.assert_error(404, "NOT_FOUND");
        assert!(response.headers.get("location").is_none());
    }

    let stats = app.get("/api/admin/mail", Some(&admin.token)).await;
    let stats = stats.data(200);
    let followers = stats
        .as_array()
        .expect("kinds")
        .iter()
        .find(|kind| kind["kind"] == "new_follower")
        .expect("new_follower stats");
    assert_eq!(
        *followers,
        json!({ "kind": "new_follower", "sent": 2, "delivered": 2, "deferred": 0, "skipped": 0, "opened": 1, "clicked": 1 })
    );
    app.get("/api/admin/mail", Some(&rae.token))
        .await
        .assert_error(403, "FORBIDDEN");
    let graphql = app
        .graphql(
            "{ mailStats { kind delivered opened clicked } }",
            json!({}),
            Some(&admin.token),
        )
        .await;
    let kinds = graphql.body["data"]["mailStats"]
        .as_array()
        .expect("mailStats")
        .clone();
    assert!(
        kinds.contains(
            &json!({ "kind": "new_follower", "delivered": 2, "opened": 1, "clicked": 1 })
        ),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn the_weekly_digest_tells_the_week_once_and_skips_who_has_nothing_new() {
    let app = TestApp::new().await;
    let tia = verified(&app, "tia").await;
    let uma = verified(&app, "uma").await;
    let _quiet = verified(&app, "quiet").await;
    follow(&app, &tia, "uma").await;
    post_by(&app, &uma, "Uma's sparkly week").await;
    app.run_jobs().await;
    let week_of = Utc::now() + TimeDelta::minutes(1);
    for _ in 0..2 {
        // The schedule fires twice (two instances, or a retry).
        let mut write = sparkle_universe::domain::effects::Write::begin(&app.state)
            .await
            .expect("begin");
        write
            .enqueue(NewJob::from(Job::WeeklyDigest { week_of }))
            .await
            .expect("enqueue");
        write.commit().await.expect("commit");
        app.run_jobs().await;
    }
    let digest = only_mail(&app, "tia", "Your week");
    assert!(
        digest.text.contains("Uma's sparkly week"),
        "{}",
        digest.text
    );
    assert!(
        digest.text.contains("by uma (from people you follow)"),
        "{}",
        digest.text
    );
    assert!(digest.header("List-Unsubscribe").is_some());
    // Uma has an unread notification (the follow): that is worth a digest too.
    let to_uma = only_mail(&app, "uma", "Your week");
    assert!(
        to_uma.text.contains("1 unread notification"),
        "{}",
        to_uma.text
    );
    assert!(
        app.mails_to(&address("quiet"))
            .iter()
            .all(|mail| !mail.subject.contains("Your week"))
    );
}
