//! Contracts: the generated OpenAPI document covers the seed's document (every
//! operation of it), and the checked-in `schema.graphql` matches the code.

use serde_json::Value;

use crate::{contract_check::coverage_problems, support::TestApp};

const SEED: &str = include_str!("../fixtures/seed-openapi.json");

/// Paths of the seed this server implements so far.
fn implemented(path: &str) -> bool {
    path.starts_with("/api/auth")
        || path.starts_with("/api/users")
        || path.starts_with("/api/posts")
        || path.starts_with("/api/notifications")
        || path.starts_with("/api/upload")
}

async fn generated_openapi(app: &TestApp) -> Value {
    let response = app.get("/api/openapi.json", None).await;
    assert_eq!(response.status, 200);
    response.body
}

#[tokio::test]
async fn generated_openapi_is_a_valid_openapi_3_document() {
    let app = TestApp::new().await;
    let document = generated_openapi(&app).await;
    assert!(
        document["openapi"]
            .as_str()
            .is_some_and(|version| version.starts_with("3.")),
        "{}",
        document["openapi"]
    );
    let typed: Result<aide::openapi::OpenApi, _> = serde_json::from_str(&document.to_string());
    assert!(typed.is_ok(), "not an OpenAPI document: {:?}", typed.err());
    assert_eq!(
        document["components"]["securitySchemes"]["bearerAuth"]["scheme"],
        "bearer"
    );
    assert_eq!(
        document["paths"]["/api/posts"]["post"]["security"][0]["bearerAuth"],
        Value::Array(Vec::new())
    );
}

#[tokio::test]
async fn generated_openapi_covers_the_seed_contract() {
    let app = TestApp::new().await;
    let seed: Value = serde_json::from_str(SEED).expect("seed fixture");
    let generated = generated_openapi(&app).await;
    let problems = coverage_problems(&seed, &generated, &implemented);
    assert!(
        problems.is_empty(),
        "the generated OpenAPI breaks the seed contract:\n{}",
        problems.join("\n")
    );
}

#[tokio::test]
async fn the_docs_page_and_graphiql_work_offline() {
    let app = TestApp::new().await;
    for (path, marker) in [
        ("/api/docs", "/api/openapi.json"),
        ("/graphql", "/graphql/assets/graphiql.min.js"),
    ] {
        let request = axum::http::Request::get(path)
            .header("accept", "text/html")
            .body(axum::body::Body::empty())
            .expect("request");
        let page = app.send(request).await;
        assert_eq!(page.status, 200, "{path}");
        let html = page.body.as_str().expect("html page");
        assert!(html.contains(marker), "{path} does not load {marker}");
        let external = external_loads(html);
        assert!(
            external.is_empty(),
            "{path} loads external resources: {external:?}"
        );
        if path == "/api/docs" {
            // Scalar would fetch its fonts from its own site.
            assert!(html.contains("withDefaultFonts: false"), "docs fetch fonts");
        }
    }
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
    ] {
        let response = app.get(&format!("/graphql/assets/{asset}"), None).await;
        assert_eq!(response.status, 200, "{asset}");
        assert!(
            response.body.as_str().is_some_and(|body| body.len() > 1000),
            "{asset} is empty"
        );
    }
    app.get("/graphql/assets/secret.txt", None)
        .await
        .assert_error(404, "NOT_FOUND");
}

/// `<script …>` and `<link …>` tags of `html` that point at another host.
fn external_loads(html: &str) -> Vec<&str> {
    ["<script", "<link"]
        .iter()
        .flat_map(|opening| html.match_indices(opening))
        .filter_map(|(start, _)| html[start..].split_once('>').map(|(tag, _)| tag))
        .filter(|tag| tag.contains("http:") || tag.contains("https:") || tag.contains("src=\"//"))
        .collect()
}

#[test]
fn schema_graphql_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let checked_in = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        checked_in == sparkle_universe::graphql::sdl(),
        "schema.graphql is out of date: run `cargo run -- export-schema`"
    );
}

#[tokio::test]
async fn the_front_door_links_everything_a_newcomer_needs() {
    let app = TestApp::new().await;
    let page = app
        .send(
            axum::http::Request::get("/")
                .header("accept", "text/html,application/xhtml+xml")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(page.status, 200);
    let html = page.body.as_str().expect("html");
    for link in [
        "href=\"/graphql\"",
        "href=\"/api/docs\"",
        "href=\"/api/openapi.json\"",
        "href=\"/health\"",
        "href=\"/ready\"",
    ] {
        assert!(html.contains(link), "no {link}");
    }
    assert!(external_loads(html).is_empty());
    assert!(page.headers.contains_key("content-security-policy"));

    let json = app
        .send(
            axum::http::Request::get("/")
                .header("accept", "application/json")
                .body(axum::body::Body::empty())
                .expect("request"),
        )
        .await;
    assert_eq!(json.body["links"]["openapi"], "/api/openapi.json");
    assert_eq!(json.body["links"]["graphql"], "/graphql");
}

#[tokio::test]
async fn the_served_openapi_document_is_the_checked_in_one() {
    let app = TestApp::new().await;
    let served = generated_openapi(&app).await;
    assert_eq!(
        served,
        sparkle_universe::rest::openapi(),
        "export-schema writes another document than the server serves"
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json");
    let checked_in: Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
            .unwrap_or_default();
    assert!(
        checked_in == served,
        "openapi.json is out of date: run `cargo run -- export-schema --openapi openapi.json`"
    );
    // Only the API's own types, with names a generated client can use.
    let names: Vec<&String> = served["components"]["schemas"]
        .as_object()
        .expect("schemas")
        .keys()
        .collect();
    for name in &names {
        assert!(
            name.chars().all(char::is_alphanumeric),
            "schema name {name} is not a plain identifier"
        );
    }
    for library_type in ["OpenApi", "Operation", "ApiKeyLocation", "PathItem"] {
        assert!(
            !names.iter().any(|name| name.as_str() == library_type),
            "the document describes {library_type}"
        );
    }
    assert!(names.iter().any(|name| name.as_str() == "PostPage"));
}
