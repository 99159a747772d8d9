//! Comments: `/api/posts/{id}/comments`, `/api/comments/{id}` and
//! `/api/comments/{id}/replies` over REST, their GraphQL twins (`Post.comments`,
//! `Comment.replies`, `comment`, `addComment`, `editComment`, `deleteComment`), the
//! notifications they cause, and the parity of the two styles.

use axum::http::Method;
use chrono::DateTime;
use entity::{comment, notification};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use sparkle_universe::{
    domain::{
        comments::{self, CommentThread},
        pagination::CursorWindow,
    },
    realtime::Event,
};

use crate::support::{Session, TestApp, TestResponse};

// ---------------------------------------------------------------------------
// Helpers (shared with the reaction tests)
// ---------------------------------------------------------------------------

/// A request body for a post published at once.
pub(crate) fn published(title: &str) -> Value {
    json!({ "title": title, "content": format!("Content of {title}."), "published": true })
}

/// The `id` of an object.
#[track_caller]
pub(crate) fn id(object: &Value) -> String {
    object["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {object}"))
        .to_owned()
}

/// The ids of an array of objects, in order.
#[track_caller]
pub(crate) fn ids(objects: &Value) -> Vec<String> {
    objects
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {objects}"))
        .iter()
        .map(id)
        .collect()
}

/// Publishes a post by `author` and returns its id.
pub(crate) async fn post_by(app: &TestApp, author: &Session, title: &str) -> String {
    id(&app.create_post(&author.token, published(title)).await)
}

/// `POST /api/posts/{post_id}/comments`.
pub(crate) async fn add_comment(
    app: &TestApp,
    token: Option<&str>,
    post_id: &str,
    body: Value,
) -> TestResponse {
    app.post(&format!("/api/posts/{post_id}/comments"), token, body)
        .await
}

/// Adds a top-level comment that must succeed; returns it.
pub(crate) async fn comment_on(
    app: &TestApp,
    author: &Session,
    post_id: &str,
    content: &str,
) -> Value {
    add_comment(
        app,
        Some(&author.token),
        post_id,
        json!({ "content": content }),
    )
    .await
    .data(201)
    .clone()
}

/// Adds a reply that must succeed; returns it.
pub(crate) async fn reply_to(
    app: &TestApp,
    author: &Session,
    post_id: &str,
    parent_id: &str,
    content: &str,
) -> Value {
    add_comment(
        app,
        Some(&author.token),
        post_id,
        json!({ "content": content, "parentId": parent_id }),
    )
    .await
    .data(201)
    .clone()
}

/// `GET /api/posts/{post_id}/comments?{query}`.
async fn list(app: &TestApp, post_id: &str, query: &str, token: Option<&str>) -> TestResponse {
    app.get(&format!("/api/posts/{post_id}/comments?{query}"), token)
        .await
}

/// The first page of top-level comments (anonymous, 100 at most).
pub(crate) async fn comments_page(app: &TestApp, post_id: &str) -> Value {
    list(app, post_id, "limit=100", None)
        .await
        .data(200)
        .clone()
}

/// `GET /api/comments/{comment_id}/replies?{query}`.
async fn replies(app: &TestApp, comment_id: &str, query: &str) -> TestResponse {
    app.get(&format!("/api/comments/{comment_id}/replies?{query}"), None)
        .await
}

/// `GET /api/comments/{comment_id}`.
pub(crate) async fn read_comment(app: &TestApp, comment_id: &str) -> TestResponse {
    app.get(&format!("/api/comments/{comment_id}"), None).await
}

/// `PUT /api/comments/{comment_id}`.
async fn edit(app: &TestApp, comment_id: &str, token: Option<&str>, body: Value) -> TestResponse {
    app.call(
        Method::PUT,
        &format!("/api/comments/{comment_id}"),
        token,
        Some(body),
    )
    .await
}

/// `DELETE /api/comments/{comment_id}`.
pub(crate) async fn delete(app: &TestApp, comment_id: &str, token: Option<&str>) -> TestResponse {
    app.call(
        Method::DELETE,
        &format!("/api/comments/{comment_id}"),
        token,
        None,
    )
    .await
}

/// The `_count` of a post, as its author sees it.
pub(crate) async fn post_counts(app: &TestApp, post_id: &str, token: &str) -> Value {
    app.get(&format!("/api/posts/{post_id}"), Some(token))
        .await
        .data(200)["_count"]
        .clone()
}

/// How many comment rows exist, placeholders included.
pub(crate) async fn stored_comments(app: &TestApp) -> u64 {
    comment::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count comments")
}

/// The notifications of `user_id`, oldest first.
/// The notifications of `user_id`, once the due jobs (mentions) have run.
pub(crate) async fn notifications_of(app: &TestApp, user_id: &str) -> Vec<notification::Model> {
    app.run_jobs().await;
    notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .order_by_asc(notification::Column::Id)
        .all(&app.state.db)
        .await
        .expect("notifications")
}

/// The types of `user_id`'s notifications, oldest first.
pub(crate) async fn notification_types(app: &TestApp, user_id: &str) -> Vec<String> {
    notifications_of(app, user_id)
        .await
        .into_iter()
        .map(|row| row.notification_type)
        .collect()
}

/// The `data` of a notification, parsed.
pub(crate) fn data_of(row: &notification::Model) -> Value {
    serde_json::from_str(&row.data).expect("notification data is JSON")
}

/// Asserts a REST 400 VALIDATION_ERROR naming `field`.
#[track_caller]
pub(crate) fn assert_field_error(response: &TestResponse, field: &str) {
    response.assert_error(400, "VALIDATION_ERROR");
    assert!(
        response.body["fields"][field].is_string(),
        "expected fields.{field}, body: {}",
        response.body
    );
}

/// A signed-in moderator.
pub(crate) async fn moderator(app: &TestApp) -> Session {
    let session = app.register("moderator").await;
    app.set_role(&session.user_id, "MODERATOR").await;
    session
}

/// Runs a GraphQL operation that must succeed; returns its `data`.
pub(crate) async fn gql_data(
    app: &TestApp,
    query: &str,
    variables: Value,
    token: Option<&str>,
) -> Value {
    let response = app.graphql(query, variables, token).await;
    assert_eq!(response.status.as_u16(), 200, "body: {}", response.body);
    assert!(
        response.body.get("errors").is_none(),
        "unexpected errors: {}",
        response.body
    );
    response.body["data"].clone()
}

/// Asserts a failed GraphQL operation with `code`; returns the first error.
#[track_caller]
pub(crate) fn assert_gql_error<'a>(response: &'a TestResponse, code: &str) -> &'a Value {
    let error = &response.body["errors"][0];
    assert_eq!(
        error["extensions"]["code"],
        json!(code),
        "body: {}",
        response.body
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "body: {}",
        response.body
    );
    assert!(
        response.body["data"].is_null(),
        "no data expected: {}",
        response.body
    );
    error
}

/// Asserts a GraphQL VALIDATION_ERROR naming `field` in `extensions.fields`.
#[track_caller]
pub(crate) fn assert_gql_field_error(response: &TestResponse, field: &str) {
    let error = assert_gql_error(response, "VALIDATION_ERROR");
    assert!(
        error["extensions"]["fields"][field].is_string(),
        "expected fields.{field}: {}",
        response.body
    );
}

/// The nodes of a connection.
#[track_caller]
pub(crate) fn nodes(connection: &Value) -> Vec<&Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {connection}"))
        .iter()
        .map(|edge| &edge["node"])
        .collect()
}

/// A string of `n` characters.
fn chars(n: usize) -> String {
    "a".repeat(n)
}

/// Every field of a comment the GraphQL tests select.
const COMMENT_FIELDS: &str = "id postId parentId depth content edited deleted youtubeTimestamp \
    counts { reactions replies } createdAt editedAt author { id username image }";

/// `addComment(postId, input)`.
async fn gql_add(app: &TestApp, post_id: &str, input: Value, token: Option<&str>) -> TestResponse {
    let query = format!(
        "mutation($postId: String!, $input: CreateCommentInput!) {{ addComment(postId: $postId, input: $input) {{ {COMMENT_FIELDS} }} }}"
    );
    app.graphql(&query, json!({ "postId": post_id, "input": input }), token)
        .await
}

/// `editComment(id, content)`.
async fn gql_edit(
    app: &TestApp,
    comment_id: &str,
    content: &str,
    token: Option<&str>,
) -> TestResponse {
    let query = format!(
        "mutation($id: String!, $content: String!) {{ editComment(id: $id, content: $content) {{ {COMMENT_FIELDS} }} }}"
    );
    app.graphql(
        &query,
        json!({ "id": comment_id, "content": content }),
        token,
    )
    .await
}

/// `deleteComment(id)`.
async fn gql_delete(app: &TestApp, comment_id: &str, token: Option<&str>) -> TestResponse {
    app.graphql(
        "mutation($id: String!) { deleteComment(id: $id) }",
        json!({ "id": comment_id }),
        token,
    )
    .await
}

/// `post(by: {id}) { comments(args) { … } }`.
async fn gql_post_comments(app: &TestApp, post_id: &str, args: &str) -> TestResponse {
    let query = format!(
        "query($id: String!) {{ post(by: {{id: $id}}) {{ comments({args}) {{ \
         pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }} \
         edges {{ cursor node {{ {COMMENT_FIELDS} }} }} }} }} }}"
    );
    app.graphql(&query, json!({ "id": post_id }), None).await
}

/// Asserts that a REST comment and a GraphQL comment carry the same fields.
#[track_caller]
fn assert_same_comment(rest: &Value, graphql: &Value) {
    for field in [
        "id",
        "postId",
        "parentId",
        "content",
        "edited",
        "deleted",
        "youtubeTimestamp",
        "author",
    ] {
        assert_eq!(
            rest[field], graphql[field],
            "{field}: REST {rest} vs GraphQL {graphql}"
        );
    }
    assert_eq!(rest["_count"], graphql["counts"], "REST _count vs counts");
    for field in ["createdAt", "editedAt"] {
        let instant = |value: &Value| {
            value
                .as_str()
                .map(|text| DateTime::parse_from_rfc3339(text).expect("RFC 3339"))
        };
        assert_eq!(instant(&rest[field]), instant(&graphql[field]), "{field}");
    }
}

// ---------------------------------------------------------------------------
// REST: creating
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_returns_201_with_the_seed_comment_shape() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Song").await;

    let response = add_comment(
        &app,
        Some(&bob.token),
        &post_id,
        json!({ "content": "  Love the bridge at 1:05  ", "youtubeTimestamp": 65 }),
    )
    .await;
    let created = response.data(201);
    assert_eq!(created["content"], json!("Love the bridge at 1:05"));
    assert_eq!(created["edited"], json!(false));
    assert_eq!(created["deleted"], json!(false));
    assert_eq!(created["youtubeTimestamp"], json!(65));
    assert_eq!(created["postId"], json!(post_id));
    assert_eq!(created["parentId"], Value::Null);
    assert_eq!(
        created["author"],
        json!({ "id": bob.user_id, "username": "bob", "image": null })
    );
    assert_eq!(created["_count"], json!({ "reactions": 0, "replies": 0 }));
    assert!(
        DateTime::parse_from_rfc3339(created["createdAt"].as_str().expect("createdAt")).is_ok()
    );
    assert_eq!(created["editedAt"], Value::Null);
    assert!(uuid::Uuid::parse_str(&id(created)).is_ok());

    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await,
        json!({ "comments": 1, "reactions": 0 })
    );
    let read = read_comment(&app, &id(created)).await;
    assert_eq!(read.data(200), created);
}

#[tokio::test]
async fn create_accepts_fields_at_their_limits() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Limits").await;
    for body in [
        json!({ "content": chars(5000) }),
        json!({ "content": "x" }),
        json!({ "content": "at the start", "youtubeTimestamp": 0 }),
        json!({ "content": "no timestamp", "youtubeTimestamp": null, "parentId": null }),
    ] {
        add_comment(&app, Some(&alice.token), &post_id, body)
            .await
            .data(201);
    }
    assert_eq!(stored_comments(&app).await, 4);
}

#[tokio::test]
async fn create_rejects_bad_input_and_changes_nothing() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Target").await;
    let other_post = post_by(&app, &alice, "Elsewhere").await;
    let elsewhere = comment_on(&app, &alice, &other_post, "On the other post").await;
    let before = stored_comments(&app).await;

    for (body, field) in [
        (json!({}), "content"),
        (json!({ "content": "" }), "content"),
        (json!({ "content": "   \n " }), "content"),
        (json!({ "content": chars(5001) }), "content"),
        (json!({ "content": 5 }), "content"),
        (
            json!({ "content": "ok", "youtubeTimestamp": -1 }),
            "youtubeTimestamp",
        ),
        (
            json!({ "content": "ok", "youtubeTimestamp": "1:05" }),
            "youtubeTimestamp",
        ),
        (
            json!({ "content": "ok", "youtubeTimestamp": 1.5 }),
            "youtubeTimestamp",
        ),
        (
            json!({ "content": "ok", "youtubeTimestamp": 3_000_000_000_i64 }),
            "youtubeTimestamp",
        ),
        (
            json!({ "content": "ok", "parentId": "no-such-comment" }),
            "parentId",
        ),
        (
            json!({ "content": "ok", "parentId": id(&elsewhere) }),
            "parentId",
        ),
        (json!({ "content": "ok", "parentId": 7 }), "parentId"),
    ] {
        let response = add_comment(&app, Some(&alice.token), &post_id, body.clone()).await;
        assert_field_error(&response, field);
        assert!(
            response.body["error"].is_string(),
            "{body}: {}",
            response.body
        );
    }

    // Every problem of one request is reported at once.
    let response = add_comment(
        &app,
        Some(&alice.token),
        &post_id,
        json!({ "content": "", "youtubeTimestamp": -5, "parentId": "nope" }),
    )
    .await;
    response.assert_error(400, "VALIDATION_ERROR");
    let fields = response.body["fields"].as_object().expect("fields");
    assert_eq!(fields.len(), 3, "{}", response.body);

    let malformed = app
        .send(
            axum::http::Request::post(format!("/api/posts/{post_id}/comments"))
                .header("authorization", format!("Bearer {}", alice.token))
                .header("content-type", "application/json")
                .body(axum::body::Body::from("{\"content\": "))
                .expect("request"),
        )
        .await;
    malformed.assert_error(400, "BAD_REQUEST");

    assert_eq!(stored_comments(&app).await, before);
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["comments"],
        json!(0)
    );
}

#[tokio::test]
async fn create_needs_a_signed_in_user_and_a_visible_post() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Open").await;
    let draft = id(&app
        .create_post(
            &alice.token,
            json!({ "title": "Draft", "content": "Not yet" }),
        )
        .await);
    let body = json!({ "content": "Hello" });

    add_comment(&app, None, &post_id, body.clone())
        .await
        .assert_error(401, "UNAUTHORIZED");
    add_comment(&app, Some("not-a-token"), &post_id, body.clone())
        .await
        .assert_error(401, "UNAUTHORIZED");
    add_comment(&app, Some(&bob.token), "no-such-post", body.clone())
        .await
        .assert_error(404, "NOT_FOUND");
    add_comment(&app, Some(&bob.token), &draft, body.clone())
        .await
        .assert_error(404, "NOT_FOUND");
    app.call(
        Method::DELETE,
        &format!("/api/posts/{post_id}"),
        Some(&alice.token),
        None,
    )
    .await;
    add_comment(&app, Some(&bob.token), &post_id, body.clone())
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(stored_comments(&app).await, 0);

    // The author may comment on their own draft.
    let own = add_comment(&app, Some(&alice.token), &draft, body).await;
    assert_eq!(own.data(201)["postId"], json!(draft));
}

#[tokio::test]
async fn comments_are_rate_limited_per_user() {
    let app = TestApp::with_config(|config| {
        config.limits.rate_limit_comment_create = "2/1h".parse().expect("rate");
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Busy").await;
    comment_on(&app, &alice, &post_id, "one").await;
    comment_on(&app, &alice, &post_id, "two").await;
    let limited = add_comment(
        &app,
        Some(&alice.token),
        &post_id,
        json!({ "content": "three" }),
    )
    .await;
    limited.assert_error(429, "RATE_LIMITED");
    assert!(limited.headers.get("retry-after").is_some());
    comment_on(&app, &bob, &post_id, "bob is fine").await;
    assert_eq!(stored_comments(&app).await, 3);
}

// ---------------------------------------------------------------------------
// REST: nesting
// ---------------------------------------------------------------------------

#[tokio::test]
async fn replies_nest_at_most_five_levels() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Deep").await;
    let top = comment_on(&app, &alice, &post_id, "level 0").await;
    let mut chain = vec![id(&top)];
    for level in 1..=5 {
        let parent = chain.last().expect("parent").clone();
        let reply = reply_to(&app, &alice, &post_id, &parent, &format!("level {level}")).await;
        assert_eq!(reply["parentId"], json!(parent));
        chain.push(id(&reply));
    }
    let deepest = chain.last().expect("deepest").clone();
    let too_deep = add_comment(
        &app,
        Some(&alice.token),
        &post_id,
        json!({ "content": "level 6", "parentId": deepest }),
    )
    .await;
    assert_field_error(&too_deep, "parentId");
    assert!(
        too_deep.body["fields"]["parentId"]
            .as_str()
            .is_some_and(|message| message.contains('5')),
        "{}",
        too_deep.body
    );

    assert_eq!(stored_comments(&app).await, 6);
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["comments"],
        json!(6)
    );
    for (index, comment_id) in chain.iter().enumerate() {
        let comment = read_comment(&app, comment_id).await;
        let replies = if index < 5 { 1 } else { 0 };
        assert_eq!(comment.data(200)["_count"]["replies"], json!(replies));
    }
    // Only the top-level comment is listed on the post.
    assert_eq!(
        ids(&comments_page(&app, &post_id).await["items"]),
        [id(&top)]
    );
}

// ---------------------------------------------------------------------------
// REST: listing
// ---------------------------------------------------------------------------

#[tokio::test]
async fn lists_page_oldest_first_with_cursors() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Popular").await;
    let mut created = Vec::new();
    for n in 1..=5 {
        created.push(id(&comment_on(
            &app,
            &bob,
            &post_id,
            &format!("comment {n}"),
        )
        .await));
    }
    reply_to(
        &app,
        &alice,
        &post_id,
        &created[0],
        "a reply is not top-level",
    )
    .await;

    let first = list(&app, &post_id, "limit=2", None).await;
    let first = first.data(200);
    assert_eq!(ids(&first["items"]), created[0..2]);
    assert_eq!(first["hasMore"], json!(true));
    let cursor = first["nextCursor"].as_str().expect("a next cursor");
    assert_eq!(first["items"][0]["_count"]["replies"], json!(1));

    let second = list(&app, &post_id, &format!("limit=2&cursor={cursor}"), None).await;
    let second = second.data(200);
    assert_eq!(ids(&second["items"]), created[2..4]);
    assert_eq!(second["hasMore"], json!(true));
    let cursor = second["nextCursor"].as_str().expect("a next cursor");

    let last = list(&app, &post_id, &format!("limit=2&cursor={cursor}"), None).await;
    let last = last.data(200);
    assert_eq!(ids(&last["items"]), created[4..5]);
    assert_eq!(last["hasMore"], json!(false));
    assert_eq!(last["nextCursor"], Value::Null);

    // The default page holds 20; an empty cursor starts over; the slug works too.
    let all = list(&app, &post_id, "cursor=", None).await;
    assert_eq!(ids(&all.data(200)["items"]), created);
    let slug = app
        .get(&format!("/api/posts/{post_id}"), None)
        .await
        .data(200)["slug"]
        .as_str()
        .expect("slug")
        .to_owned();
    let by_slug = list(&app, &slug, "", None).await;
    assert_eq!(ids(&by_slug.data(200)["items"]), created);

    let empty_post = post_by(&app, &alice, "Quiet").await;
    assert_eq!(
        comments_page(&app, &empty_post).await,
        json!({ "items": [], "nextCursor": null, "hasMore": false })
    );
}

#[tokio::test]
async fn lists_reject_bad_cursors_and_limits() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Paging").await;
    let top = comment_on(&app, &alice, &post_id, "top").await;
    for (query, field) in [
        ("cursor=bogus!", "cursor"),
        ("cursor=bm90LWpzb24", "cursor"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
    ] {
        assert_field_error(&list(&app, &post_id, query, None).await, field);
        assert_field_error(&replies(&app, &id(&top), query).await, field);
    }
}

#[tokio::test]
async fn lists_of_drafts_deleted_and_unknown_things_are_not_found() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let draft = id(&app
        .create_post(
            &alice.token,
            json!({ "title": "Draft", "content": "Not yet" }),
        )
        .await);
    let note = comment_on(&app, &alice, &draft, "note to self").await;

    list(&app, &draft, "", None)
        .await
        .assert_error(404, "NOT_FOUND");
    list(&app, &draft, "", Some(&bob.token))
        .await
        .assert_error(404, "NOT_FOUND");
    let own = list(&app, &draft, "", Some(&alice.token)).await;
    assert_eq!(ids(&own.data(200)["items"]), [id(&note)]);
    read_comment(&app, &id(&note))
        .await
        .assert_error(404, "NOT_FOUND");
    replies(&app, &id(&note), "")
        .await
        .assert_error(404, "NOT_FOUND");

    list(&app, "no-such-post", "", None)
        .await
        .assert_error(404, "NOT_FOUND");
    replies(&app, "no-such-comment", "")
        .await
        .assert_error(404, "NOT_FOUND");
    read_comment(&app, "no-such-comment")
        .await
        .assert_error(404, "NOT_FOUND");

    let post_id = post_by(&app, &alice, "Soon gone").await;
    let gone = comment_on(&app, &bob, &post_id, "on a deleted post").await;
    app.call(
        Method::DELETE,
        &format!("/api/posts/{post_id}"),
        Some(&alice.token),
        None,
    )
    .await;
    list(&app, &post_id, "", None)
        .await
        .assert_error(404, "NOT_FOUND");
    read_comment(&app, &id(&gone))
        .await
        .assert_error(404, "NOT_FOUND");
    delete(&app, &id(&gone), Some(&bob.token))
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn replies_list_only_direct_replies_with_cursors() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Thread").await;
    let top = id(&comment_on(&app, &alice, &post_id, "top").await);
    let mut direct = Vec::new();
    for n in 1..=3 {
        direct.push(id(&reply_to(
            &app,
            &alice,
            &post_id,
            &top,
            &format!("reply {n}"),
        )
        .await));
    }
    reply_to(&app, &alice, &post_id, &direct[0], "nested deeper").await;

    let page = replies(&app, &top, "limit=2").await;
    let page = page.data(200);
    assert_eq!(ids(&page["items"]), direct[0..2]);
    assert_eq!(page["items"][0]["_count"]["replies"], json!(1));
    assert_eq!(page["items"][0]["parentId"], json!(top));
    let cursor = page["nextCursor"].as_str().expect("cursor");
    let rest = replies(&app, &top, &format!("cursor={cursor}")).await;
    let rest = rest.data(200);
    assert_eq!(ids(&rest["items"]), direct[2..3]);
    assert_eq!(rest["hasMore"], json!(false));
}

// ---------------------------------------------------------------------------
// REST: editing
// ---------------------------------------------------------------------------

#[tokio::test]
async fn the_author_edits_a_comment() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Edits").await;
    let original = comment_on(&app, &alice, &post_id, "first take").await;

    let response = edit(
        &app,
        &id(&original),
        Some(&alice.token),
        json!({ "content": " second take " }),
    )
    .await;
    let edited = response.data(200);
    assert_eq!(edited["content"], json!("second take"));
    assert_eq!(edited["edited"], json!(true));
    let edited_at = edited["editedAt"].as_str().expect("editedAt");
    assert!(
        DateTime::parse_from_rfc3339(edited_at).expect("editedAt")
            >= DateTime::parse_from_rfc3339(original["createdAt"].as_str().expect("createdAt"))
                .expect("createdAt")
    );
    assert_eq!(edited["createdAt"], original["createdAt"]);
    assert_eq!(comments_page(&app, &post_id).await["items"][0], *edited);
}

#[tokio::test]
async fn edits_by_others_or_with_bad_input_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let moderator = moderator(&app).await;
    let post_id = post_by(&app, &alice, "Guarded").await;
    let original = comment_on(&app, &alice, &post_id, "mine").await;
    let comment_id = id(&original);
    let body = json!({ "content": "changed" });

    edit(&app, &comment_id, Some(&bob.token), body.clone())
        .await
        .assert_error(403, "FORBIDDEN");
    edit(&app, &comment_id, Some(&moderator.token), body.clone())
        .await
        .assert_error(403, "FORBIDDEN");
    edit(&app, &comment_id, None, body.clone())
        .await
        .assert_error(401, "UNAUTHORIZED");
    edit(&app, "no-such-comment", Some(&alice.token), body.clone())
        .await
        .assert_error(404, "NOT_FOUND");
    for (bad, field) in [
        (json!({}), "content"),
        (json!({ "content": "" }), "content"),
        (json!({ "content": chars(5001) }), "content"),
        (json!({ "content": ["x"] }), "content"),
    ] {
        assert_field_error(
            &edit(&app, &comment_id, Some(&alice.token), bad).await,
            field,
        );
    }
    assert_eq!(read_comment(&app, &comment_id).await.data(200), &original);
}

// ---------------------------------------------------------------------------
// REST: deleting
// ---------------------------------------------------------------------------

#[tokio::test]
async fn deleting_a_comment_without_replies_removes_it() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Tidy").await;
    let keep = id(&comment_on(&app, &bob, &post_id, "keep").await);
    let parent = id(&comment_on(&app, &bob, &post_id, "parent").await);
    let reply = id(&reply_to(&app, &alice, &post_id, &parent, "reply").await);
    let lone = id(&comment_on(&app, &bob, &post_id, "lone").await);
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["comments"],
        json!(4)
    );

    let response = delete(&app, &lone, Some(&bob.token)).await;
    assert_eq!(response.status.as_u16(), 204, "{}", response.body);
    assert_eq!(response.body, Value::Null);
    read_comment(&app, &lone)
        .await
        .assert_error(404, "NOT_FOUND");

    delete(&app, &reply, Some(&alice.token)).await;
    assert_eq!(
        read_comment(&app, &parent).await.data(200)["_count"]["replies"],
        json!(0)
    );
    assert_eq!(
        ids(&comments_page(&app, &post_id).await["items"]),
        [keep, parent]
    );
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["comments"],
        json!(2)
    );
    assert_eq!(stored_comments(&app).await, 2);
}

#[tokio::test]
async fn deleting_a_comment_with_replies_leaves_a_placeholder_in_its_place() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Placeholders").await;
    let before = id(&comment_on(&app, &alice, &post_id, "before").await);
    let parent = comment_on(&app, &bob, &post_id, "parent with replies").await;
    let parent_id = id(&parent);
    let after = id(&comment_on(&app, &alice, &post_id, "after").await);
    let reply = id(&reply_to(&app, &alice, &post_id, &parent_id, "a reply").await);

    let response = delete(&app, &parent_id, Some(&bob.token)).await;
    assert_eq!(response.status.as_u16(), 204, "{}", response.body);

    let page = comments_page(&app, &post_id).await;
    assert_eq!(
        ids(&page["items"]),
        [before, parent_id.clone(), after],
        "the placeholder keeps its place"
    );
    let placeholder = &page["items"][1];
    assert_eq!(placeholder["content"], json!("[deleted]"));
    assert_eq!(placeholder["deleted"], json!(true));
    assert_eq!(placeholder["author"], parent["author"]);
    assert_eq!(placeholder["_count"]["replies"], json!(1));
    assert_eq!(
        ids(&replies(&app, &parent_id, "").await.data(200)["items"]),
        vec![reply.clone()]
    );
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["comments"],
        json!(4),
        "the placeholder still counts"
    );

    // A placeholder can be neither edited, deleted again, nor replied to.
    edit(
        &app,
        &parent_id,
        Some(&bob.token),
        json!({ "content": "back" }),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    delete(&app, &parent_id, Some(&bob.token))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_field_error(
        &add_comment(
            &app,
            Some(&alice.token),
            &post_id,
            json!({ "content": "late", "parentId": parent_id }),
        )
        .await,
        "parentId",
    );

    // Its last reply gone, the placeholder goes too.
    delete(&app, &reply, Some(&alice.token)).await;
    read_comment(&app, &parent_id)
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["comments"],
        json!(2)
    );
    assert_eq!(stored_comments(&app).await, 2);
}

#[tokio::test]
async fn removing_a_reply_removes_every_placeholder_it_kept() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Chain").await;
    let top = id(&comment_on(&app, &alice, &post_id, "top").await);
    let middle = id(&reply_to(&app, &alice, &post_id, &top, "middle").await);
    let sibling = id(&reply_to(&app, &alice, &post_id, &top, "sibling").await);
    let leaf = id(&reply_to(&app, &alice, &post_id, &middle, "leaf").await);
    delete(&app, &top, Some(&alice.token)).await;
    delete(&app, &middle, Some(&alice.token)).await;
    assert_eq!(stored_comments(&app).await, 4);

    delete(&app, &leaf, Some(&alice.token)).await;
    read_comment(&app, &middle)
        .await
        .assert_error(404, "NOT_FOUND");
    let top_comment = read_comment(&app, &top).await;
    assert_eq!(top_comment.data(200)["content"], json!("[deleted]"));
    assert_eq!(top_comment.data(200)["_count"]["replies"], json!(1));
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["comments"],
        json!(2)
    );

    delete(&app, &sibling, Some(&alice.token)).await;
    assert_eq!(stored_comments(&app).await, 0);
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["comments"],
        json!(0)
    );
}

#[tokio::test]
async fn only_the_author_or_a_moderator_deletes_a_comment() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let moderator = moderator(&app).await;
    let post_id = post_by(&app, &alice, "Moderated").await;
    let bobs = id(&comment_on(&app, &bob, &post_id, "bob's").await);

    delete(&app, &bobs, Some(&alice.token))
        .await
        .assert_error(403, "FORBIDDEN");
    delete(&app, &bobs, None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    delete(&app, "no-such-comment", Some(&bob.token))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(stored_comments(&app).await, 1);

    let response = delete(&app, &bobs, Some(&moderator.token)).await;
    assert_eq!(response.status.as_u16(), 204, "{}", response.body);
    assert_eq!(stored_comments(&app).await, 0);
}

// ---------------------------------------------------------------------------
// Notifications and events
// ---------------------------------------------------------------------------

#[tokio::test]
async fn comments_and_replies_notify_the_post_and_parent_authors() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let post_id = post_by(&app, &alice, "Alice's song").await;

    let bobs = comment_on(&app, &bob, &post_id, "Great!").await;
    let alice_notes = notifications_of(&app, &alice.user_id).await;
    assert_eq!(alice_notes.len(), 1);
    assert_eq!(alice_notes[0].notification_type, "POST_COMMENTED");
    assert_eq!(
        alice_notes[0].actor_id.as_deref(),
        Some(bob.user_id.as_str())
    );
    assert_eq!(
        data_of(&alice_notes[0]),
        json!({ "postId": post_id, "commentId": id(&bobs) })
    );
    assert!(alice_notes[0].message.contains("bob"));

    let carols = reply_to(&app, &carol, &post_id, &id(&bobs), "Agreed").await;
    assert_eq!(
        notification_types(&app, &alice.user_id).await,
        ["POST_COMMENTED", "POST_COMMENTED"]
    );
    let bob_notes = notifications_of(&app, &bob.user_id).await;
    assert_eq!(bob_notes.len(), 1, "the parent's author hears of the reply");
    assert_eq!(bob_notes[0].notification_type, "POST_COMMENTED");
    assert_eq!(
        data_of(&bob_notes[0]),
        json!({ "postId": post_id, "commentId": id(&carols) })
    );

    // Nobody hears of their own comments; the post author replying to a comment on
    // their own post notifies only the comment's author.
    comment_on(&app, &alice, &post_id, "Thanks all").await;
    reply_to(&app, &carol, &post_id, &id(&carols), "(me again)").await;
    reply_to(&app, &alice, &post_id, &id(&bobs), "Thank you bob").await;
    assert_eq!(notifications_of(&app, &carol.user_id).await.len(), 0);
    assert_eq!(notification_types(&app, &alice.user_id).await.len(), 3);
    assert_eq!(notifications_of(&app, &bob.user_id).await.len(), 2);
}

#[tokio::test]
async fn mentions_notify_existing_users_once() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let post_id = post_by(&app, &alice, "Mentions").await;

    let comment = comment_on(
        &app,
        &bob,
        &post_id,
        "@Carol look! cc @bob @nobody_here mail@dave.com @carol",
    )
    .await;
    let carol_notes = notifications_of(&app, &carol.user_id).await;
    assert_eq!(carol_notes.len(), 1);
    assert_eq!(carol_notes[0].notification_type, "MENTION");
    assert_eq!(
        carol_notes[0].dedupe_key.as_deref(),
        Some(format!("MENTION:comment:{}:{}", id(&comment), carol.user_id).as_str())
    );
    assert_eq!(
        data_of(&carol_notes[0]),
        json!({ "postId": post_id, "commentId": id(&comment) })
    );
    assert!(
        notifications_of(&app, &bob.user_id).await.is_empty(),
        "no self-mention"
    );
    assert!(
        notifications_of(&app, &dave.user_id).await.is_empty(),
        "an email is no mention"
    );

    // Editing keeps the old mention single and notifies the new one.
    edit(
        &app,
        &id(&comment),
        Some(&bob.token),
        json!({ "content": "@carol and now @dave" }),
    )
    .await
    .data(200);
    assert_eq!(notifications_of(&app, &carol.user_id).await.len(), 1);
    assert_eq!(notification_types(&app, &dave.user_id).await, ["MENTION"]);

    // A mention on a draft notifies nobody (they could not open it).
    let draft = id(&app
        .create_post(
            &alice.token,
            json!({ "title": "Draft", "content": "Not yet" }),
        )
        .await);
    comment_on(&app, &alice, &draft, "@carol soon").await;
    assert_eq!(notifications_of(&app, &carol.user_id).await.len(), 1);
}

#[tokio::test]
async fn a_new_comment_is_published_on_the_event_bus_after_commit() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Live").await;
    let mut events = app.state.events.subscribe();

    let created = comment_on(&app, &bob, &post_id, "hello").await;
    let (added, notified) = drain(&mut events);
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].id, id(&created));
    assert_eq!(added[0].post_id, post_id);
    assert_eq!(notified, vec![alice.user_id.clone()]);

    // A refused comment publishes nothing.
    add_comment(&app, Some(&bob.token), &post_id, json!({ "content": "" })).await;
    assert_eq!(drain(&mut events), (Vec::new(), Vec::new()));
}

/// The comments added and the users notified among the events received so far.
fn drain(
    events: &mut tokio::sync::broadcast::Receiver<std::sync::Arc<Event>>,
) -> (Vec<comment::Model>, Vec<String>) {
    let mut added = Vec::new();
    let mut notified = Vec::new();
    while let Ok(event) = events.try_recv() {
        match event.as_ref() {
            Event::CommentAdded { comment } => added.push(comment.clone()),
            Event::NotificationAdded { notification } => {
                notified.push(notification.user_id.clone());
            }
            _ => {}
        }
    }
    (added, notified)
}

// ---------------------------------------------------------------------------
// GraphQL
// ---------------------------------------------------------------------------

#[tokio::test]
async fn graphql_add_comment_follows_the_rest_rules() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "GraphQL").await;
    let other_post = post_by(&app, &alice, "Other").await;
    let elsewhere = comment_on(&app, &alice, &other_post, "elsewhere").await;

    let response = gql_add(
        &app,
        &post_id,
        json!({ "content": " via GraphQL ", "youtubeTimestamp": 12 }),
        Some(&bob.token),
    )
    .await;
    let created = &gql_data_of(&response)["addComment"];
    assert_eq!(created["content"], json!("via GraphQL"));
    assert_eq!(created["youtubeTimestamp"], json!(12));
    assert_eq!(created["depth"], json!(0));
    assert_eq!(created["author"]["username"], json!("bob"));
    assert_eq!(created["counts"], json!({ "reactions": 0, "replies": 0 }));
    assert_same_comment(read_comment(&app, &id(created)).await.data(200), created);

    let reply = gql_add(
        &app,
        &post_id,
        json!({ "content": "reply", "parentId": id(created) }),
        Some(&alice.token),
    )
    .await;
    let reply = &gql_data_of(&reply)["addComment"];
    assert_eq!(reply["parentId"], json!(id(created)));
    assert_eq!(reply["depth"], json!(1));
    let before = stored_comments(&app).await;

    for (input, field) in [
        (json!({ "content": "" }), "content"),
        (json!({ "content": chars(5001) }), "content"),
        (
            json!({ "content": "ok", "youtubeTimestamp": -3 }),
            "youtubeTimestamp",
        ),
        (
            json!({ "content": "ok", "parentId": id(&elsewhere) }),
            "parentId",
        ),
        (
            json!({ "content": "ok", "parentId": "no-such-comment" }),
            "parentId",
        ),
    ] {
        assert_gql_field_error(
            &gql_add(&app, &post_id, input, Some(&bob.token)).await,
            field,
        );
    }
    assert_gql_error(
        &gql_add(
            &app,
            "no-such-post",
            json!({ "content": "x" }),
            Some(&bob.token),
        )
        .await,
        "NOT_FOUND",
    );
    assert_gql_error(
        &gql_add(&app, &post_id, json!({ "content": "x" }), None).await,
        "UNAUTHORIZED",
    );
    // Shape errors are GraphQL's own type checks.
    for bad in [
        json!({}),
        json!({ "content": "x", "youtubeTimestamp": "1:05" }),
    ] {
        let response = gql_add(&app, &post_id, bad, Some(&bob.token)).await;
        assert!(
            response.body["errors"][0]["extensions"]["code"].is_string(),
            "{}",
            response.body
        );
        assert!(response.body["data"].is_null(), "{}", response.body);
    }
    assert_eq!(stored_comments(&app).await, before);
}

/// The `data` of a GraphQL response that must have succeeded.
#[track_caller]
fn gql_data_of(response: &TestResponse) -> &Value {
    assert_eq!(response.status.as_u16(), 200, "body: {}", response.body);
    assert!(
        response.body.get("errors").is_none(),
        "unexpected errors: {}",
        response.body
    );
    &response.body["data"]
}

#[tokio::test]
async fn graphql_edit_and_delete_comment_follow_the_rest_rules() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let moderator = moderator(&app).await;
    let post_id = post_by(&app, &alice, "GraphQL edits").await;
    let comment_id = id(&comment_on(&app, &bob, &post_id, "original").await);

    let response = gql_edit(&app, &comment_id, "rewritten", Some(&bob.token)).await;
    let edited = &gql_data_of(&response)["editComment"];
    assert_eq!(edited["content"], json!("rewritten"));
    assert_eq!(edited["edited"], json!(true));
    assert!(edited["editedAt"].is_string());
    assert_same_comment(read_comment(&app, &comment_id).await.data(200), edited);

    assert_gql_error(
        &gql_edit(&app, &comment_id, "hijack", Some(&alice.token)).await,
        "FORBIDDEN",
    );
    assert_gql_error(
        &gql_edit(&app, &comment_id, "anon", None).await,
        "UNAUTHORIZED",
    );
    assert_gql_error(
        &gql_edit(&app, "no-such-comment", "x", Some(&bob.token)).await,
        "NOT_FOUND",
    );
    assert_gql_field_error(
        &gql_edit(&app, &comment_id, "", Some(&bob.token)).await,
        "content",
    );
    assert_eq!(
        read_comment(&app, &comment_id).await.data(200)["content"],
        json!("rewritten")
    );

    assert_gql_error(
        &gql_delete(&app, &comment_id, Some(&alice.token)).await,
        "FORBIDDEN",
    );
    assert_gql_error(&gql_delete(&app, &comment_id, None).await, "UNAUTHORIZED");
    let response = gql_delete(&app, &comment_id, Some(&moderator.token)).await;
    assert_eq!(gql_data_of(&response)["deleteComment"], json!(true));
    assert_gql_error(
        &gql_delete(&app, &comment_id, Some(&bob.token)).await,
        "NOT_FOUND",
    );
    assert_eq!(stored_comments(&app).await, 0);
}

#[tokio::test]
async fn graphql_post_comments_and_replies_page_by_cursor() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Connections").await;
    let mut top = Vec::new();
    for n in 1..=3 {
        top.push(id(
            &comment_on(&app, &alice, &post_id, &format!("top {n}")).await
        ));
    }
    let first_reply = id(&reply_to(&app, &alice, &post_id, &top[0], "r1").await);
    reply_to(&app, &alice, &post_id, &top[0], "r2").await;

    let response = gql_post_comments(&app, &post_id, "first: 2").await;
    let connection = &gql_data_of(&response)["post"]["comments"];
    assert_eq!(
        nodes(connection)
            .iter()
            .map(|node| id(node))
            .collect::<Vec<_>>(),
        top[0..2]
    );
    assert_eq!(connection["pageInfo"]["hasNextPage"], json!(true));
    assert_eq!(connection["pageInfo"]["hasPreviousPage"], json!(false));
    let end = connection["pageInfo"]["endCursor"]
        .as_str()
        .expect("endCursor")
        .to_owned();
    assert_eq!(connection["edges"][1]["cursor"], json!(end));

    let response = gql_post_comments(&app, &post_id, &format!("first: 2, after: \"{end}\"")).await;
    let connection = &gql_data_of(&response)["post"]["comments"];
    assert_eq!(
        nodes(connection)
            .iter()
            .map(|node| id(node))
            .collect::<Vec<_>>(),
        top[2..3]
    );
    assert_eq!(connection["pageInfo"]["hasNextPage"], json!(false));
    assert_eq!(connection["pageInfo"]["hasPreviousPage"], json!(true));

    for (args, field) in [
        ("first: 0", "first"),
        ("first: -1", "first"),
        ("after: \"bogus!\"", "after"),
    ] {
        let response = gql_post_comments(&app, &post_id, args).await;
        let error = &response.body["errors"][0];
        assert_eq!(
            error["extensions"]["code"],
            json!("VALIDATION_ERROR"),
            "{}",
            response.body
        );
        assert!(
            error["extensions"]["fields"][field].is_string(),
            "{}",
            response.body
        );
        assert_eq!(
            error["path"],
            json!(["post", "comments"]),
            "{}",
            response.body
        );
    }

    let query = "query($id: String!) { comment(id: $id) { content replies(first: 1) { \
                 pageInfo { hasNextPage } edges { node { id content parentId depth } } } } }";
    let data = gql_data(&app, query, json!({ "id": top[0] }), None).await;
    let replies = &data["comment"]["replies"];
    assert_eq!(data["comment"]["content"], json!("top 1"));
    assert_eq!(replies["pageInfo"]["hasNextPage"], json!(true));
    assert_eq!(
        nodes(replies)[0],
        &json!({ "id": first_reply, "content": "r1", "parentId": top[0], "depth": 1 })
    );
    assert_gql_error(
        &app.graphql(
            "{ comment(id: \"no-such-comment\") { id } }",
            json!({}),
            None,
        )
        .await,
        "NOT_FOUND",
    );
}

#[tokio::test]
async fn rest_comment_list_and_graphql_post_comments_agree() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Parity").await;
    let first = id(&comment_on(&app, &bob, &post_id, "first").await);
    let second = id(&comment_on(&app, &alice, &post_id, "second").await);
    add_comment(
        &app,
        Some(&bob.token),
        &post_id,
        json!({ "content": "third at 0:42", "youtubeTimestamp": 42 }),
    )
    .await
    .data(201);
    reply_to(&app, &alice, &post_id, &first, "reply").await;
    reply_to(&app, &bob, &post_id, &second, "to be removed").await;
    edit(
        &app,
        &second,
        Some(&alice.token),
        json!({ "content": "second, edited" }),
    )
    .await
    .data(200);
    delete(&app, &first, Some(&bob.token)).await;

    let rest = list(&app, &post_id, "limit=2", None).await;
    let rest = rest.data(200);
    let graphql = gql_post_comments(&app, &post_id, "first: 2").await;
    let graphql = &gql_data_of(&graphql)["post"]["comments"];
    let graphql_nodes = nodes(graphql);
    let rest_items = rest["items"].as_array().expect("items");
    assert_eq!(rest_items.len(), 2);
    assert_eq!(rest_items.len(), graphql_nodes.len());
    for (rest_comment, graphql_comment) in rest_items.iter().zip(graphql_nodes) {
        assert_same_comment(rest_comment, graphql_comment);
    }
    assert_eq!(rest["hasMore"], graphql["pageInfo"]["hasNextPage"]);
    assert_eq!(
        rest["nextCursor"], graphql["pageInfo"]["endCursor"],
        "both styles hand out the same cursors"
    );
    assert_eq!(rest_items[0]["deleted"], json!(true));
    assert_eq!(rest_items[1]["edited"], json!(true));
}

#[tokio::test]
async fn comment_counts_reach_the_post_in_both_styles() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Counted").await;
    let top = id(&comment_on(&app, &alice, &post_id, "top").await);
    reply_to(&app, &alice, &post_id, &top, "reply").await;

    let rest = post_counts(&app, &post_id, &alice.token).await;
    let graphql = gql_data(
        &app,
        "query($id: String!) { post(by: {id: $id}) { counts { comments reactions } } }",
        json!({ "id": post_id }),
        None,
    )
    .await;
    assert_eq!(rest, json!({ "comments": 2, "reactions": 0 }));
    assert_eq!(graphql["post"]["counts"], rest);
    let listed = app.get("/api/posts", None).await;
    assert_eq!(listed.data(200)["items"][0]["_count"], rest);
    let stored = comment::Entity::find()
        .filter(comment::Column::Id.eq(&top))
        .one(&app.state.db)
        .await
        .expect("query")
        .expect("stored");
    assert_eq!(stored.reply_count, 1);
}

#[tokio::test]
async fn pages_of_many_threads_at_once_keep_each_thread_in_order() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let post_id = post_by(&app, &alice, "Busy").await;
    let first = id(&comment_on(&app, &alice, &post_id, "first").await);
    let second = id(&comment_on(&app, &alice, &post_id, "second").await);
    let reply = id(&reply_to(&app, &alice, &post_id, &first, "reply").await);
    // More threads than one statement reads (and than SQLite allows in one
    // `UNION ALL`), most of them empty.
    let mut threads: Vec<CommentThread> = (0..600)
        .map(|n| CommentThread::Post(format!("no-such-post-{n}")))
        .collect();
    threads.push(CommentThread::Post(post_id.clone()));
    threads.push(CommentThread::Replies(first.clone()));

    let window = CursorWindow {
        after: None,
        limit: 5,
    };
    let pages = comments::thread_pages(&app.state.db, &threads, &window)
        .await
        .expect("thread pages");
    assert_eq!(pages.len(), threads.len(), "every thread gets a page");
    let page_ids = |thread: CommentThread| -> Vec<String> {
        pages[&thread].iter().map(|row| row.id.clone()).collect()
    };
    assert_eq!(
        page_ids(CommentThread::Post(post_id)),
        [first.clone(), second]
    );
    assert_eq!(page_ids(CommentThread::Replies(first)), [reply]);
    assert!(pages[&CommentThread::Post("no-such-post-0".to_owned())].is_empty());
}
