//! The REST API for third parties: thin aide handlers (extract → domain → envelope),
//! the generated OpenAPI document and its interactive docs page.

mod auth;
mod comments;
pub mod extract;
mod moderation;
mod notifications;
mod posts;
mod reactions;
pub mod respond;
mod social;
mod users;

use std::sync::Arc;

use aide::{
    axum::{ApiRouter, IntoApiResponse, routing::get},
    openapi::{Contact, Info, License, OpenApi, SecurityScheme, Server, Tag},
    scalar::Scalar,
    transform::TransformOpenApi,
};
use axum::{Extension, Json, Router};

use crate::{html::HtmlPage, state::AppState};

/// Where the generated document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";
/// Where the interactive docs are served.
pub const DOCS_PATH: &str = "/api/docs";

/// Every REST route, the OpenAPI document and the docs page.
pub fn router() -> Router<AppState> {
    let mut api = OpenApi::default();
    let docs = HtmlPage::new(offline_docs(
        Scalar::new(OPENAPI_PATH)
            .with_title("Sparkle Universe API")
            .html(),
    ));
    let router = api_routes()
        .route(OPENAPI_PATH, get(serve_openapi))
        .finish_api_with(&mut api, describe_api)
        .route(
            DOCS_PATH,
            axum::routing::get(move || std::future::ready(docs.clone())),
        );
    router.layer(Extension(Arc::new(api)))
}

/// The docs page without what it would fetch from the internet: Scalar loads its
/// fonts from its own site unless told not to. The system's sans-serif fonts stand in
/// (aide's theme names a font variable it never defines, which would leave a serif).
fn offline_docs(html: String) -> String {
    const SYSTEM_FONTS: &str = "<style>:root, .light-mode, .dark-mode { --scalar-font: system-ui, -apple-system, \"Segoe UI\", Roboto, \"DejaVu Sans\", sans-serif !important; }</style>\n</head>";
    html.replacen(
        "var configuration = {",
        "var configuration = {\n                    withDefaultFonts: false,",
        1,
    )
    .replacen("</head>", SYSTEM_FONTS, 1)
}

/// The generated OpenAPI document (for `sparkle export-schema` and tests).
pub fn openapi() -> OpenApi {
    let mut api = OpenApi::default();
    let _router: Router<AppState> = api_routes().finish_api_with(&mut api, describe_api);
    api
}

fn api_routes() -> ApiRouter<AppState> {
    aide::generate::extract_schemas(true);
    aide::generate::infer_responses(true);
    ApiRouter::new()
        .merge(auth::routes())
        .merge(moderation::routes())
        .merge(users::routes())
        .merge(posts::routes())
        .merge(comments::routes())
        .merge(reactions::routes())
        .merge(social::routes())
        .merge(notifications::routes())
}

async fn serve_openapi(Extension(api): Extension<Arc<OpenApi>>) -> impl IntoApiResponse {
    Json(api)
}

fn describe_api(api: TransformOpenApi<'_>) -> TransformOpenApi<'_> {
    api.info(Info {
        title: "Sparkle Universe API".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        description: Some("The next-generation community platform for Sparkle YouTube fans".into()),
        contact: Some(Contact {
            name: Some("Sparkle Universe Support".into()),
            email: Some("support@sparkle-universe.com".into()),
            url: Some("https://sparkle-universe.com/support".into()),
            ..Default::default()
        }),
        license: Some(License {
            name: "MIT".into(),
            url: Some("https://opensource.org/licenses/MIT".into()),
            ..Default::default()
        }),
        ..Default::default()
    })
    .server(Server {
        url: "/".into(),
        description: Some("This server".into()),
        ..Default::default()
    })
    .tag(Tag {
        name: "Authentication".into(),
        description: Some("Authentication endpoints".into()),
        ..Default::default()
    })
    .tag(Tag {
        name: "Users".into(),
        description: Some("User management endpoints".into()),
        ..Default::default()
    })
    .tag(Tag {
        name: "Posts".into(),
        description: Some("Blog post endpoints".into()),
        ..Default::default()
    })
    .tag(Tag {
        name: comments::TAG.into(),
        description: Some("Comments and replies on posts".into()),
        ..Default::default()
    })
    .tag(Tag {
        name: reactions::TAG.into(),
        description: Some("Reactions on posts and comments".into()),
        ..Default::default()
    })
    .tag(Tag {
        name: social::TAG.into(),
        description: Some("Following other users".into()),
        ..Default::default()
    })
    .tag(Tag {
        name: notifications::TAG.into(),
        description: Some("User notifications".into()),
        ..Default::default()
    })
    .security_scheme(
        "bearerAuth",
        SecurityScheme::Http {
            scheme: "bearer".into(),
            bearer_format: Some("JWT".into()),
            description: Some("Access token from /api/auth/login".into()),
            extensions: Default::default(),
        },
    )
}
