//! The GraphQL endpoint's own guarantees: limits, transport rules and the SQL budget.

use serde_json::{Value, json};

use crate::support::{TestApp, each};

fn first_error_code(body: &Value) -> &Value {
    &body["errors"][0]["extensions"]["code"]
}

/// The message of the first error ("" when there is none).
fn first_error_message(body: &Value) -> &str {
    body["errors"][0]["message"].as_str().unwrap_or_default()
}

#[tokio::test]
async fn deep_and_expensive_queries_are_refused_with_clear_errors() {
    let app = TestApp::with_config(|config| {
        config.api.graphql_max_depth = 6;
        config.api.graphql_max_complexity = 500;
    })
    .await;
    let deep = "{ posts(first: 1) { edges { node { author { posts(first: 1) { edges { node { author { username } } } } } } } } }";
    let response = app.graphql(deep, json!({}), None).await;
    assert_eq!(
        first_error_code(&response.body),
        "GRAPHQL_VALIDATION_FAILED",
        "{}",
        response.body
    );
    assert!(
        first_error_message(&response.body).contains("nested too deep"),
        "{}",
        response.body
    );
    assert_eq!(response.body["data"], Value::Null);

    let costly = "{ posts(first: 100) { edges { node { title author { username } tags { name } category { name } } } } }";
    let response = app.graphql(costly, json!({}), None).await;
    assert!(
        first_error_message(&response.body).contains("too complex"),
        "{}",
        response.body
    );

    let page_too_big = app
        .graphql(
            "{ posts(first: 101) { edges { node { id } } } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        first_error_code(&page_too_big.body),
        "VALIDATION_ERROR",
        "{}",
        page_too_big.body
    );
    assert!(page_too_big.body["errors"][0]["extensions"]["fields"]["first"].is_string());
}

#[tokio::test]
async fn aliases_are_capped() {
    let app = TestApp::with_config(|config| config.api.graphql_max_aliases = 3).await;
    let allowed = app
        .graphql(
            "{ a: categories { id } b: categories { id } c: tags { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(allowed.body["data"]["a"], json!([]), "{}", allowed.body);
    let refused = app
        .graphql(
            "{ a: categories { id } b: categories { id } c: tags { id } d: tags { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(first_error_code(&refused.body), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        first_error_message(&refused.body).contains("aliases"),
        "{}",
        refused.body
    );
    assert_eq!(refused.body["data"], Value::Null);
}

#[tokio::test]
async fn remembered_documents_answer_as_freshly_parsed_ones() {
    for cached_documents in [0, 16] {
        let app = TestApp::with_config(|config| {
            config.api.graphql_max_aliases = 1;
            config.api.graphql_document_cache = cached_documents;
        })
        .await;
        let author = app.register("remembered").await;
        for title in ["one", "two"] {
            app.create_post(
                &author.token,
                json!({ "title": title, "content": "text", "published": true }),
            )
            .await;
        }
        let page = "query($n: Int!) { posts(first: $n) { edges { node { title } } } }";
        // Each document twice: with the cache on, the second answer reuses the first parse.
        for _ in 0..2 {
            for (n, titles) in [(1, json!(["two"])), (2, json!(["two", "one"]))] {
                let response = app.graphql(page, json!({ "n": n }), None).await;
                let shown = each(&response.body["data"]["posts"]["edges"], "/node/title");
                assert_eq!(json!(shown), titles, "{}", response.body);
            }
            let refused = app
                .graphql("{ a: categories { id } b: tags { id } }", json!({}), None)
                .await;
            assert!(
                first_error_message(&refused.body).contains("2 aliases"),
                "{}",
                refused.body
            );
            let syntax = app.graphql("{ posts { ", json!({}), None).await;
            assert_eq!(first_error_code(&syntax.body), "GRAPHQL_VALIDATION_FAILED");
        }
    }
}

#[tokio::test]
async fn categories_are_remembered_and_new_ones_still_found() {
    let app = TestApp::with_config(|config| config.api.category_cache_ms = 60_000).await;
    let author = app.register("filer").await;
    let news = app.create_category("News", "news").await;
    app.create_post(
        &author.token,
        json!({ "title": "filed", "content": "text", "published": true, "categoryId": news }),
    )
    .await;
    let query = "{ posts { edges { node { category { name } } } } }";
    let first = app.graphql(query, json!({}), None).await;
    let second = app.graphql(query, json!({}), None).await;
    assert_eq!(first.body["data"], second.body["data"]);
    assert_eq!(
        first.body["data"]["posts"]["edges"][0]["node"]["category"]["name"],
        "News"
    );
    let without_category = app
        .graphql("{ posts { edges { node { title } } } }", json!({}), None)
        .await;
    assert_eq!(
        second.sql_statements(),
        without_category.sql_statements(),
        "remembered categories should cost no statement"
    );

    // A category added behind the server's back is found at once by id and by slug.
    let guides = app.create_category("Guides", "guides").await;
    let post = app
        .create_post(
            &author.token,
            json!({ "title": "guide", "content": "text", "published": true, "categoryId": guides }),
        )
        .await;
    assert_eq!(post["category"]["name"], "Guides", "{post}");
    let filtered = app.get("/api/posts?category=guides", None).await;
    let titles = each(&filtered.data(200)["items"], "/title");
    assert_eq!(titles, [&json!("guide")]);
    let listed = app.get("/api/categories", None).await;
    let names = each(listed.data(200), "/name");
    assert_eq!(names, [&json!("Guides"), &json!("News")]);
}

#[tokio::test]
async fn remembered_tags_cost_no_statement() {
    // Creating the posts showed their tags, so the cache knows them all.
    for (tag_cache_size, tag_statements) in [(0, 1), (100, 0)] {
        let app = TestApp::with_config(|config| config.api.tag_cache_size = tag_cache_size).await;
        let author = app.register("tagger").await;
        for (title, tags) in [
            ("first", json!(["Zebra", "apple"])),
            ("second", json!(["apple"])),
        ] {
            app.create_post(
                &author.token,
                json!({ "title": title, "content": "text", "published": true, "tags": tags }),
            )
            .await;
        }
        let with_tags = app
            .graphql(
                "{ posts { edges { node { tags { name } } } } }",
                json!({}),
                None,
            )
            .await;
        let without_tags = app
            .graphql("{ posts { edges { node { title } } } }", json!({}), None)
            .await;
        assert_eq!(
            with_tags.body["data"]["posts"]["edges"],
            json!([
                { "node": { "tags": [{ "name": "apple" }] } },
                { "node": { "tags": [{ "name": "Zebra" }, { "name": "apple" }] } },
            ])
        );
        assert_eq!(
            with_tags.sql_statements(),
            without_tags.sql_statements() + tag_statements,
            "tag cache of {tag_cache_size}"
        );
    }
}

#[tokio::test]
async fn batches_are_capped_and_each_operation_is_checked() {
    let app = TestApp::with_config(|config| config.api.graphql_max_batch = 3).await;
    let operation = json!({ "query": "{ categories { id } }" });
    let ok = app
        .post("/graphql", None, json!([operation, operation, operation]))
        .await;
    assert_eq!(ok.status, 200);
    assert_eq!(ok.body.as_array().map(Vec::len), Some(3), "{}", ok.body);
    let too_many = app
        .post(
            "/graphql",
            None,
            json!([operation, operation, operation, operation]),
        )
        .await;
    assert_eq!(too_many.status, 400);
    assert_eq!(first_error_code(&too_many.body), "BAD_REQUEST");
}

#[tokio::test]
async fn only_json_posts_may_run_operations() {
    let app = TestApp::new().await;
    let mutation = r#"{"query":"mutation { register(input: {email: \"csrf@example.com\", password: \"Passw0rdX\", username: \"csrf\"}) { token } }"}"#;
    for content_type in [
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data; boundary=x",
    ] {
        let response = app.post_raw("/graphql", content_type, mutation).await;
        assert_eq!(response.status, 415, "{content_type}");
        assert_eq!(first_error_code(&response.body), "UNSUPPORTED_MEDIA_TYPE");
    }
    let over_get = app
        .get("/graphql?query=mutation%20%7B%20logout%20%7D", None)
        .await;
    assert_eq!(over_get.status, 405);
    assert_eq!(first_error_code(&over_get.body), "METHOD_NOT_ALLOWED");
    let query_over_get = app
        .get(
            "/graphql?query=%7B%20categories%20%7B%20id%20%7D%20%7D",
            None,
        )
        .await;
    assert_eq!(query_over_get.body["data"]["categories"], json!([]));

    let malformed = app
        .post_raw("/graphql", "application/json", "{\"query\": ")
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(first_error_code(&malformed.body), "BAD_REQUEST");
    let syntax = app.graphql("{ posts { ", json!({}), None).await;
    assert_eq!(first_error_code(&syntax.body), "GRAPHQL_VALIDATION_FAILED");

    // Nothing above created an account.
    let login = app
        .post(
            "/api/auth/login",
            None,
            json!({ "email": "csrf@example.com", "password": "Passw0rdX" }),
        )
        .await;
    login.assert_error(401, "INVALID_CREDENTIALS");
}

#[tokio::test]
async fn request_bodies_are_size_limited() {
    let app = TestApp::with_config(|config| config.server.body_limit_bytes = 2_048).await;
    let huge =
        json!({ "query": format!("{{ categories {{ id }} }} #{}", "x".repeat(4_096)) }).to_string();
    let graphql = app.post_raw("/graphql", "application/json", &huge).await;
    assert_eq!(graphql.status, 413);
    assert_eq!(first_error_code(&graphql.body), "PAYLOAD_TOO_LARGE");
    let rest = app
        .post_raw("/api/auth/login", "application/json", &huge)
        .await;
    rest.assert_error(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn suggestions_are_off_outside_development() {
    let app = TestApp::new().await;
    let response = app.graphql("{ post { titel } }", json!({}), None).await;
    let message = first_error_message(&response.body);
    assert!(!message.contains("Did you mean"), "{message}");
}

/// Creates `count` published posts, each by its own author, in its own category,
/// with its own two tags, so a naive resolver would need a query per post.
async fn seed_distinct_posts(app: &TestApp, count: usize) {
    for index in 0..count {
        let author = app.register(&format!("author_{index}")).await;
        let category = app
            .create_category(&format!("Category {index}"), &format!("category-{index}"))
            .await;
        app.create_post(
            &author.token,
            json!({
                "title": format!("Post {index}"),
                "content": "text",
                "published": true,
                "categoryId": category,
                "tags": [format!("tag-{index}-a"), format!("tag-{index}-b")],
            }),
        )
        .await;
    }
}

#[tokio::test]
async fn nested_fields_cost_the_same_sql_for_5_or_50_posts() {
    let app = TestApp::new().await;
    seed_distinct_posts(&app, 50).await;
    let query = "query($n: Int!) { posts(first: $n) { edges { node { author { username } category { name } tags { name } } } } }";
    let mut statements = Vec::new();
    for n in [5, 50] {
        let response = app.graphql(query, json!({ "n": n }), None).await;
        let edges = response.body["data"]["posts"]["edges"]
            .as_array()
            .expect("edges");
        assert_eq!(edges.len(), n);
        assert!(edges.iter().all(|edge| {
            edge["node"]["tags"]
                .as_array()
                .is_some_and(|tags| tags.len() == 2)
        }));
        assert!(
            edges
                .iter()
                .all(|edge| edge["node"]["category"]["name"].is_string())
        );
        let reported = response.body["extensions"]["sqlStatements"]
            .as_u64()
            .expect("sqlStatements extension");
        assert_eq!(
            u64::from(response.sql_statements()),
            reported,
            "header and extension disagree"
        );
        statements.push(reported);
    }
    assert_eq!(
        statements[0], statements[1],
        "SQL statements grew with the page size: {statements:?}"
    );
    assert!(
        statements[0] <= 5,
        "posts + author + category + tags should take at most 5 statements, took {}",
        statements[0]
    );

    let rest_small = app.get("/api/posts?limit=5", None).await;
    let rest_large = app.get("/api/posts?limit=50", None).await;
    assert_eq!(rest_small.sql_statements(), rest_large.sql_statements());
}

#[tokio::test]
async fn dataloaders_are_never_shared_between_requests() {
    let app = TestApp::new().await;
    let user = app.register("changing").await;
    app.create_post(
        &user.token,
        json!({ "title": "mine", "content": "text", "published": true }),
    )
    .await;
    let query = "{ posts { edges { node { author { username bio } } } } }";
    let before = app.graphql(query, json!({}), None).await;
    assert_eq!(
        before.body["data"]["posts"]["edges"][0]["node"]["author"]["bio"],
        Value::Null
    );
    app.call(
        axum::http::Method::PATCH,
        "/api/users/me",
        Some(&user.token),
        Some(json!({ "bio": "updated" })),
    )
    .await
    .data(200);
    let after = app.graphql(query, json!({}), None).await;
    assert_eq!(
        after.body["data"]["posts"]["edges"][0]["node"]["author"]["bio"],
        "updated"
    );
}

/// The introspection query GraphiQL (the copy in `assets/graphiql`) sends when it
/// opens: graphql-js `getIntrospectionQuery()` with its defaults, taken from the
/// bundle.
const GRAPHIQL_INTROSPECTION: &str = include_str!("../fixtures/graphiql-introspection.graphql");

#[tokio::test]
async fn graphiql_loads_the_schema_under_the_default_limits() {
    let app = TestApp::with_config(|config| {
        let defaults = sparkle_universe::Config::defaults();
        config.api.graphql_max_depth = defaults.api.graphql_max_depth;
        config.api.graphql_max_complexity = defaults.api.graphql_max_complexity;
    })
    .await;
    let response = app.graphql(GRAPHIQL_INTROSPECTION, json!({}), None).await;
    assert!(response.body["errors"].is_null(), "{}", response.body);
    let schema = &response.body["data"]["__schema"];
    assert_eq!(schema["queryType"]["name"], "Query");
    assert_eq!(schema["mutationType"]["name"], "Mutation");
    assert_eq!(schema["subscriptionType"]["name"], "Subscription");
    let types = schema["types"].as_array().expect("types");
    assert!(
        types
            .iter()
            .any(|t| t["name"] == "Post" && t["fields"].is_array()),
        "no Post type with fields"
    );

    // Data queries keep their limit.
    let deep = "{ posts(first: 1) { edges { node { author { followers(first: 1) { edges { node { followers(first: 1) { edges { node { followers(first: 1) { edges { node { username } } } } } } } } } } } } } }";
    let refused = app.graphql(deep, json!({}), None).await;
    assert!(
        first_error_message(&refused.body).contains("nested too deep"),
        "{}",
        refused.body
    );
    // Introspection that nests lists deeper than tools do (each level multiplies the
    // answer) keeps the limits of data queries.
    let explosive = "{ __schema { types { fields { type { fields { type { fields { type { fields { type { name } } } } } } } } } } }";
    let refused = app.graphql(explosive, json!({}), None).await;
    assert!(
        first_error_message(&refused.body).contains("nested too deep"),
        "{}",
        refused.body
    );
}

/// `extensions` naming `document` by its SHA-256, as Apollo's clients send it.
fn persisted(document: &str) -> serde_json::Value {
    use sha2::{Digest, Sha256};
    json!({ "persistedQuery": { "version": 1, "sha256Hash": hex::encode(Sha256::digest(document)) } })
}

#[tokio::test]
async fn automatic_persisted_queries_follow_the_apollo_protocol() {
    let app = TestApp::new().await;
    let document = "query Categories { categories { id } }";
    let extensions = persisted(document);

    let unknown = app
        .post("/graphql", None, json!({ "extensions": extensions }))
        .await;
    assert_eq!(
        unknown.body["errors"][0]["message"],
        "PersistedQueryNotFound"
    );
    assert_eq!(
        unknown.body["errors"][0]["extensions"]["code"],
        "PERSISTED_QUERY_NOT_FOUND"
    );

    let registered = app
        .post(
            "/graphql",
            None,
            json!({ "query": document, "extensions": extensions }),
        )
        .await;
    assert!(
        registered.body["data"]["categories"].is_array(),
        "{}",
        registered.body
    );

    let by_hash = app
        .post("/graphql", None, json!({ "extensions": extensions }))
        .await;
    assert_eq!(by_hash.body["data"], registered.body["data"]);

    let encoded: String =
        form_urlencoded::byte_serialize(extensions.to_string().as_bytes()).collect();
    let over_get = app
        .get(&format!("/graphql?extensions={encoded}"), None)
        .await;
    assert_eq!(
        over_get.body["data"], registered.body["data"],
        "{}",
        over_get.body
    );

    let mismatched = app
        .post(
            "/graphql",
            None,
            json!({ "query": "{ tags { id } }", "extensions": extensions }),
        )
        .await;
    assert!(
        first_error_message(&mismatched.body).contains("does not match"),
        "{}",
        mismatched.body
    );

    // A mutation named by hash still runs only over POST.
    let mutation = "mutation { markAllNotificationsRead { updated } }";
    app.post(
        "/graphql",
        None,
        json!({ "query": mutation, "extensions": persisted(mutation) }),
    )
    .await;
    let encoded: String =
        form_urlencoded::byte_serialize(persisted(mutation).to_string().as_bytes()).collect();
    let refused = app
        .get(&format!("/graphql?extensions={encoded}"), None)
        .await;
    assert_eq!(refused.status, 405, "{}", refused.body);
}

/// A GraphQL request over POST accepting `accept`.
async fn graphql_accepting(
    app: &TestApp,
    accept: &str,
    query: &str,
    variables: Value,
) -> crate::support::TestResponse {
    let request = axum::http::Request::post("/graphql")
        .header("content-type", "application/json")
        .header("accept", accept)
        .body(axum::body::Body::from(
            json!({ "query": query, "variables": variables }).to_string(),
        ))
        .expect("request");
    app.send(request).await
}

#[tokio::test]
async fn the_graphql_response_media_type_follows_the_specification() {
    let app = TestApp::new().await;
    const SPEC: &str = "application/graphql-response+json";
    for (query, variables) in [
        ("{ categories { id ", json!({})),
        ("{ noSuchField }", json!({})),
        (
            "query($first: Int!) { posts(first: $first) { totalCount } }",
            json!({ "first": "many" }),
        ),
    ] {
        let spec = graphql_accepting(&app, SPEC, query, variables.clone()).await;
        assert_eq!(spec.status, 400, "{query}: {}", spec.body);
        assert!(
            spec.headers["content-type"]
                .to_str()
                .is_ok_and(|value| value.starts_with(SPEC)),
            "{:?}",
            spec.headers
        );
        assert!(spec.body.get("data").is_none(), "{}", spec.body);
        assert!(spec.body["errors"].is_array());

        let legacy = graphql_accepting(&app, "application/json", query, variables).await;
        assert_eq!(legacy.status, 200);
        assert_eq!(legacy.headers["content-type"], "application/json");
    }
    // A request that ran, even with a field error, is a 200 with its data.
    let ran = graphql_accepting(&app, SPEC, "{ categories { id } me { id } }", json!({})).await;
    assert_eq!(ran.status, 200, "{}", ran.body);
    assert!(ran.body["data"]["categories"].is_array());
}

#[tokio::test]
async fn every_node_is_fetched_again_by_its_id() {
    let app = TestApp::new().await;
    let author = app.register("noded").await;
    let fan = app.register("noder").await;
    let post = app
        .create_post(
            &author.token,
            json!({ "title": "Node", "content": "Refetch me.", "published": true }),
        )
        .await;
    let post_id = post["id"].as_str().expect("post id").to_owned();
    let comment = app
        .post(
            &format!("/api/posts/{post_id}/comments"),
            Some(&fan.token),
            json!({ "content": "Refetched." }),
        )
        .await;
    let comment_id = comment.data(201)["id"].as_str().expect("id").to_owned();
    let notifications = app.get("/api/notifications", Some(&author.token)).await;
    let notification_id = notifications.data(200)["items"][0]["id"]
        .as_str()
        .expect("a notification")
        .to_owned();

    const NODE: &str = "query($id: ID!) { node(id: $id) { __typename id ... on Post { title } ... on Comment { content } ... on User { username } ... on Notification { title } } }";
    for (id, typename, field, value) in [
        (&post_id, "Post", "title", "Node"),
        (&comment_id, "Comment", "content", "Refetched."),
        (&author.user_id, "User", "username", "noded"),
        (&notification_id, "Notification", "title", ""),
    ] {
        let found = app
            .graphql(NODE, json!({ "id": id }), Some(&author.token))
            .await;
        let node = &found.body["data"]["node"];
        assert_eq!(node["__typename"], typename, "{}", found.body);
        assert_eq!(&node["id"], id);
        if !value.is_empty() {
            assert_eq!(node[field], value);
        }
    }
    // Another user's notification is nobody else's node; unknown ids are null.
    let foreign = app
        .graphql(NODE, json!({ "id": notification_id }), Some(&fan.token))
        .await;
    assert_eq!(
        foreign.body["data"]["node"],
        Value::Null,
        "{}",
        foreign.body
    );
    let many = app
        .graphql(
            "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
            json!({ "ids": [post_id, "no-such-id", comment_id] }),
            None,
        )
        .await;
    assert_eq!(
        many.body["data"]["nodes"],
        json!([{ "id": post_id }, null, { "id": comment_id }]),
        "{}",
        many.body
    );

    // The schema says so: the Node interface, and every object's id typed ID.
    let sdl = sparkle_universe::graphql::sdl();
    let mut object = "";
    for line in sdl.lines() {
        if let Some(name) = line.strip_prefix("type ") {
            object = name;
        } else if line.starts_with('}') {
            object = "";
        }
        if !object.is_empty() && line.trim_start().starts_with("id:") {
            assert!(
                line.contains("ID"),
                "`{}` of {object} is not an ID",
                line.trim()
            );
        }
    }
    for declaration in [
        "interface Node",
        "type Post implements Node",
        "type Comment implements Node",
        "type User implements Node",
        "type Notification implements Node",
        "node(id: ID!): Node",
    ] {
        assert!(
            sdl.contains(declaration),
            "no `{declaration}` in the schema"
        );
    }
}
