//! Follows over REST and GraphQL: idempotence, counts, lists with cursors, the
//! follow notification, and the rules (not yourself, signed in, rate limited).

use axum::http::Method;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::{Value, json};
use sparkle_universe::config::RateLimit;

use crate::support::{Session, TestApp};

async fn follow(
    app: &TestApp,
    token: Option<&str>,
    username: &str,
) -> crate::support::TestResponse {
    app.call(
        Method::POST,
        &format!("/api/users/{username}/follow"),
        token,
        None,
    )
    .await
}

async fn unfollow(
    app: &TestApp,
    token: Option<&str>,
    username: &str,
) -> crate::support::TestResponse {
    app.call(
        Method::DELETE,
        &format!("/api/users/{username}/follow"),
        token,
        None,
    )
    .await
}

async fn follow_rows(app: &TestApp, follower: &Session, followed: &Session) -> u64 {
    entity::follow::Entity::find()
        .filter(entity::follow::Column::FollowerId.eq(&follower.user_id))
        .filter(entity::follow::Column::FollowingId.eq(&followed.user_id))
        .count(&app.state.db)
        .await
        .expect("count follows")
}

async fn stats(app: &TestApp, username: &str) -> Value {
    app.get(&format!("/api/users/{username}"), None)
        .await
        .data(200)["stats"]
        .clone()
}

/// The usernames of a REST page's items.
fn usernames(page: &Value) -> Vec<&str> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["username"].as_str().expect("username"))
        .collect()
}

#[tokio::test]
async fn following_is_idempotent_and_counted_from_real_rows() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let first = follow(&app, Some(&alice.token), "BOB").await;
    assert_eq!(
        first.data(200),
        &json!({ "following": true, "followers": 1 })
    );
    let again = follow(&app, Some(&alice.token), "bob").await;
    assert_eq!(
        again.data(200),
        &json!({ "following": true, "followers": 1 })
    );
    assert_eq!(follow_rows(&app, &alice, &bob).await, 1);
    assert_eq!(
        stats(&app, "bob").await,
        json!({ "posts": 0, "followers": 1, "following": 0 })
    );
    assert_eq!(
        stats(&app, "alice").await,
        json!({ "posts": 0, "followers": 0, "following": 1 })
    );

    let gone = unfollow(&app, Some(&alice.token), "bob").await;
    assert_eq!(
        gone.data(200),
        &json!({ "following": false, "followers": 0 })
    );
    let gone_again = unfollow(&app, Some(&alice.token), "bob").await;
    assert_eq!(
        gone_again.data(200),
        &json!({ "following": false, "followers": 0 })
    );
    assert_eq!(follow_rows(&app, &alice, &bob).await, 0);
    assert_eq!(
        stats(&app, "alice").await,
        json!({ "posts": 0, "followers": 0, "following": 0 })
    );
}

#[tokio::test]
async fn following_refuses_yourself_strangers_and_anonymous_callers() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    app.register("bob").await;

    for response in [
        follow(&app, Some(&alice.token), "Alice").await,
        unfollow(&app, Some(&alice.token), "alice").await,
    ] {
        response.assert_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["fields"]["username"].is_string(),
            "{}",
            response.body
        );
    }
    follow(&app, Some(&alice.token), "nobody_here")
        .await
        .assert_error(404, "NOT_FOUND");
    unfollow(&app, Some(&alice.token), "nobody_here")
        .await
        .assert_error(404, "NOT_FOUND");
    follow(&app, None, "bob")
        .await
        .assert_error(401, "UNAUTHORIZED");
    unfollow(&app, None, "bob")
        .await
        .assert_error(401, "UNAUTHORIZED");
    assert_eq!(
        stats(&app, "alice").await,
        json!({ "posts": 0, "followers": 0, "following": 0 })
    );
    assert_eq!(
        stats(&app, "bob").await,
        json!({ "posts": 0, "followers": 0, "following": 0 })
    );
}

#[tokio::test]
async fn a_new_follower_is_notified_once_and_announced() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut events = app.state.events.subscribe();

    follow(&app, Some(&alice.token), "bob").await.data(200);
    unfollow(&app, Some(&alice.token), "bob").await.data(200);
    follow(&app, Some(&alice.token), "bob").await.data(200);
    follow(&app, Some(&alice.token), "bob").await.data(200);

    let inbox = app.get("/api/notifications", Some(&bob.token)).await;
    let items = inbox.data(200)["items"].as_array().expect("items").clone();
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["type"], "USER_FOLLOWED");
    assert_eq!(items[0]["read"], false);
    assert_eq!(
        items[0]["actor"],
        json!({ "id": alice.user_id, "username": "alice", "image": null })
    );
    assert_eq!(items[0]["data"], json!({ "userId": alice.user_id }));
    let alice_inbox = app.get("/api/notifications", Some(&alice.token)).await;
    assert_eq!(alice_inbox.data(200)["items"], json!([]));

    let announced = events.try_recv().expect("the notification was announced");
    match announced.as_ref() {
        sparkle_universe::realtime::Event::NotificationAdded { notification } => {
            assert_eq!(notification.user_id, bob.user_id);
            assert_eq!(Some(notification.id.as_str()), items[0]["id"].as_str());
        }
        other => panic!("unexpected event {other:?}"),
    }
    assert!(events.try_recv().is_err(), "announced more than once");
}

#[tokio::test]
async fn follow_lists_page_newest_first_with_opaque_cursors() {
    let app = TestApp::new().await;
    let star = app.register("star").await;
    let mut fans = Vec::new();
    for index in 1..=5 {
        let fan = app.register(&format!("fan_{index}")).await;
        follow(&app, Some(&fan.token), "star").await.data(200);
        fans.push(fan);
    }
    for name in ["fan_2", "fan_3"] {
        follow(&app, Some(&fans[0].token), name).await.data(200);
    }

    let first = app.get("/api/users/star/followers?limit=2", None).await;
    let page = first.data(200);
    assert_eq!(usernames(page), ["fan_5", "fan_4"]);
    assert_eq!(page["hasMore"], true);
    assert_eq!(
        page["items"][0],
        json!({ "id": fans[4].user_id, "username": "fan_5", "image": null })
    );
    let cursor = page["nextCursor"].as_str().expect("next cursor");
    let second = app
        .get(
            &format!("/api/users/star/followers?limit=2&cursor={cursor}"),
            Some(&star.token),
        )
        .await;
    let page = second.data(200);
    assert_eq!(usernames(page), ["fan_3", "fan_2"]);
    let cursor = page["nextCursor"].as_str().expect("next cursor");
    let last = app
        .get(
            &format!("/api/users/STAR/followers?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    let page = last.data(200);
    assert_eq!(usernames(page), ["fan_1"]);
    assert_eq!(page["hasMore"], false);
    assert_eq!(page["nextCursor"], Value::Null);

    let following = app.get("/api/users/fan_1/following", None).await;
    let page = following.data(200);
    assert_eq!(usernames(page), ["fan_3", "fan_2", "star"]);
    assert_eq!(page["hasMore"], false);
    let nobody = app.get("/api/users/star/following", None).await;
    assert_eq!(
        nobody.data(200),
        &json!({ "items": [], "nextCursor": null, "hasMore": false })
    );

    for (query, field) in [
        ("cursor=not-a-cursor", "cursor"),
        ("cursor=bm9wZQ", "cursor"),
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=many", "limit"),
    ] {
        let response = app
            .get(&format!("/api/users/star/followers?{query}"), None)
            .await;
        response.assert_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["fields"][field].is_string(),
            "{query}: {}",
            response.body
        );
    }
    app.get("/api/users/nobody_here/followers", None)
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn follows_are_rate_limited_per_user() {
    let app = TestApp::with_config(|config| {
        config.limits.rate_limit_follow = "2/1h".parse::<RateLimit>().expect("rate");
    })
    .await;
    let alice = app.register("alice").await;
    for name in ["bob", "carol", "dave"] {
        app.register(name).await;
    }
    follow(&app, Some(&alice.token), "bob").await.data(200);
    follow(&app, Some(&alice.token), "carol").await.data(200);
    let limited = follow(&app, Some(&alice.token), "dave").await;
    limited.assert_error(429, "RATE_LIMITED");
    assert!(limited.headers.contains_key("retry-after"));
    assert_eq!(
        stats(&app, "dave").await,
        json!({ "posts": 0, "followers": 0, "following": 0 })
    );
}

const FOLLOW_MUTATION: &str =
    "mutation($u: String!) { follow(username: $u) { following followers } }";
const UNFOLLOW_MUTATION: &str =
    "mutation($u: String!) { unfollow(username: $u) { following followers } }";

#[tokio::test]
async fn graphql_follows_match_rest() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let followed = app
        .graphql(FOLLOW_MUTATION, json!({ "u": "bob" }), Some(&alice.token))
        .await;
    assert_eq!(
        followed.body["data"]["follow"],
        json!({ "following": true, "followers": 1 }),
        "{}",
        followed.body
    );
    let again = app
        .graphql(FOLLOW_MUTATION, json!({ "u": "BOB" }), Some(&alice.token))
        .await;
    assert_eq!(
        again.body["data"]["follow"],
        json!({ "following": true, "followers": 1 })
    );
    assert_eq!(follow_rows(&app, &alice, &bob).await, 1);

    let profile = "query($u: String!) { user(username: $u) { followedByViewer stats { followers following } } }";
    let seen_by_alice = app
        .graphql(profile, json!({ "u": "bob" }), Some(&alice.token))
        .await;
    assert_eq!(
        seen_by_alice.body["data"]["user"],
        json!({ "followedByViewer": true, "stats": { "followers": 1, "following": 0 } })
    );
    let seen_by_bob = app
        .graphql(profile, json!({ "u": "alice" }), Some(&bob.token))
        .await;
    assert_eq!(seen_by_bob.body["data"]["user"]["followedByViewer"], false);
    let anonymous = app.graphql(profile, json!({ "u": "bob" }), None).await;
    assert_eq!(
        anonymous.body["data"]["user"]["followedByViewer"],
        Value::Null
    );

    let unfollowed = app
        .graphql(UNFOLLOW_MUTATION, json!({ "u": "bob" }), Some(&alice.token))
        .await;
    assert_eq!(
        unfollowed.body["data"]["unfollow"],
        json!({ "following": false, "followers": 0 })
    );
    let not_following = app
        .graphql(UNFOLLOW_MUTATION, json!({ "u": "bob" }), Some(&alice.token))
        .await;
    assert_eq!(
        not_following.body["data"]["unfollow"],
        json!({ "following": false, "followers": 0 })
    );

    for (query, username, token, code) in [
        (
            FOLLOW_MUTATION,
            "alice",
            Some(&alice.token),
            "VALIDATION_ERROR",
        ),
        (FOLLOW_MUTATION, "ghost", Some(&alice.token), "NOT_FOUND"),
        (FOLLOW_MUTATION, "bob", None, "UNAUTHORIZED"),
        (UNFOLLOW_MUTATION, "bob", None, "UNAUTHORIZED"),
    ] {
        let response = app
            .graphql(query, json!({ "u": username }), token.map(String::as_str))
            .await;
        assert_eq!(
            response.body["errors"][0]["extensions"]["code"], code,
            "{}",
            response.body
        );
    }
    let yourself = app
        .graphql(FOLLOW_MUTATION, json!({ "u": "alice" }), Some(&alice.token))
        .await;
    assert!(yourself.body["errors"][0]["extensions"]["fields"]["username"].is_string());
}

#[tokio::test]
async fn graphql_follow_connections_match_the_rest_lists() {
    let app = TestApp::new().await;
    let star = app.register("star").await;
    for index in 1..=4 {
        let fan = app.register(&format!("fan_{index}")).await;
        follow(&app, Some(&fan.token), "star").await.data(200);
        follow(&app, Some(&star.token), &format!("fan_{index}"))
            .await
            .data(200);
    }
    let query = "query($first: Int, $after: String) { user(username: \"star\") {
        followers(first: $first, after: $after) { edges { cursor node { id username image followedByViewer } } pageInfo { hasNextPage endCursor } }
        following(first: 10) { edges { node { username } } }
    } }";

    let mut rest_cursor: Option<String> = None;
    let mut graphql_cursor: Option<String> = None;
    let mut seen = Vec::new();
    loop {
        let path = match &rest_cursor {
            Some(cursor) => format!("/api/users/star/followers?limit=3&cursor={cursor}"),
            None => "/api/users/star/followers?limit=3".to_owned(),
        };
        let rest = app.get(&path, Some(&star.token)).await;
        let rest = rest.data(200).clone();
        let graphql = app
            .graphql(
                query,
                json!({ "first": 3, "after": graphql_cursor }),
                Some(&star.token),
            )
            .await;
        let connection = &graphql.body["data"]["user"]["followers"];
        let nodes: Vec<Value> = connection["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|edge| {
                assert_eq!(edge["node"]["followedByViewer"], true, "{edge}");
                json!({ "id": edge["node"]["id"], "username": edge["node"]["username"], "image": edge["node"]["image"] })
            })
            .collect();
        assert_eq!(rest["items"], Value::Array(nodes), "{}", graphql.body);
        assert_eq!(rest["hasMore"], connection["pageInfo"]["hasNextPage"]);
        assert_eq!(
            rest["nextCursor"].as_str().is_some(),
            rest["hasMore"].as_bool().unwrap_or_default()
        );
        let following: Vec<&str> = graphql.body["data"]["user"]["following"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .filter_map(|edge| edge["node"]["username"].as_str())
            .collect();
        assert_eq!(following, ["fan_4", "fan_3", "fan_2", "fan_1"]);
        seen.extend(usernames(&rest).into_iter().map(str::to_owned));
        if rest["hasMore"] != true {
            break;
        }
        rest_cursor = rest["nextCursor"].as_str().map(str::to_owned);
        graphql_cursor = connection["pageInfo"]["endCursor"]
            .as_str()
            .map(str::to_owned);
        assert_eq!(rest_cursor, graphql_cursor, "the two APIs share cursors");
    }
    assert_eq!(seen, ["fan_4", "fan_3", "fan_2", "fan_1"]);

    let bogus = app
        .graphql(query, json!({ "first": 3, "after": "nope" }), None)
        .await;
    assert_eq!(
        bogus.body["errors"][0]["extensions"]["fields"]["after"], "is not a cursor of this list",
        "{}",
        bogus.body
    );
}

#[tokio::test]
async fn follow_fields_cost_the_same_sql_for_2_or_20_followers() {
    let app = TestApp::new().await;
    let star = app.register("star").await;
    for index in 0..20 {
        let fan = app.register(&format!("fan_{index}")).await;
        follow(&app, Some(&fan.token), "star").await.data(200);
    }
    let query = "query($n: Int!) { user(username: \"star\") { followers(first: $n) { edges { node { username followedByViewer stats { followers following } } } } } }";
    let mut statements = Vec::new();
    for n in [2, 20] {
        let response = app
            .graphql(query, json!({ "n": n }), Some(&star.token))
            .await;
        let edges = response.body["data"]["user"]["followers"]["edges"]
            .as_array()
            .expect("edges");
        assert_eq!(edges.len(), n, "{}", response.body);
        assert!(
            edges
                .iter()
                .all(|edge| edge["node"]["stats"]["following"] == 1)
        );
        statements.push(response.body["extensions"]["sqlStatements"].as_u64());
    }
    assert_eq!(statements[0], statements[1], "{statements:?}");
}
