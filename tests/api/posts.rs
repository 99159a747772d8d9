//! Posts: `/api/posts`, `/api/categories` and `/api/tags` over REST, their GraphQL twins
//! (`posts`, `post`, `createPost`, `updatePost`, `deletePost`, `categories`, `tags`), and
//! the parity of the two styles over the same data.

use axum::{
    body::Body,
    http::{Method, Request},
};
use chrono::{DateTime, FixedOffset, SecondsFormat, TimeDelta, Utc};
use entity::post;
use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use sparkle_universe::domain::posts::trending_weight;

use crate::support::{Session, TestApp, TestResponse, each};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// A request body for a post published at once.
fn published(title: &str) -> Value {
    json!({ "title": title, "content": format!("Content of {title}."), "published": true })
}

/// A request body for a draft.
fn draft(title: &str) -> Value {
    json!({ "title": title, "content": format!("Draft content of {title}.") })
}

/// `base` with `changes` merged in (a `null` change removes the key).
fn with(mut base: Value, changes: Value) -> Value {
    let object = base.as_object_mut().expect("object body");
    for (key, value) in changes.as_object().expect("object changes") {
        if value.is_null() {
            object.remove(key);
        } else {
            object.insert(key.clone(), value.clone());
        }
    }
    base
}

/// The id of a post.
fn id(post: &Value) -> String {
    post["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {post}"))
        .to_owned()
}

/// The ids of an array of posts, in order.
fn ids(posts: &Value) -> Vec<String> {
    posts
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {posts}"))
        .iter()
        .map(id)
        .collect()
}

/// The ids of `posts`, in order.
fn ids_of(posts: &[&Value]) -> Vec<String> {
    posts.iter().map(|post| id(post)).collect()
}

/// The names of an array of tags, in order.
fn tag_names(tags: &Value) -> Vec<&str> {
    tags.as_array()
        .unwrap_or_else(|| panic!("not an array: {tags}"))
        .iter()
        .map(|tag| tag["name"].as_str().expect("tag name"))
        .collect()
}

/// `GET /api/posts?{query}` as an anonymous client; returns the page.
async fn list(app: &TestApp, query: &str) -> Value {
    app.get(&format!("/api/posts?{query}"), None)
        .await
        .data(200)
        .clone()
}

/// `GET /api/posts/{id_or_slug}`.
async fn read(app: &TestApp, id_or_slug: &str, token: Option<&str>) -> TestResponse {
    app.get(&format!("/api/posts/{id_or_slug}"), token).await
}

/// `PUT /api/posts/{id}`.
async fn put(app: &TestApp, id: &str, token: Option<&str>, body: Value) -> TestResponse {
    app.call(Method::PUT, &format!("/api/posts/{id}"), token, Some(body))
        .await
}

/// `DELETE /api/posts/{id}`.
async fn delete(app: &TestApp, id: &str, token: Option<&str>) -> TestResponse {
    app.call(Method::DELETE, &format!("/api/posts/{id}"), token, None)
        .await
}

/// `POST /api/posts` with a raw body and an optional content type.
async fn create_raw(
    app: &TestApp,
    token: &str,
    content_type: Option<&str>,
    body: &str,
) -> TestResponse {
    let mut request = Request::builder()
        .method(Method::POST)
        .uri("/api/posts")
        .header("authorization", format!("Bearer {token}"));
    if let Some(content_type) = content_type {
        request = request.header("content-type", content_type);
    }
    app.send(request.body(Body::from(body.to_owned())).expect("request"))
        .await
}

/// Every post row, whatever its state (drafts and deleted posts included).
async fn stored_posts(app: &TestApp) -> u64 {
    post::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count posts")
}

/// Runs one SQL statement on the test database.
async fn sql(app: &TestApp, statement: &str) {
    app.state
        .db
        .execute_unprepared(statement)
        .await
        .unwrap_or_else(|err| panic!("{statement}: {err}"));
}

/// Sets the view, reaction and comment totals of a post.
async fn set_counts(app: &TestApp, post_id: &str, views: i64, reactions: i64, comments: i64) {
    sql(
        app,
        &format!(
            "UPDATE posts SET views = {views}, reaction_count = {reactions}, comment_count = {comments} WHERE id = '{post_id}'"
        ),
    )
    .await;
}

/// Moves the publication of a post `days` into the past, as if it had been published
/// then (the trending weight is stored at publication, so it moves too).
async fn backdate(app: &TestApp, post_id: &str, days: i64) {
    let at = Utc::now() - TimeDelta::days(days);
    sql(
        app,
        &format!(
            "UPDATE posts SET published_at = '{}', trending_weight = {:e} WHERE id = '{post_id}'",
            at.to_rfc3339_opts(SecondsFormat::Micros, false),
            trending_weight(at),
        ),
    )
    .await;
}

/// A signed-in moderator.
async fn moderator(app: &TestApp) -> Session {
    let session = app.register("moderator").await;
    app.set_role(&session.user_id, "MODERATOR").await;
    session
}

/// An RFC 3339 timestamp.
#[track_caller]
fn timestamp(value: &Value) -> DateTime<FixedOffset> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("not a timestamp: {value}"));
    DateTime::parse_from_rfc3339(text).unwrap_or_else(|err| panic!("{text}: {err}"))
}

/// An optional RFC 3339 timestamp (`null` is `None`).
#[track_caller]
fn optional_timestamp(value: &Value) -> Option<DateTime<FixedOffset>> {
    (!value.is_null()).then(|| timestamp(value))
}

/// Asserts a REST 400 VALIDATION_ERROR naming `field`.
#[track_caller]
fn assert_field_error(response: &TestResponse, field: &str) {
    response.assert_error(400, "VALIDATION_ERROR");
    assert!(
        response.body["fields"][field].is_string(),
        "expected fields.{field}, body: {}",
        response.body
    );
}

/// A string of `n` characters.
fn chars(n: usize) -> String {
    "a".repeat(n)
}

/// `n` distinct tag names.
fn tags(n: usize) -> Vec<String> {
    (1..=n).map(|i| format!("tag{i}")).collect()
}

// ---------------------------------------------------------------------------
// GraphQL helpers
// ---------------------------------------------------------------------------

/// Every field of a post the GraphQL tests select.
const POST_FIELDS: &str = "id slug title content excerpt coverImage youtubeVideoId published views \
    counts { comments reactions } createdAt updatedAt publishedAt \
    author { id username image } tags { id name slug } category { id name slug description }";

/// Runs a GraphQL operation that must succeed; returns its `data`.
async fn gql_data(app: &TestApp, query: &str, variables: Value, token: Option<&str>) -> Value {
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
fn assert_gql_error<'a>(response: &'a TestResponse, code: &str) -> &'a Value {
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
fn assert_gql_field_error(response: &TestResponse, field: &str) {
    let error = assert_gql_error(response, "VALIDATION_ERROR");
    assert!(
        error["extensions"]["fields"][field].is_string(),
        "expected fields.{field}: {}",
        response.body
    );
}

/// The `posts` connection with `args` (e.g. `first: 2, sort: POPULAR`), full nodes.
async fn gql_posts(app: &TestApp, args: &str) -> Value {
    let args = if args.is_empty() {
        String::new()
    } else {
        format!("({args})")
    };
    let query = format!(
        "{{ posts{args} {{ totalCount pageInfo {{ hasNextPage hasPreviousPage endCursor }} \
         edges {{ cursor node {{ {POST_FIELDS} }} }} }} }}"
    );
    gql_data(app, &query, json!({}), None).await["posts"].clone()
}

/// The nodes of a connection.
fn nodes(connection: &Value) -> Vec<&Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("no edges: {connection}"))
        .iter()
        .map(|edge| &edge["node"])
        .collect()
}

/// `post(by: …)` with `by` = `{"id": …}` or `{"slug": …}`.
async fn gql_post(app: &TestApp, by: Value, token: Option<&str>) -> TestResponse {
    let query = format!("query($by: PostKey!) {{ post(by: $by) {{ {POST_FIELDS} }} }}");
    app.graphql(&query, json!({ "by": by }), token).await
}

/// `createPost(input: …)`.
async fn gql_create(app: &TestApp, input: Value, token: Option<&str>) -> TestResponse {
    let query = format!(
        "mutation($input: CreatePostInput!) {{ createPost(input: $input) {{ {POST_FIELDS} }} }}"
    );
    app.graphql(&query, json!({ "input": input }), token).await
}

/// `updatePost(id: …, input: …)`.
async fn gql_update(app: &TestApp, id: &str, input: Value, token: Option<&str>) -> TestResponse {
    let query = format!(
        "mutation($id: String!, $input: UpdatePostInput!) {{ updatePost(id: $id, input: $input) {{ {POST_FIELDS} }} }}"
    );
    app.graphql(&query, json!({ "id": id, "input": input }), token)
        .await
}

/// `deletePost(id: …)`.
async fn gql_delete(app: &TestApp, id: &str, token: Option<&str>) -> TestResponse {
    app.graphql(
        "mutation($id: String!) { deletePost(id: $id) }",
        json!({ "id": id }),
        token,
    )
    .await
}

/// The data of a successful GraphQL response, checked for errors.
#[track_caller]
fn gql_ok<'a>(response: &'a TestResponse, field: &str) -> &'a Value {
    assert_eq!(response.status.as_u16(), 200, "body: {}", response.body);
    assert!(
        response.body.get("errors").is_none(),
        "unexpected errors: {}",
        response.body
    );
    &response.body["data"][field]
}

/// Asserts that a REST post and a GraphQL post carry the same list fields
/// (views excepted: every read counts one).
#[track_caller]
fn assert_same_post(rest: &Value, graphql: &Value) {
    for field in [
        "id",
        "slug",
        "title",
        "excerpt",
        "coverImage",
        "youtubeVideoId",
        "published",
    ] {
        assert_eq!(
            rest[field], graphql[field],
            "{field}: REST {rest} vs GraphQL {graphql}"
        );
    }
    for field in ["id", "username", "image"] {
        assert_eq!(
            rest["author"][field], graphql["author"][field],
            "author.{field}"
        );
    }
    assert_eq!(
        rest["_count"], graphql["counts"],
        "REST _count vs GraphQL counts"
    );
    for field in ["createdAt", "updatedAt", "publishedAt"] {
        assert_eq!(
            optional_timestamp(&rest[field]),
            optional_timestamp(&graphql[field]),
            "{field}"
        );
    }
}

// ---------------------------------------------------------------------------
// REST: GET /api/posts
// ---------------------------------------------------------------------------

#[tokio::test]
async fn list_shows_only_published_posts_in_a_page_envelope() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let first = app.create_post(&alice.token, published("First")).await;
    let second = app.create_post(&alice.token, published("Second")).await;
    let third = app.create_post(&alice.token, published("Third")).await;
    let hidden = app.create_post(&alice.token, draft("Hidden draft")).await;
    let removed = app.create_post(&alice.token, published("Removed")).await;
    assert_eq!(
        delete(&app, &id(&removed), Some(&alice.token))
            .await
            .status
            .as_u16(),
        204
    );

    let page = list(&app, "").await;
    assert_eq!(page["total"], json!(3));
    assert_eq!(page["page"], json!(1));
    assert_eq!(page["pageSize"], json!(20));
    assert_eq!(page["totalPages"], json!(1));
    let listed = ids(&page["items"]);
    assert_eq!(listed, ids_of(&[&third, &second, &first]));
    assert!(!listed.contains(&id(&hidden)) && !listed.contains(&id(&removed)));

    let item = &page["items"][0];
    assert_eq!(item["title"], json!("Third"));
    assert_eq!(item["slug"], json!("third"));
    assert_eq!(item["published"], json!(true));
    assert_eq!(item["views"], json!(0));
    assert_eq!(item["author"]["id"], json!(alice.user_id));
    assert_eq!(item["author"]["username"], json!("alice"));
    assert_eq!(item["_count"], json!({ "comments": 0, "reactions": 0 }));
}

#[tokio::test]
async fn list_pages_follow_page_and_limit() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let mut created = Vec::new();
    for n in 1..=5 {
        created.push(
            app.create_post(&alice.token, published(&format!("Post {n}")))
                .await,
        );
    }
    let newest_first: Vec<String> = created.iter().rev().map(id).collect();

    let mut seen = Vec::new();
    for (page_number, expected_len) in [(1, 2), (2, 2), (3, 1)] {
        let page = list(&app, &format!("limit=2&page={page_number}")).await;
        assert_eq!(page["total"], json!(5));
        assert_eq!(page["page"], json!(page_number));
        assert_eq!(page["pageSize"], json!(2));
        assert_eq!(page["totalPages"], json!(3));
        assert_eq!(
            page["items"].as_array().map(Vec::len),
            Some(expected_len),
            "page {page_number}"
        );
        seen.extend(ids(&page["items"]));
    }
    assert_eq!(
        seen, newest_first,
        "pages must tile the list without gaps or repeats"
    );

    let beyond = list(&app, "limit=2&page=4").await;
    assert_eq!(beyond["items"], json!([]));
    assert_eq!(beyond["total"], json!(5));
    assert_eq!(beyond["page"], json!(4));

    let whole = list(&app, "limit=100").await;
    assert_eq!(ids(&whole["items"]), newest_first);
    assert_eq!(whole["pageSize"], json!(100));
    assert_eq!(whole["totalPages"], json!(1));
}

#[tokio::test]
async fn list_rejects_bad_paging_and_sort_parameters() {
    let app = TestApp::new().await;
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("page=0", "page"),
        ("page=abc", "page"),
        ("sort=bogus", "sort"),
    ] {
        let response = app.get(&format!("/api/posts?{query}"), None).await;
        assert_eq!(response.status.as_u16(), 400, "{query}: {}", response.body);
        assert_field_error(&response, field);
    }
}

#[tokio::test]
async fn list_recent_puts_the_newest_publication_first() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let early_draft = app.create_post(&alice.token, draft("Early draft")).await;
    let older = app.create_post(&alice.token, published("Older")).await;
    let newer = app.create_post(&alice.token, published("Newer")).await;
    // Created first, published last: publication time, not creation time, orders the list.
    put(
        &app,
        &id(&early_draft),
        Some(&alice.token),
        json!({ "published": true }),
    )
    .await
    .data(200);

    for query in ["", "sort=recent"] {
        let page = list(&app, query).await;
        assert_eq!(
            ids(&page["items"]),
            ids_of(&[&early_draft, &newer, &older]),
            "{query:?}"
        );
        let times: Vec<_> = page["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|p| timestamp(&p["publishedAt"]))
            .collect();
        assert!(
            times.windows(2).all(|pair| pair[0] >= pair[1]),
            "publishedAt not descending: {times:?}"
        );
    }
}

#[tokio::test]
async fn list_popular_puts_the_most_read_post_first() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let a = app.create_post(&alice.token, published("A")).await;
    let b = app.create_post(&alice.token, published("B")).await;
    let c = app.create_post(&alice.token, published("C")).await;
    for _ in 0..3 {
        read(&app, &id(&b), None).await.data(200);
    }
    read(&app, &id(&a), None).await.data(200);

    let popular = list(&app, "sort=popular").await;
    assert_eq!(ids(&popular["items"]), ids_of(&[&b, &a, &c]));
    let views: Vec<&Value> = popular["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|p| &p["views"])
        .collect();
    assert_eq!(views, [&json!(3), &json!(1), &json!(0)]);
    assert_eq!(
        ids(&list(&app, "sort=recent").await["items"]),
        ids_of(&[&c, &b, &a])
    );
}

#[tokio::test]
async fn list_popular_weighs_views_reactions_and_comments() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    // popular = views·0.1 + reactions·2 + comments·3
    let one_comment = app
        .create_post(&alice.token, published("One comment"))
        .await;
    let one_reaction = app
        .create_post(&alice.token, published("One reaction"))
        .await;
    let many_views = app
        .create_post(&alice.token, published("Nineteen views"))
        .await;
    set_counts(&app, &id(&one_comment), 0, 0, 1).await; // 3
    set_counts(&app, &id(&one_reaction), 0, 1, 0).await; // 2
    set_counts(&app, &id(&many_views), 19, 0, 0).await; // 1.9

    let popular = list(&app, "sort=popular").await;
    assert_eq!(
        ids(&popular["items"]),
        ids_of(&[&one_comment, &one_reaction, &many_views])
    );
    assert_eq!(
        popular["items"][0]["_count"],
        json!({ "comments": 1, "reactions": 0 })
    );
    assert_eq!(
        popular["items"][1]["_count"],
        json!({ "comments": 0, "reactions": 1 })
    );
    assert_eq!(popular["items"][2]["views"], json!(19));
    assert_eq!(
        ids(&list(&app, "").await["items"]),
        ids_of(&[&many_views, &one_reaction, &one_comment])
    );
}

#[tokio::test]
async fn list_trending_covers_only_the_last_seven_days_with_decay() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let old = app
        .create_post(&alice.token, published("Ten days old"))
        .await;
    let six_days = app
        .create_post(&alice.token, published("Six days old"))
        .await;
    let aging = app
        .create_post(&alice.token, published("Three days old"))
        .await;
    let hot = app
        .create_post(&alice.token, published("Fresh and hot"))
        .await;
    let fresh = app.create_post(&alice.token, published("Fresh")).await;
    set_counts(&app, &id(&old), 0, 50, 0).await; // 100, but outside the window
    set_counts(&app, &id(&aging), 0, 10, 0).await; // 20 · e^(−0.3) ≈ 14.8
    set_counts(&app, &id(&hot), 0, 8, 0).await; // 16
    set_counts(&app, &id(&fresh), 0, 5, 0).await; // 10
    backdate(&app, &id(&old), 10).await;
    backdate(&app, &id(&six_days), 6).await;
    backdate(&app, &id(&aging), 3).await;

    let trending = list(&app, "sort=trending").await;
    assert_eq!(
        ids(&trending["items"]),
        ids_of(&[&hot, &aging, &fresh, &six_days])
    );
    assert_eq!(trending["total"], json!(4));

    let popular = list(&app, "sort=popular").await;
    assert_eq!(
        ids(&popular["items"]),
        ids_of(&[&old, &aging, &hot, &fresh, &six_days])
    );
    let recent = list(&app, "sort=recent").await;
    assert_eq!(
        ids(&recent["items"]),
        ids_of(&[&fresh, &hot, &aging, &six_days, &old])
    );
    assert_eq!(recent["total"], json!(5));
}

#[tokio::test]
async fn list_filters_by_category_slug_or_id() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let music = app.create_category("Music", "music").await;
    let art = app.create_category("Art", "art").await;
    let song = app
        .create_post(
            &alice.token,
            with(published("Song"), json!({ "categoryId": music })),
        )
        .await;
    let painting = app
        .create_post(
            &alice.token,
            with(published("Painting"), json!({ "categoryId": art })),
        )
        .await;
    app.create_post(&alice.token, published("Uncategorised"))
        .await;
    app.create_post(
        &alice.token,
        with(draft("Unpublished song"), json!({ "categoryId": music })),
    )
    .await;

    for query in ["category=music".to_owned(), format!("category={music}")] {
        let page = list(&app, &query).await;
        assert_eq!(ids(&page["items"]), ids_of(&[&song]), "{query}");
        assert_eq!(page["total"], json!(1));
    }
    assert_eq!(
        ids(&list(&app, "category=art").await["items"]),
        ids_of(&[&painting])
    );

    let unknown = list(&app, "category=no-such-category").await;
    assert_eq!(unknown["items"], json!([]));
    assert_eq!(unknown["total"], json!(0));
    assert_eq!(unknown["totalPages"], json!(0));
}

#[tokio::test]
async fn list_filters_by_tag_name_in_any_case() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let music = app.create_category("Music", "music").await;
    let rusty = app
        .create_post(
            &alice.token,
            with(
                published("Rusty"),
                json!({ "tags": ["Rust Lang", "Axum"], "categoryId": music }),
            ),
        )
        .await;
    let web = app
        .create_post(
            &alice.token,
            with(published("Web"), json!({ "tags": ["axum"] })),
        )
        .await;
    app.create_post(&alice.token, published("Untagged")).await;

    for query in [
        "tag=Rust%20Lang",
        "tag=rust%20lang",
        "tag=RUST%20LANG",
        "tag=rust-lang",
    ] {
        let page = list(&app, query).await;
        assert_eq!(ids(&page["items"]), ids_of(&[&rusty]), "{query}");
        assert_eq!(page["total"], json!(1), "{query}");
    }
    assert_eq!(
        ids(&list(&app, "tag=AXUM").await["items"]),
        ids_of(&[&web, &rusty])
    );
    assert_eq!(
        ids(&list(&app, "tag=axum&category=music").await["items"]),
        ids_of(&[&rusty])
    );

    let unknown = list(&app, "tag=nonexistent").await;
    assert_eq!(unknown["items"], json!([]));
    assert_eq!(unknown["total"], json!(0));
}

// ---------------------------------------------------------------------------
// REST: POST /api/posts
// ---------------------------------------------------------------------------

#[tokio::test]
async fn create_returns_201_with_the_full_post() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let music = app.create_category("Music", "music").await;
    let body = json!({
        "title": "  My First Post  ",
        "content": "<p>Hello there</p>",
        "excerpt": "A short intro",
        "coverImage": "https://img.example.com/cover.png",
        "tags": ["Rust", "Axum"],
        "published": true,
        "categoryId": music,
        "youtubeVideoId": "dQw4w9WgXcQ",
    });
    let response = app.post("/api/posts", Some(&alice.token), body).await;
    let post = response.data(201);
    assert_eq!(post["title"], json!("My First Post"));
    assert_eq!(post["slug"], json!("my-first-post"));
    assert_eq!(post["content"], json!("<p>Hello there</p>"));
    assert_eq!(post["excerpt"], json!("A short intro"));
    assert_eq!(
        post["coverImage"],
        json!("https://img.example.com/cover.png")
    );
    assert_eq!(post["youtubeVideoId"], json!("dQw4w9WgXcQ"));
    assert_eq!(post["published"], json!(true));
    assert_eq!(post["views"], json!(0));
    assert_eq!(post["_count"], json!({ "comments": 0, "reactions": 0 }));
    assert_eq!(post["author"]["id"], json!(alice.user_id));
    assert_eq!(post["author"]["username"], json!("alice"));
    assert_eq!(tag_names(&post["tags"]), ["Axum", "Rust"]);
    assert_eq!(
        post["category"],
        json!({ "id": music, "name": "Music", "slug": "music", "description": null })
    );
    assert_eq!(
        timestamp(&post["publishedAt"]),
        timestamp(&post["createdAt"])
    );

    let stored = read(&app, &id(post), None).await;
    assert_eq!(stored.data(200)["title"], json!("My First Post"));

    let saved_draft = app.create_post(&alice.token, draft("Just a draft")).await;
    assert_eq!(saved_draft["published"], json!(false));
    assert_eq!(saved_draft["publishedAt"], Value::Null);
    assert_eq!(saved_draft["tags"], json!([]));
    assert_eq!(saved_draft["category"], Value::Null);
}

#[tokio::test]
async fn create_derives_a_unique_slug_from_the_title() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let title = "Héllo Wörld! Ça va?";
    let slugs = [
        app.create_post(&alice.token, published(title)).await,
        app.create_post(&alice.token, draft(title)).await,
        app.create_post(&alice.token, published(title)).await,
    ]
    .map(|post| post["slug"].as_str().expect("slug").to_owned());
    assert_eq!(
        slugs,
        [
            "hello-world-ca-va",
            "hello-world-ca-va-2",
            "hello-world-ca-va-3"
        ]
    );

    // A deleted post keeps its slug: the next one must not collide with it.
    let deleted = app.create_post(&alice.token, published("Gone soon")).await;
    delete(&app, &id(&deleted), Some(&alice.token)).await;
    let again = app.create_post(&alice.token, published("Gone soon")).await;
    assert_eq!(again["slug"], json!("gone-soon-2"));

    let long = app
        .create_post(&alice.token, published(&"word ".repeat(50)))
        .await;
    let slug = long["slug"].as_str().expect("slug");
    assert!(slug.len() <= 100 && slug.ends_with("word"), "slug {slug:?}");

    let read_by_slug = read(&app, "hello-world-ca-va-3", None).await;
    assert_eq!(read_by_slug.data(200)["slug"], json!("hello-world-ca-va-3"));
}

#[tokio::test]
async fn create_derives_the_excerpt_only_when_none_is_given() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let derived = app
        .create_post(
            &alice.token,
            json!({ "title": "Derived", "content": "<p>Hello   <b>world</b></p>" }),
        )
        .await;
    assert_eq!(derived["excerpt"], json!("Hello world"));

    let blank = app
        .create_post(
            &alice.token,
            json!({ "title": "Blank", "content": "Some text", "excerpt": "   " }),
        )
        .await;
    assert_eq!(blank["excerpt"], json!("Some text"));

    let given = app
        .create_post(
            &alice.token,
            json!({ "title": "Given", "content": "Long body", "excerpt": "Hand-written" }),
        )
        .await;
    assert_eq!(given["excerpt"], json!("Hand-written"));

    let long = app
        .create_post(
            &alice.token,
            json!({ "title": "Long", "content": "sparkle ".repeat(100) }),
        )
        .await;
    let excerpt = long["excerpt"].as_str().expect("excerpt");
    assert!(
        excerpt.ends_with('…') && excerpt.chars().count() <= 201,
        "excerpt {excerpt:?}"
    );
}

#[tokio::test]
async fn create_makes_tags_on_first_use_and_reuses_them() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let first = app
        .create_post(
            &alice.token,
            with(published("First"), json!({ "tags": ["Rust", "Axum"] })),
        )
        .await;
    let second = app
        .create_post(
            &alice.token,
            with(
                published("Second"),
                json!({ "tags": ["rust", " GraphQL ", "RUST"] }),
            ),
        )
        .await;
    assert_eq!(tag_names(&second["tags"]), ["GraphQL", "Rust"]);

    let tag_id = |post: &Value, slug: &str| {
        post["tags"]
            .as_array()
            .expect("tags")
            .iter()
            .find(|tag| tag["slug"] == json!(slug))
            .map(id)
            .unwrap_or_else(|| panic!("no tag {slug} in {post}"))
    };
    assert_eq!(
        tag_id(&first, "rust"),
        tag_id(&second, "rust"),
        "the Rust tag is reused"
    );

    let all = app.get("/api/tags", None).await;
    let all = all.data(200);
    assert_eq!(tag_names(all), ["Axum", "GraphQL", "Rust"]);
    let slugs: Vec<&Value> = all
        .as_array()
        .expect("tags")
        .iter()
        .map(|tag| &tag["slug"])
        .collect();
    assert_eq!(slugs, [&json!("axum"), &json!("graphql"), &json!("rust")]);
}

#[tokio::test]
async fn create_accepts_fields_at_their_limits() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let body = json!({
        "title": chars(255),
        "content": chars(100_000),
        "excerpt": chars(500),
        "tags": tags(10),
    });
    let response = app.post("/api/posts", Some(&alice.token), body).await;
    let post = response.data(201);
    assert_eq!(post["title"].as_str().map(str::len), Some(255));
    assert_eq!(post["content"].as_str().map(str::len), Some(100_000));
    assert_eq!(post["tags"].as_array().map(Vec::len), Some(10));
}

#[tokio::test]
async fn create_rejects_an_unknown_category() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let response = app
        .post(
            "/api/posts",
            Some(&alice.token),
            with(published("Lost"), json!({ "categoryId": "no-such-id" })),
        )
        .await;
    assert_field_error(&response, "categoryId");
    assert_eq!(stored_posts(&app).await, 0);
}

#[tokio::test]
async fn create_rejects_invalid_fields_and_creates_nothing() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let valid = published("Valid");
    let cases = [
        (
            "missing title",
            with(valid.clone(), json!({ "title": null })),
            "title",
        ),
        (
            "empty title",
            with(valid.clone(), json!({ "title": "" })),
            "title",
        ),
        (
            "blank title",
            with(valid.clone(), json!({ "title": "   " })),
            "title",
        ),
        (
            "256-character title",
            with(valid.clone(), json!({ "title": chars(256) })),
            "title",
        ),
        (
            "missing content",
            with(valid.clone(), json!({ "content": null })),
            "content",
        ),
        (
            "content over 100000",
            with(valid.clone(), json!({ "content": chars(100_001) })),
            "content",
        ),
        (
            "501-character excerpt",
            with(valid.clone(), json!({ "excerpt": chars(501) })),
            "excerpt",
        ),
        (
            "cover image not a URL",
            with(valid.clone(), json!({ "coverImage": "not a url" })),
            "coverImage",
        ),
        (
            "11 tags",
            with(valid.clone(), json!({ "tags": tags(11) })),
            "tags",
        ),
        (
            "numeric title",
            with(valid.clone(), json!({ "title": 5 })),
            "title",
        ),
        (
            "tags as a string",
            with(valid.clone(), json!({ "tags": "x" })),
            "tags",
        ),
        (
            "bad YouTube id",
            with(valid.clone(), json!({ "youtubeVideoId": "short" })),
            "youtubeVideoId",
        ),
    ];
    for (case, body, field) in cases {
        let response = app.post("/api/posts", Some(&alice.token), body).await;
        assert_eq!(response.status.as_u16(), 400, "{case}: {}", response.body);
        assert_field_error(&response, field);
    }

    let several = app
        .post(
            "/api/posts",
            Some(&alice.token),
            json!({ "title": "", "content": "", "coverImage": "ftp://x" }),
        )
        .await;
    for field in ["title", "content", "coverImage"] {
        assert_field_error(&several, field);
    }

    assert_eq!(stored_posts(&app).await, 0);
    assert_eq!(list(&app, "").await["total"], json!(0));
}

#[tokio::test]
async fn create_rejects_malformed_json_and_other_media_types() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let valid = published("Valid").to_string();

    create_raw(&app, &alice.token, Some("application/json"), r#"{"title":"#)
        .await
        .assert_error(400, "BAD_REQUEST");
    create_raw(&app, &alice.token, Some("application/json"), "")
        .await
        .assert_error(400, "BAD_REQUEST");
    create_raw(&app, &alice.token, None, &valid)
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    create_raw(&app, &alice.token, Some("text/plain"), &valid)
        .await
        .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");
    create_raw(
        &app,
        &alice.token,
        Some("application/x-www-form-urlencoded"),
        "title=x&content=y",
    )
    .await
    .assert_error(415, "UNSUPPORTED_MEDIA_TYPE");

    assert_eq!(stored_posts(&app).await, 0);
}

#[tokio::test]
async fn create_requires_a_valid_token() {
    let app = TestApp::new().await;
    app.post("/api/posts", None, published("Anonymous"))
        .await
        .assert_error(401, "UNAUTHORIZED");
    app.post("/api/posts", Some("not-a-jwt"), published("Garbage"))
        .await
        .assert_error(401, "UNAUTHORIZED");
    assert_eq!(stored_posts(&app).await, 0);
}

// ---------------------------------------------------------------------------
// REST: GET /api/posts/{id}
// ---------------------------------------------------------------------------

#[tokio::test]
async fn get_by_id_and_by_slug_returns_the_same_post_and_counts_each_view() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let created = app
        .create_post(
            &alice.token,
            with(published("Read me"), json!({ "tags": ["News"] })),
        )
        .await;

    let by_id = read(&app, &id(&created), None).await.data(200).clone();
    let by_slug = read(&app, "read-me", None).await.data(200).clone();
    assert_eq!(by_id["id"], created["id"]);
    assert_eq!(by_slug["id"], created["id"]);
    for field in [
        "slug",
        "title",
        "content",
        "excerpt",
        "tags",
        "category",
        "author",
        "createdAt",
        "publishedAt",
    ] {
        assert_eq!(by_id[field], by_slug[field], "{field}");
    }
    assert_eq!(by_id["views"], json!(1));
    assert_eq!(by_slug["views"], json!(2));

    let third = read(&app, &id(&created), Some(&alice.token)).await;
    assert_eq!(
        third.data(200)["views"],
        json!(3),
        "the author's reads count too"
    );
    assert_eq!(
        list(&app, "").await["items"][0]["views"],
        json!(3),
        "listing does not count a view"
    );
}

#[tokio::test]
async fn get_unknown_post_is_not_found() {
    let app = TestApp::new().await;
    read(&app, "0195f0aa-0000-7000-8000-000000000000", None)
        .await
        .assert_error(404, "NOT_FOUND");
    read(&app, "no-such-slug", None)
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn drafts_are_visible_only_to_their_author_and_moderators() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let moderator = moderator(&app).await;
    let secret = app.create_post(&alice.token, draft("Secret plans")).await;
    let secret_id = id(&secret);

    read(&app, &secret_id, None)
        .await
        .assert_error(404, "NOT_FOUND");
    read(&app, "secret-plans", None)
        .await
        .assert_error(404, "NOT_FOUND");
    read(&app, &secret_id, Some(&bob.token))
        .await
        .assert_error(404, "NOT_FOUND");

    let as_author = read(&app, &secret_id, Some(&alice.token)).await;
    assert_eq!(as_author.data(200)["title"], json!("Secret plans"));
    assert_eq!(as_author.data(200)["published"], json!(false));
    let as_moderator = read(&app, "secret-plans", Some(&moderator.token)).await;
    assert_eq!(as_moderator.data(200)["id"], json!(secret_id));
}

#[tokio::test]
async fn deleted_post_is_not_found_for_anyone() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let moderator = moderator(&app).await;
    let gone = app.create_post(&alice.token, published("Gone")).await;
    delete(&app, &id(&gone), Some(&alice.token)).await;

    for token in [
        None,
        Some(alice.token.as_str()),
        Some(moderator.token.as_str()),
    ] {
        read(&app, &id(&gone), token)
            .await
            .assert_error(404, "NOT_FOUND");
        read(&app, "gone", token)
            .await
            .assert_error(404, "NOT_FOUND");
    }
}

/// Alice's post, and Mallory's post titled (so slugged) with its id, created after it;
/// then Alice edits her post, as any author may.
async fn post_and_impostor(app: &TestApp, impostor_published: bool) -> (String, String) {
    let alice = app.register("alice").await;
    let mallory = app.register("mallory").await;
    let original = id(&app.create_post(&alice.token, published("Original")).await);
    let body =
        json!({ "title": original, "content": "Look-alike", "published": impostor_published });
    let impostor = app.create_post(&mallory.token, body).await;
    assert_eq!(impostor["slug"], json!(original));
    put(
        app,
        &original,
        Some(&alice.token),
        json!({ "content": "Edited" }),
    )
    .await
    .data(200);
    (original, id(&impostor))
}

#[tokio::test]
async fn reading_by_id_finds_that_post_even_when_another_slug_equals_it() {
    let app = TestApp::new().await;
    let (original, _) = post_and_impostor(&app, true).await;
    for attempt in 1..=3 {
        let response = read(&app, &original, None).await;
        assert_eq!(
            response.data(200)["id"],
            json!(original),
            "REST read {attempt}"
        );
        let response = gql_post(&app, json!({ "id": original }), None).await;
        assert_eq!(
            gql_ok(&response, "post")["id"],
            json!(original),
            "GraphQL read {attempt}"
        );
    }
}

#[tokio::test]
async fn a_draft_whose_slug_equals_an_id_does_not_hide_that_post() {
    let app = TestApp::new().await;
    let (original, _) = post_and_impostor(&app, false).await;
    for attempt in 1..=3 {
        let response = read(&app, &original, None).await;
        assert_eq!(
            response.data(200)["title"],
            json!("Original"),
            "read {attempt}"
        );
    }
}

#[tokio::test]
async fn deleting_by_id_removes_that_post_not_one_whose_slug_equals_it() {
    let app = TestApp::new().await;
    let moderator = moderator(&app).await;
    let (original, impostor) = post_and_impostor(&app, true).await;

    let response = delete(&app, &original, Some(&moderator.token)).await;
    assert_eq!(response.status.as_u16(), 204, "body: {}", response.body);
    let rows = post::Entity::find()
        .all(&app.state.db)
        .await
        .expect("posts");
    let deleted: Vec<&str> = rows
        .iter()
        .filter(|row| row.deleted_at.is_some())
        .map(|row| row.id.as_str())
        .collect();
    assert_eq!(deleted, [original.as_str()], "impostor is {impostor}");
}

// ---------------------------------------------------------------------------
// REST: PUT /api/posts/{id}
// ---------------------------------------------------------------------------

#[tokio::test]
async fn author_updates_title_content_and_tags() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let music = app.create_category("Music", "music").await;
    let created = app
        .create_post(
            &alice.token,
            with(published("Before"), json!({ "tags": ["Old"] })),
        )
        .await;

    let response = put(
        &app,
        &id(&created),
        Some(&alice.token),
        json!({ "title": "After", "content": "Fresh content", "tags": ["New", "Fresh"], "categoryId": music }),
    )
    .await;
    let updated = response.data(200);
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["title"], json!("After"));
    assert_eq!(updated["content"], json!("Fresh content"));
    assert_eq!(
        updated["excerpt"],
        json!("Fresh content"),
        "a derived excerpt follows the content"
    );
    assert_eq!(tag_names(&updated["tags"]), ["Fresh", "New"]);
    assert_eq!(updated["category"]["slug"], json!("music"));
    assert_eq!(updated["published"], json!(true));
    assert_eq!(
        timestamp(&updated["publishedAt"]),
        timestamp(&created["publishedAt"])
    );
    assert!(timestamp(&updated["updatedAt"]) >= timestamp(&created["updatedAt"]));

    let stored = read(&app, &id(&created), None).await;
    let stored = stored.data(200);
    assert_eq!(stored["title"], json!("After"));
    assert_eq!(tag_names(&stored["tags"]), ["Fresh", "New"]);
    assert!(
        list(&app, "tag=old").await["items"] == json!([]),
        "the old tag no longer lists the post"
    );
    assert_eq!(
        each(&list(&app, "tag=fresh").await["items"], "/id"),
        [&created["id"]],
        "the new tags list it"
    );
    let listed = gql_posts(&app, r#"tag: "new""#).await;
    assert_eq!(tag_names(&nodes(&listed)[0]["tags"]), ["Fresh", "New"]);

    let cleared = put(
        &app,
        &id(&created),
        Some(&alice.token),
        json!({ "tags": [], "categoryId": "" }),
    )
    .await;
    assert_eq!(cleared.data(200)["tags"], json!([]));
    assert_eq!(cleared.data(200)["category"], Value::Null);
    assert_eq!(list(&app, "tag=fresh").await["items"], json!([]));
    assert_eq!(nodes(&gql_posts(&app, "").await)[0]["tags"], json!([]));
}

#[tokio::test]
async fn posts_stored_before_tag_ids_were_kept_get_them_from_their_links() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let tagged = app
        .create_post(
            &alice.token,
            with(published("Tagged"), json!({ "tags": ["Beta", "Alpha"] })),
        )
        .await;
    let untagged = app.create_post(&alice.token, published("Untagged")).await;

    // Back to the schema before posts kept their tag ids, and forward again.
    let migrations = Migrator::migrations();
    let tag_ids = migrations
        .iter()
        .position(|migration| migration.name() == "m20261129_000003_post_tag_ids")
        .expect("the tag ids migration");
    let since_tag_ids = u32::try_from(migrations.len() - tag_ids).expect("few migrations");
    Migrator::down(&app.state.db, Some(since_tag_ids))
        .await
        .expect("undo the migrations since posts keep tag ids");
    Migrator::up(&app.state.db, None)
        .await
        .expect("migrate again");

    let stored = read(&app, &id(&tagged), None).await;
    assert_eq!(tag_names(&stored.data(200)["tags"]), ["Alpha", "Beta"]);
    let stored = read(&app, &id(&untagged), None).await;
    assert_eq!(stored.data(200)["tags"], json!([]));
}

#[tokio::test]
async fn update_keeps_a_hand_written_excerpt() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let created = app
        .create_post(
            &alice.token,
            with(published("Mine"), json!({ "excerpt": "My summary" })),
        )
        .await;
    let response = put(
        &app,
        &id(&created),
        Some(&alice.token),
        json!({ "content": "Rewritten body" }),
    )
    .await;
    assert_eq!(response.data(200)["excerpt"], json!("My summary"));
    assert_eq!(response.data(200)["content"], json!("Rewritten body"));
}

#[tokio::test]
async fn publishing_a_draft_sets_published_at_once() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let created = app.create_post(&alice.token, draft("Soon")).await;
    let post_id = id(&created);
    assert_eq!(created["publishedAt"], Value::Null);
    assert_eq!(list(&app, "").await["total"], json!(0));

    let response = put(
        &app,
        &post_id,
        Some(&alice.token),
        json!({ "published": true }),
    )
    .await;
    let first = response.data(200).clone();
    assert_eq!(first["published"], json!(true));
    let published_at = timestamp(&first["publishedAt"]);
    assert!(published_at >= timestamp(&created["createdAt"]));
    assert_eq!(
        ids(&list(&app, "").await["items"]),
        std::slice::from_ref(&post_id)
    );
    read(&app, &post_id, None).await.data(200);

    let hidden = put(
        &app,
        &post_id,
        Some(&alice.token),
        json!({ "published": false }),
    )
    .await;
    assert_eq!(hidden.data(200)["published"], json!(false));
    assert_eq!(list(&app, "").await["total"], json!(0));
    read(&app, &post_id, None)
        .await
        .assert_error(404, "NOT_FOUND");

    let again = put(
        &app,
        &post_id,
        Some(&alice.token),
        json!({ "published": true }),
    )
    .await;
    assert_eq!(
        timestamp(&again.data(200)["publishedAt"]),
        published_at,
        "first publication is kept"
    );
}

#[tokio::test]
async fn update_by_someone_else_is_forbidden_and_changes_nothing() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let created = app.create_post(&alice.token, published("Alice's")).await;
    let hidden = app.create_post(&alice.token, draft("Alice's draft")).await;

    put(
        &app,
        &id(&created),
        Some(&bob.token),
        json!({ "title": "Hijacked" }),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    put(&app, &id(&created), None, json!({ "title": "Anonymous" }))
        .await
        .assert_error(401, "UNAUTHORIZED");
    put(
        &app,
        &id(&hidden),
        Some(&bob.token),
        json!({ "title": "Hijacked" }),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    put(
        &app,
        "no-such-post",
        Some(&alice.token),
        json!({ "title": "Nothing" }),
    )
    .await
    .assert_error(404, "NOT_FOUND");

    let stored = read(&app, &id(&created), None).await;
    assert_eq!(stored.data(200)["title"], json!("Alice's"));
    assert_eq!(stored.data(200)["updatedAt"], created["updatedAt"]);
    let stored_draft = read(&app, &id(&hidden), Some(&alice.token)).await;
    assert_eq!(stored_draft.data(200)["title"], json!("Alice's draft"));
}

#[tokio::test]
async fn moderator_may_update_any_post() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let moderator = moderator(&app).await;
    let created = app.create_post(&alice.token, published("Rude title")).await;
    let hidden = app.create_post(&alice.token, draft("Rude draft")).await;

    let response = put(
        &app,
        &id(&created),
        Some(&moderator.token),
        json!({ "title": "Polite title" }),
    )
    .await;
    assert_eq!(response.data(200)["title"], json!("Polite title"));
    assert_eq!(
        response.data(200)["author"]["id"],
        json!(alice.user_id),
        "the author stays"
    );

    let response = put(
        &app,
        &id(&hidden),
        Some(&moderator.token),
        json!({ "content": "Cleaned up" }),
    )
    .await;
    assert_eq!(response.data(200)["content"], json!("Cleaned up"));
}

#[tokio::test]
async fn update_with_bad_input_is_rejected_and_changes_nothing() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let created = app
        .create_post(
            &alice.token,
            with(
                published("Stable"),
                json!({ "tags": ["Keep"], "excerpt": "Kept" }),
            ),
        )
        .await;
    let post_id = id(&created);

    let cases = [
        (json!({ "title": "" }), "title"),
        (json!({ "title": chars(256) }), "title"),
        (json!({ "content": "" }), "content"),
        (json!({ "content": chars(100_001) }), "content"),
        (json!({ "excerpt": chars(501) }), "excerpt"),
        (json!({ "coverImage": "not a url" }), "coverImage"),
        (json!({ "tags": tags(11) }), "tags"),
        (json!({ "categoryId": "no-such-category" }), "categoryId"),
        (json!({ "title": 5 }), "title"),
        (json!({ "published": "yes" }), "published"),
        (json!({ "title": "Valid", "tags": "x" }), "tags"),
    ];
    for (body, field) in cases {
        let response = put(&app, &post_id, Some(&alice.token), body.clone()).await;
        assert_eq!(response.status.as_u16(), 400, "{body}: {}", response.body);
        assert_field_error(&response, field);
    }
    let request = Request::builder()
        .method(Method::PUT)
        .uri(format!("/api/posts/{post_id}"))
        .header("authorization", format!("Bearer {}", alice.token))
        .header("content-type", "application/json")
        .body(Body::from(r#"{"title":"#))
        .expect("request");
    app.send(request).await.assert_error(400, "BAD_REQUEST");

    let stored = read(&app, &post_id, None).await;
    let stored = stored.data(200);
    for field in [
        "title",
        "content",
        "excerpt",
        "coverImage",
        "tags",
        "category",
        "published",
        "updatedAt",
    ] {
        assert_eq!(stored[field], created[field], "{field} changed");
    }
}

// ---------------------------------------------------------------------------
// REST: DELETE /api/posts/{id}
// ---------------------------------------------------------------------------

#[tokio::test]
async fn author_deletes_a_post() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let kept = app.create_post(&alice.token, published("Kept")).await;
    let doomed = app.create_post(&alice.token, published("Doomed")).await;

    let response = delete(&app, &id(&doomed), Some(&alice.token)).await;
    assert_eq!(response.status.as_u16(), 204, "body: {}", response.body);
    assert_eq!(response.body, Value::Null, "204 has an empty body");

    read(&app, &id(&doomed), None)
        .await
        .assert_error(404, "NOT_FOUND");
    let page = list(&app, "").await;
    assert_eq!(ids(&page["items"]), ids_of(&[&kept]));
    assert_eq!(page["total"], json!(1));
    delete(&app, &id(&doomed), Some(&alice.token))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_eq!(stored_posts(&app).await, 2, "deletion is soft");
}

#[tokio::test]
async fn delete_by_someone_else_is_forbidden_and_keeps_the_post() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let created = app.create_post(&alice.token, published("Mine")).await;

    delete(&app, &id(&created), Some(&bob.token))
        .await
        .assert_error(403, "FORBIDDEN");
    delete(&app, &id(&created), None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    delete(&app, &id(&created), Some("not-a-jwt"))
        .await
        .assert_error(401, "UNAUTHORIZED");

    read(&app, &id(&created), None).await.data(200);
    assert_eq!(list(&app, "").await["total"], json!(1));
}

#[tokio::test]
async fn moderator_may_delete_any_post() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let moderator = moderator(&app).await;
    let created = app.create_post(&alice.token, published("Spam")).await;
    let hidden = app.create_post(&alice.token, draft("Spam draft")).await;

    for post in [&created, &hidden] {
        let response = delete(&app, &id(post), Some(&moderator.token)).await;
        assert_eq!(response.status.as_u16(), 204, "body: {}", response.body);
        read(&app, &id(post), Some(&alice.token))
            .await
            .assert_error(404, "NOT_FOUND");
    }
}

// ---------------------------------------------------------------------------
// REST: GET /api/categories
// ---------------------------------------------------------------------------

#[tokio::test]
async fn categories_are_listed_by_name() {
    let app = TestApp::new().await;
    assert_eq!(app.get("/api/categories", None).await.data(200), &json!([]));
    let zebra = app.create_category("Zebra", "zebra").await;
    let art = app.create_category("Art", "art").await;
    let music = app.create_category("Music", "music").await;

    let response = app.get("/api/categories", None).await;
    assert_eq!(
        response.data(200),
        &json!([
            { "id": art, "name": "Art", "slug": "art", "description": null },
            { "id": music, "name": "Music", "slug": "music", "description": null },
            { "id": zebra, "name": "Zebra", "slug": "zebra", "description": null },
        ])
    );
}

// ---------------------------------------------------------------------------
// GraphQL: posts
// ---------------------------------------------------------------------------

#[tokio::test]
async fn graphql_posts_pages_with_first_and_after() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    for n in 1..=5 {
        app.create_post(&alice.token, published(&format!("Post {n}")))
            .await;
    }
    app.create_post(&alice.token, draft("Draft")).await;
    let rest_order = ids(&list(&app, "").await["items"]);

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for (expected_len, has_next) in [(2, true), (2, true), (1, false)] {
        let args = match &after {
            Some(cursor) => format!(r#"first: 2, after: "{cursor}""#),
            None => "first: 2".to_owned(),
        };
        let connection = gql_posts(&app, &args).await;
        assert_eq!(connection["totalCount"], json!(5));
        assert_eq!(
            connection["pageInfo"]["hasNextPage"],
            json!(has_next),
            "{args}"
        );
        assert_eq!(
            connection["pageInfo"]["hasPreviousPage"],
            json!(after.is_some()),
            "{args}"
        );
        let edges = connection["edges"].as_array().expect("edges");
        assert_eq!(edges.len(), expected_len, "{args}");
        assert_eq!(
            connection["pageInfo"]["endCursor"],
            edges[expected_len - 1]["cursor"]
        );
        seen.extend(nodes(&connection).into_iter().map(id));
        after = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
    }
    assert_eq!(seen, rest_order, "GraphQL pages walk the REST order");

    let default_page = gql_posts(&app, "").await;
    assert_eq!(nodes(&default_page).len(), 5);
    assert_eq!(default_page["pageInfo"]["hasNextPage"], json!(false));
}

#[tokio::test]
async fn graphql_posts_rejects_first_out_of_range_and_bad_cursors() {
    let app = TestApp::new().await;
    for (args, field) in [
        ("first: 0", "first"),
        ("first: 101", "first"),
        ("first: -1", "first"),
        (r#"after: "garbage""#, "after"),
    ] {
        let response = app
            .graphql(
                &format!("{{ posts({args}) {{ edges {{ node {{ id }} }} }} }}"),
                json!({}),
                None,
            )
            .await;
        assert_eq!(response.status.as_u16(), 200, "{args}: {}", response.body);
        assert_gql_field_error(&response, field);
    }
}

#[tokio::test]
async fn graphql_posts_sorts_and_filters_like_rest() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let music = app.create_category("Music", "music").await;
    let old = app
        .create_post(
            &alice.token,
            with(published("Old"), json!({ "tags": ["Rust"] })),
        )
        .await;
    let song = app
        .create_post(
            &alice.token,
            with(
                published("Song"),
                json!({ "categoryId": music, "tags": ["rust", "Axum"] }),
            ),
        )
        .await;
    let liked = app.create_post(&alice.token, published("Liked")).await;
    app.create_post(
        &alice.token,
        with(draft("Draft song"), json!({ "categoryId": music })),
    )
    .await;
    app.create_post(&alice.token, published("Plain")).await;
    set_counts(&app, &id(&old), 5, 40, 0).await;
    set_counts(&app, &id(&liked), 0, 3, 1).await;
    read(&app, &id(&song), None).await.data(200);
    backdate(&app, &id(&old), 9).await;

    let cases = [
        ("".to_owned(), String::new()),
        ("sort=recent".to_owned(), "sort: RECENT".to_owned()),
        ("sort=popular".to_owned(), "sort: POPULAR".to_owned()),
        ("sort=trending".to_owned(), "sort: TRENDING".to_owned()),
        (
            "category=music".to_owned(),
            r#"category: "music""#.to_owned(),
        ),
        (
            format!("category={music}"),
            format!(r#"category: "{music}""#),
        ),
        ("tag=RUST".to_owned(), r#"tag: "RUST""#.to_owned()),
        (
            "tag=rust&sort=popular".to_owned(),
            r#"tag: "rust", sort: POPULAR"#.to_owned(),
        ),
        (
            "category=unknown".to_owned(),
            r#"category: "unknown""#.to_owned(),
        ),
        ("tag=unknown".to_owned(), r#"tag: "unknown""#.to_owned()),
    ];
    for (rest_query, graphql_args) in cases {
        let rest = list(&app, &rest_query).await;
        let graphql = gql_posts(&app, &graphql_args).await;
        assert_eq!(
            ids(&rest["items"]),
            ids_of(&nodes(&graphql)),
            "REST {rest_query:?} vs GraphQL {graphql_args:?}"
        );
        assert_eq!(rest["total"], graphql["totalCount"], "{rest_query:?}");
    }
    assert_eq!(list(&app, "category=unknown").await["total"], json!(0));
    assert_eq!(
        gql_posts(&app, r#"sort: TRENDING"#).await["totalCount"],
        json!(3)
    );
    assert_eq!(
        ids_of(&nodes(&gql_posts(&app, "sort: POPULAR").await))[..2],
        ids_of(&[&old, &liked])
    );
}

// ---------------------------------------------------------------------------
// GraphQL: post
// ---------------------------------------------------------------------------

#[tokio::test]
async fn graphql_post_by_id_and_by_slug_counts_views() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let created = app
        .create_post(
            &alice.token,
            with(published("Graph me"), json!({ "tags": ["News"] })),
        )
        .await;

    let by_id = gql_post(&app, json!({ "id": id(&created) }), None).await;
    let by_id = gql_ok(&by_id, "post");
    assert_eq!(by_id["id"], created["id"]);
    assert_eq!(by_id["title"], json!("Graph me"));
    assert_eq!(by_id["content"], created["content"]);
    assert_eq!(by_id["views"], json!(1));

    let by_slug = gql_post(&app, json!({ "slug": "graph-me" }), None).await;
    let by_slug = gql_ok(&by_slug, "post");
    assert_eq!(by_slug["id"], created["id"]);
    assert_eq!(by_slug["tags"], by_id["tags"]);
    assert_eq!(by_slug["views"], json!(2));

    assert_gql_error(
        &gql_post(&app, json!({ "id": "no-such-id" }), None).await,
        "NOT_FOUND",
    );
    assert_gql_error(
        &gql_post(&app, json!({ "slug": "no-such-slug" }), None).await,
        "NOT_FOUND",
    );
    let both = gql_post(
        &app,
        json!({ "id": id(&created), "slug": "graph-me" }),
        None,
    )
    .await;
    assert!(
        both.body["errors"][0]["message"].is_string(),
        "a oneof key takes exactly one field: {}",
        both.body
    );
}

#[tokio::test]
async fn graphql_post_hides_drafts_and_deleted_posts() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let moderator = moderator(&app).await;
    let secret = app.create_post(&alice.token, draft("Secret")).await;
    let gone = app.create_post(&alice.token, published("Gone")).await;
    delete(&app, &id(&gone), Some(&alice.token)).await;

    let by_id = json!({ "id": id(&secret) });
    assert_gql_error(&gql_post(&app, by_id.clone(), None).await, "NOT_FOUND");
    assert_gql_error(
        &gql_post(&app, json!({ "slug": "secret" }), Some(&bob.token)).await,
        "NOT_FOUND",
    );
    let as_author = gql_post(&app, by_id.clone(), Some(&alice.token)).await;
    assert_eq!(gql_ok(&as_author, "post")["published"], json!(false));
    let as_moderator = gql_post(&app, json!({ "slug": "secret" }), Some(&moderator.token)).await;
    assert_eq!(gql_ok(&as_moderator, "post")["id"], json!(id(&secret)));

    for token in [
        None,
        Some(alice.token.as_str()),
        Some(moderator.token.as_str()),
    ] {
        assert_gql_error(
            &gql_post(&app, json!({ "id": id(&gone) }), token).await,
            "NOT_FOUND",
        );
    }
}

// ---------------------------------------------------------------------------
// GraphQL: createPost, updatePost, deletePost
// ---------------------------------------------------------------------------

#[tokio::test]
async fn graphql_create_post_makes_the_same_post_as_rest() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let music = app.create_category("Music", "music").await;
    let input = json!({
        "title": "Héllo GraphQL",
        "content": "<p>Hi there</p>",
        "tags": ["Rust", "rust", "GraphQL"],
        "published": true,
        "categoryId": music,
    });
    let response = gql_create(&app, input.clone(), Some(&alice.token)).await;
    let created = gql_ok(&response, "createPost");
    assert_eq!(created["slug"], json!("hello-graphql"));
    assert_eq!(created["excerpt"], json!("Hi there"));
    assert_eq!(created["published"], json!(true));
    assert_eq!(created["views"], json!(0));
    assert_eq!(created["counts"], json!({ "comments": 0, "reactions": 0 }));
    assert_eq!(created["author"]["id"], json!(alice.user_id));
    assert_eq!(tag_names(&created["tags"]), ["GraphQL", "Rust"]);
    assert_eq!(created["category"]["id"], json!(music));
    assert!(created["publishedAt"].is_string());

    let again = gql_create(&app, input, Some(&alice.token)).await;
    assert_eq!(
        gql_ok(&again, "createPost")["slug"],
        json!("hello-graphql-2")
    );
    let draft_post = gql_create(
        &app,
        json!({ "title": "Quiet", "content": "Shh" }),
        Some(&alice.token),
    )
    .await;
    assert_eq!(gql_ok(&draft_post, "createPost")["published"], json!(false));
    assert_eq!(
        gql_ok(&draft_post, "createPost")["publishedAt"],
        Value::Null
    );

    let stored = read(&app, &id(created), None).await;
    assert_eq!(stored.data(200)["title"], json!("Héllo GraphQL"));
    let rest_tags = app.get("/api/tags", None).await.data(200).clone();
    let graphql_tags = gql_data(&app, "{ tags { id name slug } }", json!({}), None).await;
    assert_eq!(graphql_tags["tags"], rest_tags);
    assert_eq!(tag_names(&rest_tags), ["GraphQL", "Rust"]);
}

#[tokio::test]
async fn graphql_create_post_reports_the_rest_error_codes_and_creates_nothing() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let valid = json!({ "title": "Valid", "content": "Body", "published": true });

    assert_gql_error(&gql_create(&app, valid.clone(), None).await, "UNAUTHORIZED");
    let garbage = gql_create(&app, valid.clone(), Some("not-a-jwt")).await;
    assert_eq!(garbage.status.as_u16(), 401, "body: {}", garbage.body);
    assert_gql_error(&garbage, "UNAUTHORIZED");

    let cases = [
        (json!({ "title": "" }), "title"),
        (json!({ "title": chars(256) }), "title"),
        (json!({ "content": chars(100_001) }), "content"),
        (json!({ "excerpt": chars(501) }), "excerpt"),
        (json!({ "coverImage": "not a url" }), "coverImage"),
        (json!({ "tags": tags(11) }), "tags"),
        (json!({ "categoryId": "no-such-category" }), "categoryId"),
    ];
    for (change, field) in cases {
        let response = gql_create(&app, with(valid.clone(), change), Some(&alice.token)).await;
        assert_gql_field_error(&response, field);
    }
    let several = gql_create(
        &app,
        json!({ "title": "", "content": "", "coverImage": "x" }),
        Some(&alice.token),
    )
    .await;
    for field in ["title", "content", "coverImage"] {
        assert_gql_field_error(&several, field);
    }

    // Shape errors are caught by GraphQL's own type checks.
    for bad in [
        json!({ "title": 5, "content": "Body" }),
        json!({ "content": "No title" }),
    ] {
        let response = gql_create(&app, bad, Some(&alice.token)).await;
        assert!(
            response.body["errors"][0]["extensions"]["code"].is_string(),
            "body: {}",
            response.body
        );
        assert!(response.body["data"].is_null(), "body: {}", response.body);
    }

    assert_eq!(stored_posts(&app).await, 0);
}

#[tokio::test]
async fn graphql_update_post_follows_the_same_rules_as_rest() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let moderator = moderator(&app).await;
    let created = app
        .create_post(
            &alice.token,
            with(draft("Original"), json!({ "tags": ["Old"] })),
        )
        .await;
    let post_id = id(&created);

    let response = gql_update(
        &app,
        &post_id,
        json!({ "title": "Renamed", "tags": ["New"], "published": true }),
        Some(&alice.token),
    )
    .await;
    let updated = gql_ok(&response, "updatePost");
    assert_eq!(updated["title"], json!("Renamed"));
    assert_eq!(tag_names(&updated["tags"]), ["New"]);
    assert_eq!(updated["published"], json!(true));
    assert!(timestamp(&updated["publishedAt"]) >= timestamp(&created["createdAt"]));

    assert_gql_error(
        &gql_update(
            &app,
            &post_id,
            json!({ "title": "Bob's" }),
            Some(&bob.token),
        )
        .await,
        "FORBIDDEN",
    );
    assert_gql_error(
        &gql_update(&app, &post_id, json!({ "title": "Anon" }), None).await,
        "UNAUTHORIZED",
    );
    assert_gql_error(
        &gql_update(
            &app,
            "no-such-post",
            json!({ "title": "X" }),
            Some(&alice.token),
        )
        .await,
        "NOT_FOUND",
    );
    for (input, field) in [
        (json!({ "title": "" }), "title"),
        (json!({ "excerpt": chars(501) }), "excerpt"),
        (json!({ "coverImage": "nope" }), "coverImage"),
        (json!({ "tags": tags(11) }), "tags"),
        (json!({ "categoryId": "no-such-category" }), "categoryId"),
    ] {
        assert_gql_field_error(
            &gql_update(&app, &post_id, input, Some(&alice.token)).await,
            field,
        );
    }
    let stored = read(&app, &post_id, None).await;
    assert_eq!(stored.data(200)["title"], json!("Renamed"));
    assert_eq!(tag_names(&stored.data(200)["tags"]), ["New"]);

    let response = gql_update(
        &app,
        &post_id,
        json!({ "title": "Moderated" }),
        Some(&moderator.token),
    )
    .await;
    assert_eq!(gql_ok(&response, "updatePost")["title"], json!("Moderated"));
    assert_eq!(
        gql_ok(&response, "updatePost")["author"]["id"],
        json!(alice.user_id)
    );
}

#[tokio::test]
async fn graphql_delete_post_follows_the_same_rules_as_rest() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let moderator = moderator(&app).await;
    let alices = app.create_post(&alice.token, published("Alice's")).await;
    let bobs = app.create_post(&bob.token, published("Bob's")).await;

    assert_gql_error(
        &gql_delete(&app, &id(&alices), Some(&bob.token)).await,
        "FORBIDDEN",
    );
    assert_gql_error(&gql_delete(&app, &id(&alices), None).await, "UNAUTHORIZED");
    read(&app, &id(&alices), None).await.data(200);

    let response = gql_delete(&app, &id(&alices), Some(&alice.token)).await;
    assert_eq!(gql_ok(&response, "deletePost"), &json!(true));
    assert_gql_error(
        &gql_post(&app, json!({ "id": id(&alices) }), None).await,
        "NOT_FOUND",
    );
    read(&app, &id(&alices), Some(&alice.token))
        .await
        .assert_error(404, "NOT_FOUND");
    assert_gql_error(
        &gql_delete(&app, &id(&alices), Some(&alice.token)).await,
        "NOT_FOUND",
    );

    let response = gql_delete(&app, &id(&bobs), Some(&moderator.token)).await;
    assert_eq!(gql_ok(&response, "deletePost"), &json!(true));
    assert_eq!(gql_posts(&app, "").await["totalCount"], json!(0));
}

#[tokio::test]
async fn graphql_mutations_over_get_are_refused() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let created = app.create_post(&alice.token, published("Safe")).await;
    let encode =
        |query: &str| form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>();

    let attempts = [
        format!(r#"mutation {{ deletePost(id: "{}") }}"#, id(&created)),
        r#"mutation { createPost(input: {title: "Sneaky", content: "x", published: true}) { id } }"#.to_owned(),
        format!(r#"mutation {{ updatePost(id: "{}", input: {{title: "Sneaky"}}) {{ id }} }}"#, id(&created)),
    ];
    for mutation in attempts {
        let response = app
            .get(
                &format!("/graphql?query={}", encode(&mutation)),
                Some(&alice.token),
            )
            .await;
        assert_eq!(
            response.status.as_u16(),
            405,
            "{mutation}: {}",
            response.body
        );
        assert_eq!(
            response.headers.get("allow").and_then(|v| v.to_str().ok()),
            Some("POST")
        );
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"],
            json!("METHOD_NOT_ALLOWED")
        );
    }

    assert_eq!(stored_posts(&app).await, 1);
    let stored = read(&app, &id(&created), None).await;
    assert_eq!(stored.data(200)["title"], json!("Safe"));

    let query = app
        .get(
            &format!("/graphql?query={}", encode("{ posts { totalCount } }")),
            None,
        )
        .await;
    assert_eq!(query.status.as_u16(), 200, "body: {}", query.body);
    assert_eq!(query.body["data"]["posts"]["totalCount"], json!(1));
}

#[tokio::test]
async fn graphql_categories_match_rest() {
    let app = TestApp::new().await;
    app.create_category("Zebra", "zebra").await;
    app.create_category("Art", "art").await;
    let rest = app.get("/api/categories", None).await.data(200).clone();
    let graphql = gql_data(
        &app,
        "{ categories { id name slug description } }",
        json!({}),
        None,
    )
    .await;
    assert_eq!(graphql["categories"], rest);
    assert_eq!(each(&rest, "/name"), [&json!("Art"), &json!("Zebra")]);
}

// ---------------------------------------------------------------------------
// Parity
// ---------------------------------------------------------------------------

/// Posts of two authors with categories, tags, views, counts and a draft.
async fn parity_fixture(app: &TestApp) -> Vec<Value> {
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let music = app.create_category("Music", "music").await;
    let first = app
        .create_post(
            &alice.token,
            with(
                published("First song"),
                json!({ "categoryId": music, "tags": ["Rust", "Music"], "coverImage": "https://img.example.com/1.png", "youtubeVideoId": "dQw4w9WgXcQ" }),
            ),
        )
        .await;
    let second = app
        .create_post(
            &bob.token,
            with(published("Second"), json!({ "excerpt": "Hand-written" })),
        )
        .await;
    let third = app.create_post(&alice.token, published("Third")).await;
    app.create_post(&bob.token, draft("Never listed")).await;
    set_counts(app, &id(&second), 7, 3, 2).await;
    read(app, &id(&third), None).await.data(200);
    vec![first, second, third]
}

#[tokio::test]
async fn rest_list_and_graphql_posts_agree() {
    let app = TestApp::new().await;
    parity_fixture(&app).await;

    let rest = list(&app, "limit=20").await;
    let graphql = gql_posts(&app, "first: 20").await;
    assert_eq!(rest["total"], graphql["totalCount"]);
    let rest_items = rest["items"].as_array().expect("items");
    let graphql_nodes = nodes(&graphql);
    assert_eq!(rest_items.len(), 3);
    assert_eq!(rest_items.len(), graphql_nodes.len());
    for (rest_post, graphql_post) in rest_items.iter().zip(graphql_nodes) {
        assert_same_post(rest_post, graphql_post);
        assert_eq!(
            rest_post["views"], graphql_post["views"],
            "listing counts no view"
        );
    }
    assert_eq!(
        rest_items[1]["_count"],
        json!({ "comments": 2, "reactions": 3 })
    );
}

#[tokio::test]
async fn rest_post_and_graphql_post_agree() {
    let app = TestApp::new().await;
    let posts = parity_fixture(&app).await;

    for post in &posts {
        let graphql = gql_post(&app, json!({ "id": id(post) }), None).await;
        let graphql = gql_ok(&graphql, "post");
        let rest = read(&app, &id(post), None).await;
        let rest = rest.data(200);
        assert_same_post(rest, graphql);
        for field in ["content", "tags", "category"] {
            assert_eq!(rest[field], graphql[field], "{field}");
        }
        let views = |value: &Value| value["views"].as_i64().expect("views");
        assert_eq!(
            views(rest),
            views(graphql) + 1,
            "the REST read came after the GraphQL one"
        );
    }
    assert_eq!(tag_names(&posts[0]["tags"]), ["Music", "Rust"]);
}

#[tokio::test]
async fn list_totals_are_remembered_briefly_and_forgotten_on_writes() {
    let app = TestApp::with_config(|config| config.api.list_total_cache_ms = 60_000).await;
    let author = app.register("counter").await;
    app.create_post(
        &author.token,
        json!({ "title": "first", "content": "text", "published": true }),
    )
    .await;
    let counted = app.get("/api/posts", None).await;
    assert_eq!(counted.data(200)["total"], 1);
    let remembered = app.get("/api/posts", None).await;
    assert_eq!(remembered.data(200)["total"], 1);
    assert_eq!(
        remembered.sql_statements() + 1,
        counted.sql_statements(),
        "the count is not run again"
    );

    // A write elsewhere (another instance) shows once the total lapses; a write
    // here forgets it at once.
    app.create_post(
        &author.token,
        json!({ "title": "second", "content": "text", "published": true }),
    )
    .await;
    assert_eq!(app.get("/api/posts", None).await.data(200)["total"], 2);
    let deleted = app.get("/api/posts", None).await.data(200)["items"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    app.call(
        axum::http::Method::DELETE,
        &format!("/api/posts/{deleted}"),
        Some(&author.token),
        None,
    )
    .await;
    assert_eq!(app.get("/api/posts", None).await.data(200)["total"], 1);
}
