//! Reactions: `/api/posts/{id}/reactions` and `/api/comments/{id}/reactions` over
//! REST, their GraphQL twins (`Post.reactions`, `Comment.reactions`, `react`,
//! `unreact`), the notifications they cause, the sorts they feed, and the SQL cost of
//! nested comment and reaction fields.

use axum::http::Method;
use entity::reaction;
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::{Value, json};
use sparkle_universe::realtime::Event;

use crate::{
    comments::{
        assert_field_error, assert_gql_error, comment_on, comments_page, data_of, delete, gql_data,
        id, ids, moderator, nodes, notification_types, notifications_of, post_by, post_counts,
        read_comment, reply_to,
    },
    support::{Session, TestApp, TestResponse},
};

// ---------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------

/// Every reaction type, in display order.
const TYPES: [&str; 8] = [
    "LIKE",
    "LOVE",
    "FIRE",
    "SPARKLE",
    "MIND_BLOWN",
    "LAUGH",
    "CRY",
    "ANGRY",
];

/// `…/reactions` of a post or a comment.
fn path(target: &Target) -> String {
    match target {
        Target::Post(id) => format!("/api/posts/{id}/reactions"),
        Target::Comment(id) => format!("/api/comments/{id}/reactions"),
    }
}

/// What a test reacts to.
enum Target {
    Post(String),
    Comment(String),
}

/// `PUT …/reactions` with `body`.
async fn put(app: &TestApp, target: &Target, token: Option<&str>, body: Value) -> TestResponse {
    app.call(Method::PUT, &path(target), token, Some(body))
        .await
}

/// Reacts with `kind`; must succeed; returns the summary.
async fn react(app: &TestApp, target: &Target, who: &Session, kind: &str) -> Value {
    put(app, target, Some(&who.token), json!({ "type": kind }))
        .await
        .data(200)
        .clone()
}

/// `DELETE …/reactions`.
async fn unreact(app: &TestApp, target: &Target, token: Option<&str>) -> TestResponse {
    app.call(Method::DELETE, &path(target), token, None).await
}

/// `GET …/reactions`.
async fn summary(app: &TestApp, target: &Target, token: Option<&str>) -> TestResponse {
    app.get(&path(target), token).await
}

/// Reaction counts with `nonzero` set and every other type 0.
fn counts(nonzero: &[(&str, i64)]) -> Value {
    let mut counts = serde_json::Map::new();
    for kind in TYPES {
        let count = nonzero
            .iter()
            .find(|(named, _)| *named == kind)
            .map_or(0, |(_, count)| *count);
        counts.insert(kind.to_owned(), json!(count));
    }
    Value::Object(counts)
}

/// How many reaction rows exist.
async fn stored_reactions(app: &TestApp) -> u64 {
    reaction::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count reactions")
}

/// The GraphQL summary selection.
const SUMMARY_FIELDS: &str = "counts { type count } total viewerReaction";

/// `react(target, type)`.
async fn gql_react(app: &TestApp, target: Value, kind: &str, token: Option<&str>) -> TestResponse {
    let query = format!(
        "mutation($target: ReactionTargetInput!, $type: ReactionType!) {{ react(target: $target, type: $type) {{ {SUMMARY_FIELDS} }} }}"
    );
    app.graphql(&query, json!({ "target": target, "type": kind }), token)
        .await
}

/// `unreact(target)`.
async fn gql_unreact(app: &TestApp, target: Value, token: Option<&str>) -> TestResponse {
    let query = format!(
        "mutation($target: ReactionTargetInput!) {{ unreact(target: $target) {{ {SUMMARY_FIELDS} }} }}"
    );
    app.graphql(&query, json!({ "target": target }), token)
        .await
}

/// A GraphQL summary in the REST shape: `counts` as an object of every type.
fn as_rest(graphql: &Value) -> Value {
    let mut counts = serde_json::Map::new();
    for entry in graphql["counts"].as_array().expect("counts") {
        let kind = entry["type"].as_str().expect("type").to_owned();
        counts.insert(kind, entry["count"].clone());
    }
    json!({ "counts": counts, "total": graphql["total"], "viewerReaction": graphql["viewerReaction"] })
}

/// The types of a GraphQL summary's counts, in order.
fn graphql_types(graphql: &Value) -> Vec<&str> {
    graphql["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|entry| entry["type"].as_str().expect("type"))
        .collect()
}

// ---------------------------------------------------------------------------
// REST
// ---------------------------------------------------------------------------

#[tokio::test]
async fn reacting_to_a_post_returns_a_summary_of_every_type() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Reactable").await;
    let post = Target::Post(post_id.clone());

    let empty = summary(&app, &post, None).await;
    assert_eq!(
        empty.data(200),
        &json!({ "counts": counts(&[]), "total": 0, "viewerReaction": null })
    );

    let given = react(&app, &post, &bob, "FIRE").await;
    assert_eq!(
        given,
        json!({ "counts": counts(&[("FIRE", 1)]), "total": 1, "viewerReaction": "FIRE" })
    );
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await,
        json!({ "comments": 0, "reactions": 1 })
    );
    let as_anonymous = summary(&app, &post, None).await;
    assert_eq!(as_anonymous.data(200)["viewerReaction"], Value::Null);
    let as_alice = summary(&app, &post, Some(&alice.token)).await;
    assert_eq!(as_alice.data(200)["viewerReaction"], Value::Null);
    let as_bob = summary(&app, &post, Some(&bob.token)).await;
    assert_eq!(as_bob.data(200), &given);
}

#[tokio::test]
async fn one_reaction_per_user_replaced_by_another_type_and_idempotent() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let post_id = post_by(&app, &alice, "Mixed feelings").await;
    let post = Target::Post(post_id.clone());

    react(&app, &post, &bob, "LIKE").await;
    let again = react(&app, &post, &bob, "LIKE").await;
    assert_eq!(
        again,
        json!({ "counts": counts(&[("LIKE", 1)]), "total": 1, "viewerReaction": "LIKE" })
    );
    let replaced = react(&app, &post, &bob, "MIND_BLOWN").await;
    assert_eq!(
        replaced,
        json!({ "counts": counts(&[("MIND_BLOWN", 1)]), "total": 1, "viewerReaction": "MIND_BLOWN" })
    );
    react(&app, &post, &carol, "MIND_BLOWN").await;
    let with_alice = react(&app, &post, &alice, "ANGRY").await;
    assert_eq!(
        with_alice,
        json!({
            "counts": counts(&[("MIND_BLOWN", 2), ("ANGRY", 1)]),
            "total": 3,
            "viewerReaction": "ANGRY"
        })
    );
    assert_eq!(stored_reactions(&app).await, 3);
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["reactions"],
        json!(3)
    );
}

#[tokio::test]
async fn removing_a_reaction_is_idempotent_and_keeps_counts_in_step() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Undo").await;
    let post = Target::Post(post_id.clone());
    react(&app, &post, &bob, "LOVE").await;
    react(&app, &post, &alice, "LOVE").await;

    let removed = unreact(&app, &post, Some(&bob.token)).await;
    assert_eq!(
        removed.data(200),
        &json!({ "counts": counts(&[("LOVE", 1)]), "total": 1, "viewerReaction": null })
    );
    let again = unreact(&app, &post, Some(&bob.token)).await;
    assert_eq!(again.data(200), removed.data(200));
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["reactions"],
        json!(1)
    );
    assert_eq!(stored_reactions(&app).await, 1);
}

#[tokio::test]
async fn reactions_with_bad_input_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Strict").await;
    let post = Target::Post(post_id.clone());
    let comment = Target::Comment(id(&comment_on(&app, &alice, &post_id, "c").await));
    let draft = Target::Post(id(&app
        .create_post(
            &alice.token,
            json!({ "title": "Draft", "content": "Not yet" }),
        )
        .await));
    react(&app, &post, &bob, "LIKE").await;

    for target in [&post, &comment] {
        for body in [
            json!({ "type": "MEH" }),
            json!({ "type": "like" }),
            json!({ "type": 1 }),
            json!({ "type": null }),
            json!({}),
        ] {
            assert_field_error(&put(&app, target, Some(&bob.token), body).await, "type");
        }
        put(&app, target, None, json!({ "type": "LIKE" }))
            .await
            .assert_error(401, "UNAUTHORIZED");
        unreact(&app, target, None)
            .await
            .assert_error(401, "UNAUTHORIZED");
    }
    for target in [
        Target::Post("no-such-post".to_owned()),
        Target::Comment("no-such-comment".to_owned()),
        draft,
    ] {
        put(&app, &target, Some(&bob.token), json!({ "type": "LIKE" }))
            .await
            .assert_error(404, "NOT_FOUND");
        unreact(&app, &target, Some(&bob.token))
            .await
            .assert_error(404, "NOT_FOUND");
        summary(&app, &target, Some(&bob.token))
            .await
            .assert_error(404, "NOT_FOUND");
    }

    assert_eq!(stored_reactions(&app).await, 1);
    let as_bob = summary(&app, &post, Some(&bob.token)).await;
    assert_eq!(
        as_bob.data(200),
        &json!({ "counts": counts(&[("LIKE", 1)]), "total": 1, "viewerReaction": "LIKE" })
    );
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await["reactions"],
        json!(1)
    );
}

#[tokio::test]
async fn reactions_are_rate_limited_per_user() {
    let app = TestApp::with_config(|config| {
        config.limits.rate_limit_reaction = "2/1h".parse().expect("rate");
    })
    .await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post = Target::Post(post_by(&app, &alice, "Spam").await);
    react(&app, &post, &bob, "LIKE").await;
    react(&app, &post, &bob, "LOVE").await;
    let limited = put(&app, &post, Some(&bob.token), json!({ "type": "FIRE" })).await;
    limited.assert_error(429, "RATE_LIMITED");
    react(&app, &post, &alice, "FIRE").await;
}

#[tokio::test]
async fn comment_reactions_count_on_the_comment_not_the_post() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Comments react").await;
    let comment_id = id(&comment_on(&app, &alice, &post_id, "react to me").await);
    let comment = Target::Comment(comment_id.clone());

    react(&app, &comment, &bob, "LAUGH").await;
    let summary_now = react(&app, &comment, &alice, "CRY").await;
    assert_eq!(
        summary_now,
        json!({ "counts": counts(&[("LAUGH", 1), ("CRY", 1)]), "total": 2, "viewerReaction": "CRY" })
    );
    assert_eq!(
        read_comment(&app, &comment_id).await.data(200)["_count"],
        json!({ "reactions": 2, "replies": 0 })
    );
    assert_eq!(
        comments_page(&app, &post_id).await["items"][0]["_count"]["reactions"],
        json!(2)
    );
    assert_eq!(
        post_counts(&app, &post_id, &alice.token).await,
        json!({ "comments": 1, "reactions": 0 })
    );
    unreact(&app, &comment, Some(&bob.token)).await.data(200);
    assert_eq!(
        read_comment(&app, &comment_id).await.data(200)["_count"]["reactions"],
        json!(1)
    );
}

#[tokio::test]
async fn deleted_comments_take_reactions_with_them_or_refuse_new_ones() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Cleanup").await;
    let lone = id(&comment_on(&app, &alice, &post_id, "lone").await);
    let parent = id(&comment_on(&app, &alice, &post_id, "parent").await);
    reply_to(&app, &bob, &post_id, &parent, "reply").await;
    react(&app, &Target::Comment(lone.clone()), &bob, "LIKE").await;
    react(&app, &Target::Comment(parent.clone()), &bob, "LIKE").await;

    delete(&app, &lone, Some(&alice.token)).await;
    assert_eq!(
        stored_reactions(&app).await,
        1,
        "a removed comment's reactions go"
    );
    summary(&app, &Target::Comment(lone), None)
        .await
        .assert_error(404, "NOT_FOUND");

    delete(&app, &parent, Some(&alice.token)).await;
    let placeholder = Target::Comment(parent);
    put(
        &app,
        &placeholder,
        Some(&bob.token),
        json!({ "type": "FIRE" }),
    )
    .await
    .assert_error(404, "NOT_FOUND");
    let taken_back = unreact(&app, &placeholder, Some(&bob.token)).await;
    assert_eq!(taken_back.data(200)["total"], json!(0));
}

#[tokio::test]
async fn reactions_notify_the_author_once_per_reacting_user() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Liked").await;
    let post = Target::Post(post_id.clone());
    let comment_id = id(&comment_on(&app, &bob, &post_id, "nice").await);
    let comment = Target::Comment(comment_id.clone());
    let alice_before = notifications_of(&app, &alice.user_id).await.len();

    react(&app, &post, &bob, "LIKE").await;
    unreact(&app, &post, Some(&bob.token)).await.data(200);
    react(&app, &post, &bob, "LIKE").await;
    react(&app, &post, &bob, "FIRE").await;
    let alice_notes = notifications_of(&app, &alice.user_id).await;
    assert_eq!(alice_notes.len(), alice_before + 1);
    let liked = alice_notes.last().expect("POST_LIKED");
    assert_eq!(liked.notification_type, "POST_LIKED");
    assert_eq!(liked.actor_id.as_deref(), Some(bob.user_id.as_str()));
    assert_eq!(
        liked.dedupe_key.as_deref(),
        Some(format!("POST_LIKED:{post_id}:{}", bob.user_id).as_str())
    );
    assert_eq!(data_of(liked)["postId"], json!(post_id));

    react(&app, &comment, &alice, "LOVE").await;
    unreact(&app, &comment, Some(&alice.token)).await.data(200);
    react(&app, &comment, &alice, "LOVE").await;
    let bob_notes = notifications_of(&app, &bob.user_id).await;
    assert_eq!(bob_notes.len(), 1);
    assert_eq!(bob_notes[0].notification_type, "COMMENT_LIKED");
    assert_eq!(
        bob_notes[0].dedupe_key.as_deref(),
        Some(format!("COMMENT_LIKED:{comment_id}:{}", alice.user_id).as_str())
    );
    assert_eq!(
        data_of(&bob_notes[0]),
        json!({ "postId": post_id, "commentId": comment_id, "reaction": "LOVE" })
    );

    // Reacting to your own post or comment notifies nobody.
    react(&app, &post, &alice, "SPARKLE").await;
    react(&app, &comment, &bob, "SPARKLE").await;
    assert_eq!(
        notification_types(&app, &alice.user_id).await.len(),
        alice_before + 1
    );
    assert_eq!(notifications_of(&app, &bob.user_id).await.len(), 1);
}

#[tokio::test]
async fn reaction_changes_are_published_with_the_post_id() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "Live").await;
    let comment_id = id(&comment_on(&app, &alice, &post_id, "live comment").await);
    let mut events = app.state.events.subscribe();

    react(&app, &Target::Post(post_id.clone()), &bob, "LIKE").await;
    react(&app, &Target::Post(post_id.clone()), &bob, "LIKE").await;
    react(&app, &Target::Comment(comment_id.clone()), &bob, "LIKE").await;
    unreact(&app, &Target::Comment(comment_id), Some(&bob.token))
        .await
        .data(200);
    let mut changed = Vec::new();
    let mut notified = 0;
    while let Ok(event) = events.try_recv() {
        match event.as_ref() {
            Event::ReactionsChanged { post_id } => changed.push(post_id.clone()),
            Event::NotificationAdded { .. } => notified += 1,
            _ => {}
        }
    }
    assert_eq!(
        changed,
        vec![post_id.clone(), post_id.clone(), post_id],
        "the repeated LIKE changed nothing"
    );
    assert_eq!(notified, 2);
}

// ---------------------------------------------------------------------------
// GraphQL
// ---------------------------------------------------------------------------

#[tokio::test]
async fn graphql_react_and_unreact_follow_the_rest_rules() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let post_id = post_by(&app, &alice, "GraphQL reactions").await;
    let comment_id = id(&comment_on(&app, &alice, &post_id, "c").await);

    let response = gql_react(
        &app,
        json!({ "postId": post_id }),
        "SPARKLE",
        Some(&bob.token),
    )
    .await;
    let given = &response.body["data"]["react"];
    assert!(response.body.get("errors").is_none(), "{}", response.body);
    assert_eq!(graphql_types(given), TYPES);
    assert_eq!(
        as_rest(given),
        json!({ "counts": counts(&[("SPARKLE", 1)]), "total": 1, "viewerReaction": "SPARKLE" })
    );
    let response = gql_react(
        &app,
        json!({ "commentId": comment_id }),
        "CRY",
        Some(&bob.token),
    )
    .await;
    assert_eq!(
        response.body["data"]["react"]["viewerReaction"],
        json!("CRY")
    );

    let response = gql_unreact(&app, json!({ "postId": post_id }), Some(&bob.token)).await;
    assert_eq!(
        as_rest(&response.body["data"]["unreact"]),
        json!({ "counts": counts(&[]), "total": 0, "viewerReaction": null })
    );

    assert_gql_error(
        &gql_react(&app, json!({ "postId": post_id }), "LIKE", None).await,
        "UNAUTHORIZED",
    );
    assert_gql_error(
        &gql_react(
            &app,
            json!({ "postId": "no-such-post" }),
            "LIKE",
            Some(&bob.token),
        )
        .await,
        "NOT_FOUND",
    );
    assert_gql_error(
        &gql_unreact(
            &app,
            json!({ "commentId": "no-such-comment" }),
            Some(&bob.token),
        )
        .await,
        "NOT_FOUND",
    );
    for (target, kind) in [
        (json!({ "postId": post_id }), "MEH"),
        (
            json!({ "postId": post_id, "commentId": comment_id }),
            "LIKE",
        ),
        (json!({}), "LIKE"),
    ] {
        let response = gql_react(&app, target, kind, Some(&bob.token)).await;
        assert_gql_error(&response, "GRAPHQL_VALIDATION_FAILED");
    }
    assert_eq!(stored_reactions(&app).await, 1);
}

#[tokio::test]
async fn rest_summaries_and_graphql_reactions_agree() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let post_id = post_by(&app, &alice, "Parity").await;
    let comment_id = id(&comment_on(&app, &alice, &post_id, "c").await);
    let post = Target::Post(post_id.clone());
    let comment = Target::Comment(comment_id.clone());
    react(&app, &post, &bob, "FIRE").await;
    react(&app, &post, &carol, "LOVE").await;
    react(&app, &comment, &carol, "LAUGH").await;

    let query = format!(
        "query($id: String!) {{ post(by: {{id: $id}}) {{ reactions {{ {SUMMARY_FIELDS} }} \
         comments {{ edges {{ node {{ reactions {{ {SUMMARY_FIELDS} }} }} }} }} }} }}"
    );
    for viewer in [None, Some(&bob), Some(&carol)] {
        let token = viewer.map(|session| session.token.as_str());
        let graphql = gql_data(&app, &query, json!({ "id": post_id }), token).await;
        let rest_post = summary(&app, &post, token).await;
        assert_eq!(as_rest(&graphql["post"]["reactions"]), *rest_post.data(200));
        let rest_comment = summary(&app, &comment, token).await;
        let graphql_comment = &nodes(&graphql["post"]["comments"])[0]["reactions"];
        assert_eq!(as_rest(graphql_comment), *rest_comment.data(200));
    }
    let graphql = gql_data(&app, &query, json!({ "id": post_id }), Some(&carol.token)).await;
    assert_eq!(
        graphql["post"]["reactions"]["viewerReaction"],
        json!("LOVE")
    );
    assert_eq!(graphql["post"]["reactions"]["total"], json!(2));
}

// ---------------------------------------------------------------------------
// Sorts and SQL budget
// ---------------------------------------------------------------------------

#[tokio::test]
async fn real_reactions_and_comments_change_the_popular_order() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let mut fans = Vec::new();
    for n in 0..4 {
        fans.push(app.register(&format!("fan_{n}")).await);
    }
    let quiet = post_by(&app, &alice, "Quiet").await;
    let liked = post_by(&app, &alice, "Liked").await;
    let discussed = post_by(&app, &alice, "Discussed").await;
    assert_eq!(
        popular_ids(&app).await,
        [discussed.clone(), liked.clone(), quiet.clone()]
    );

    // Two reactions (score 4) beat nothing; a comment (3) alone does not.
    for fan in &fans[0..2] {
        react(&app, &Target::Post(liked.clone()), fan, "LIKE").await;
    }
    comment_on(&app, &fans[2], &discussed, "one comment").await;
    assert_eq!(
        popular_ids(&app).await,
        [liked.clone(), discussed.clone(), quiet.clone()]
    );

    // A reply counts as a comment too: two comments (6) beat two reactions (4).
    let first = id(&comments_page(&app, &discussed).await["items"][0]);
    reply_to(&app, &fans[0], &discussed, &first, "a reply").await;
    assert_eq!(
        popular_ids(&app).await,
        [discussed.clone(), liked.clone(), quiet.clone()]
    );

    // Taking a reaction back lowers the score; four reactions (8) beat two comments.
    unreact(&app, &Target::Post(liked.clone()), Some(&fans[0].token))
        .await
        .data(200);
    for fan in &fans {
        react(&app, &Target::Post(quiet.clone()), fan, "FIRE").await;
    }
    let graphql = gql_data(
        &app,
        "{ posts(sort: POPULAR) { edges { node { id counts { comments reactions } } } } }",
        json!({}),
        None,
    )
    .await;
    let graphql_order: Vec<String> = nodes(&graphql["posts"]).into_iter().map(id).collect();
    assert_eq!(
        graphql_order,
        [quiet.clone(), discussed.clone(), liked.clone()]
    );
    assert_eq!(popular_ids(&app).await, graphql_order);
    assert_eq!(
        nodes(&graphql["posts"])[0]["counts"],
        json!({ "comments": 0, "reactions": 4 })
    );
    let moderator = moderator(&app).await;
    delete(&app, &first, Some(&moderator.token)).await;
    assert_eq!(
        post_counts(&app, &discussed, &alice.token).await["comments"],
        json!(2),
        "a comment with a reply stays as a placeholder and keeps counting"
    );
}

/// The ids of `GET /api/posts?sort=popular`, in order.
async fn popular_ids(app: &TestApp) -> Vec<String> {
    let page = app.get("/api/posts?sort=popular", None).await;
    ids(&page.data(200)["items"])
}

/// Publishes `count` posts, each by its own author, with two comments by distinct
/// authors, each comment and the post reacted to, so naive resolvers would need
/// statements per post and per comment.
async fn seed_conversations(app: &TestApp, viewer: &Session, count: usize) {
    for index in 0..count {
        let author = app.register(&format!("author_{index}")).await;
        let post_id = post_by(app, &author, &format!("Post {index}")).await;
        for n in 0..2 {
            let commenter = app.register(&format!("commenter_{index}_{n}")).await;
            let comment_id = id(&comment_on(app, &commenter, &post_id, "words").await);
            react(app, &Target::Comment(comment_id), &author, "LOVE").await;
        }
        react(app, &Target::Post(post_id), viewer, "FIRE").await;
    }
}

#[tokio::test]
async fn nested_comment_and_reaction_fields_cost_the_same_sql_for_5_or_20_posts() {
    let app = TestApp::new().await;
    let viewer = app.register("viewer").await;
    seed_conversations(&app, &viewer, 20).await;
    let query = "query($n: Int!) { posts(first: $n) { edges { node { \
                 reactions { total viewerReaction } \
                 comments(first: 5) { edges { node { author { username } reactions { total } } } } \
                 } } } }";
    let mut statements = Vec::new();
    for n in [5, 20] {
        for token in [None, Some(viewer.token.as_str())] {
            let response = app.graphql(query, json!({ "n": n }), token).await;
            assert!(response.body.get("errors").is_none(), "{}", response.body);
            let posts = nodes(&response.body["data"]["posts"]);
            assert_eq!(posts.len(), n);
            for post in &posts {
                assert_eq!(post["reactions"]["total"], json!(1));
                let expected = token.map_or(Value::Null, |_| json!("FIRE"));
                assert_eq!(post["reactions"]["viewerReaction"], expected);
                let comments = nodes(&post["comments"]);
                assert_eq!(comments.len(), 2);
                assert!(comments.iter().all(|comment| {
                    comment["reactions"]["total"] == json!(1)
                        && comment["author"]["username"]
                            .as_str()
                            .is_some_and(|name| name.starts_with("commenter_"))
                }));
            }
            let reported = response.body["extensions"]["sqlStatements"]
                .as_u64()
                .expect("sqlStatements");
            statements.push((n, token.is_some(), reported));
        }
    }
    let count = |n: usize, signed_in: bool| {
        statements
            .iter()
            .find(|(size, viewer, _)| *size == n && *viewer == signed_in)
            .map(|(_, _, count)| *count)
            .expect("measured")
    };
    assert_eq!(count(5, false), count(20, false), "{statements:?}");
    assert_eq!(count(5, true), count(20, true), "{statements:?}");
    // posts, comment pages, comment authors, comment reaction counts, post reaction
    // counts; signed in: the account and the viewer's reactions too.
    assert!(count(5, false) <= 5, "{statements:?}");
    assert!(count(5, true) <= 7, "{statements:?}");
}
