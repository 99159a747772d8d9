//! The REST API for third parties: thin aide handlers (extract → domain → envelope),
//! the generated OpenAPI document and its interactive docs page.

mod auth;
mod byte_range;
mod comments;
pub mod extract;
mod jobs;
mod mail;
mod moderation;
mod notifications;
mod posts;
mod reactions;
pub mod respond;
mod social;
pub mod uploads;
mod users;

use std::sync::Arc;

use aide::{
    axum::ApiRouter,
    openapi::{Contact, Info, License, OpenApi, SecurityScheme, Server, Tag},
    scalar::Scalar,
    transform::TransformOpenApi,
};
use axum::{Router, http::header, response::IntoResponse};

use crate::{html::HtmlPage, state::AppState};

/// Where the generated document is served.
pub const OPENAPI_PATH: &str = "/api/openapi.json";
/// Where the interactive docs are served.
pub const DOCS_PATH: &str = "/api/docs";

/// Every REST route, the OpenAPI document and the docs page.
pub fn router() -> Router<AppState> {
    let (routes, document) = documented_routes();
    // Serialised once: the document never changes while the server runs.
    let document: Arc<str> = document.to_string().into();
    let docs = HtmlPage::new(offline_docs(
        Scalar::new(OPENAPI_PATH)
            .with_title("Sparkle Universe API")
            .html(),
    ));
    // Neither route is part of the API the document describes.
    routes
        .route(
            OPENAPI_PATH,
            axum::routing::get(move || {
                let json = [(header::CONTENT_TYPE, "application/json")];
                std::future::ready((json, document.to_string()).into_response())
            }),
        )
        .route(
            DOCS_PATH,
            axum::routing::get(move || std::future::ready(docs.clone())),
        )
}

/// The generated OpenAPI document, exactly as `/api/openapi.json` serves it (for
/// `sparkle export-schema` and tests).
pub fn openapi() -> serde_json::Value {
    documented_routes().1
}

/// The API's routes and the document that describes them, with readable schema names.
fn documented_routes() -> (Router<AppState>, serde_json::Value) {
    let mut api = OpenApi::default();
    let routes = api_routes().finish_api_with(&mut api, describe_api);
    let mut document = serde_json::to_value(&api).unwrap_or_else(|err| {
        tracing::error!(%err, "cannot serialise the OpenAPI document");
        serde_json::Value::Null
    });
    readable_schema_names(&mut document);
    (routes, document)
}

/// Names schemas of lists as a generated client should: `CategoryListResponse`, not
/// `Array_of_CategoryResponse` (generic types name themselves with `#[schemars(rename)]`).
fn readable_schema_names(document: &mut serde_json::Value) {
    let rename = |name: &str| match name.strip_prefix("Array_of_") {
        Some(items) => match items.strip_suffix("Response") {
            Some(item) => format!("{item}ListResponse"),
            None => format!("{items}List"),
        },
        None => name.to_owned(),
    };
    if let Some(schemas) = document
        .pointer_mut("/components/schemas")
        .and_then(serde_json::Value::as_object_mut)
    {
        let renamed: serde_json::Map<String, serde_json::Value> = std::mem::take(schemas)
            .into_iter()
            .map(|(name, schema)| (rename(&name), schema))
            .collect();
        *schemas = renamed;
    }
    let mut pending = vec![document];
    while let Some(value) = pending.pop() {
        match value {
            serde_json::Value::Object(fields) => {
                for (key, field) in fields.iter_mut() {
                    match field {
                        serde_json::Value::String(reference) if key == "$ref" => {
                            if let Some(name) = reference.strip_prefix("#/components/schemas/") {
                                *reference = format!("#/components/schemas/{}", rename(name));
                            }
                        }
                        _ => pending.push(field),
                    }
                }
            }
            serde_json::Value::Array(items) => pending.extend(items.iter_mut()),
            _ => {}
        }
    }
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
        .merge(jobs::routes())
        .merge(mail::routes())
        .merge(uploads::routes())
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
    .tag(Tag {
        name: jobs::TAG.into(),
        description: Some("The background job queue, for administrators".into()),
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
