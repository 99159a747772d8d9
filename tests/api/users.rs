//! `/api/users/*` and their GraphQL twins: profiles, stats from real rows, edits.

use serde_json::{Value, json};

use crate::support::TestApp;

const PROFILE_FIELDS: &str = "id username email status emailVerified image imageMedia { id url width height blurhash variants { width height contentType url } } role level experience createdAt bio profile { displayName location website socialLinks { twitter instagram youtube } } stats { posts followers following }";

#[tokio::test]
async fn profiles_show_public_fields_and_real_post_counts() {
    let app = TestApp::new().await;
    let author = app.register("Author_One").await;
    let reader = app.register("reader").await;
    for (title, published) in [("one", true), ("two", true), ("draft", false)] {
        app.create_post(
            &author.token,
            json!({ "title": title, "content": "text", "published": published }),
        )
        .await;
    }

    let profile = app.get("/api/users/author_one", Some(&reader.token)).await;
    let data = profile.data(200);
    assert_eq!(data["username"], "Author_One");
    assert_eq!(data["id"], author.user_id.as_str());
    assert_eq!(
        data["stats"],
        json!({ "posts": 2, "followers": 0, "following": 0 })
    );
    assert!(
        data.get("email").is_none(),
        "another user's email must stay private: {data}"
    );
    assert_eq!(data["role"], "USER");

    let own = app.get("/api/users/Author_One", Some(&author.token)).await;
    assert_eq!(own.data(200)["email"], "author_one@example.com");

    app.get("/api/users/nobody_here", None)
        .await
        .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn editing_a_profile_changes_only_what_is_sent() {
    let app = TestApp::new().await;
    let user = app.register("editor").await;
    let first = app
        .call(
            axum::http::Method::PATCH,
            "/api/users/me",
            Some(&user.token),
            Some(json!({ "bio": "Sparkle fan", "displayName": "Ed", "website": "https://ed.example.com", "twitter": "@ed" })),
        )
        .await;
    let data = first.data(200);
    assert_eq!(data["bio"], "Sparkle fan");
    assert_eq!(data["profile"]["displayName"], "Ed");
    assert_eq!(data["profile"]["socialLinks"]["twitter"], "@ed");

    let second = app
        .call(
            axum::http::Method::PATCH,
            "/api/users/me",
            Some(&user.token),
            Some(json!({ "location": "Paris", "twitter": "" })),
        )
        .await;
    let data = second.data(200);
    assert_eq!(data["bio"], "Sparkle fan");
    assert_eq!(data["profile"]["displayName"], "Ed");
    assert_eq!(data["profile"]["location"], "Paris");
    assert_eq!(data["profile"]["socialLinks"]["twitter"], Value::Null);

    let public = app.get("/api/users/editor", None).await;
    assert_eq!(public.data(200)["profile"]["location"], "Paris");
}

#[tokio::test]
async fn bad_profile_edits_are_refused_and_change_nothing() {
    let app = TestApp::new().await;
    let user = app.register("careful").await;
    let cases = [
        (json!({ "bio": "x".repeat(501) }), "bio"),
        (json!({ "website": "javascript:alert(1)" }), "website"),
        (json!({ "image": "not a url" }), "image"),
        (json!({ "displayName": "d".repeat(51) }), "displayName"),
        (json!({ "bio": 42 }), "bio"),
        (json!({ "role": "ADMIN" }), "role"),
    ];
    for (body, field) in cases {
        let response = app
            .call(
                axum::http::Method::PATCH,
                "/api/users/me",
                Some(&user.token),
                Some(body.clone()),
            )
            .await;
        response.assert_error(400, "VALIDATION_ERROR");
        assert!(
            response.body["fields"][field].is_string(),
            "{body}: {}",
            response.body
        );
    }
    let anonymous = app
        .call(
            axum::http::Method::PATCH,
            "/api/users/me",
            None,
            Some(json!({ "bio": "hi" })),
        )
        .await;
    anonymous.assert_error(401, "UNAUTHORIZED");

    let unchanged = app.get("/api/users/careful", None).await;
    let data = unchanged.data(200);
    assert_eq!(data["bio"], Value::Null);
    assert_eq!(data["role"], "USER");
    assert_eq!(data["profile"]["displayName"], Value::Null);
}

#[tokio::test]
async fn graphql_user_matches_the_rest_profile() {
    let app = TestApp::new().await;
    let user = app.register("twin").await;
    app.create_post(
        &user.token,
        json!({ "title": "hello", "content": "text", "published": true }),
    )
    .await;
    let edit = app
        .graphql(
            &format!("mutation {{ updateProfile(input: {{bio: \"Both APIs\", youtube: \"twin-channel\"}}) {{ {PROFILE_FIELDS} }} }}"),
            json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(
        edit.body["data"]["updateProfile"]["bio"], "Both APIs",
        "{}",
        edit.body
    );

    for token in [None, Some(user.token.as_str())] {
        let rest = app.get("/api/users/twin", token).await;
        let graphql = app
            .graphql(
                &format!("{{ user(username: \"TWIN\") {{ {PROFILE_FIELDS} }} }}"),
                json!({}),
                token,
            )
            .await;
        let mut from_graphql = graphql.body["data"]["user"].clone();
        // REST leaves out what only the account itself may see; GraphQL answers null.
        for private in ["email", "status", "emailVerified"] {
            if from_graphql[private].is_null() {
                from_graphql
                    .as_object_mut()
                    .expect("object")
                    .remove(private);
            }
        }
        assert_eq!(
            rest.data(200),
            &from_graphql,
            "REST and GraphQL disagree (token: {})",
            token.is_some()
        );
    }

    let me_rest = app.get("/api/auth/me", Some(&user.token)).await;
    let me_graphql = app
        .graphql(
            &format!("{{ me {{ {PROFILE_FIELDS} }} }}"),
            json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(me_rest.data(200), &me_graphql.body["data"]["me"]);

    let missing = app
        .graphql("{ user(username: \"ghost\") { id } }", json!({}), None)
        .await;
    assert_eq!(missing.body["errors"][0]["extensions"]["code"], "NOT_FOUND");
    let bad_edit = app
        .graphql(
            "mutation { updateProfile(input: {website: \"ftp://x\"}) { id } }",
            json!({}),
            Some(&user.token),
        )
        .await;
    assert_eq!(
        bad_edit.body["errors"][0]["extensions"]["code"],
        "VALIDATION_ERROR"
    );
    assert!(bad_edit.body["errors"][0]["extensions"]["fields"]["website"].is_string());
    let anonymous_edit = app
        .graphql(
            "mutation { updateProfile(input: {bio: \"x\"}) { id } }",
            json!({}),
            None,
        )
        .await;
    assert_eq!(
        anonymous_edit.body["errors"][0]["extensions"]["code"],
        "UNAUTHORIZED"
    );
}
