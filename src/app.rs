//! The HTTP application: REST, GraphQL, health checks and the layers around them.

use std::time::{Duration, Instant};

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderName, HeaderValue, Method, StatusCode, header},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::{
    cors::{AllowOrigin, CorsLayer},
    set_header::SetResponseHeaderLayer,
    timeout::RequestBodyTimeoutLayer,
};

use crate::{
    auth, db::SqlCounter, error::AppError, graphql, html::HtmlPage,
    mail::transport::TransportHealth, media::storage::StorageHealth, metrics, request_log, rest,
    state::AppState,
};

/// The whole application over `state`; tests drive this same router.
///
/// Health checks sit outside the credentials layer, so monitors are never rate
/// limited. Every response says `nosniff`, and is `no-store` unless it chose its own
/// caching (API answers carry tokens and private data; static assets are cacheable).
pub fn app(state: AppState) -> Router {
    let schema = graphql::schema(&state);
    let config = &state.config;
    let api = Router::new()
        .merge(rest::router())
        .merge(graphql::router(schema))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::credentials_layer,
        ))
        .layer(middleware::from_fn(refuse_nul_in_path));
    Router::new()
        .route("/", get(home))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics::serve_metrics))
        .merge(api)
        .layer(DefaultBodyLimit::max(config.server.body_limit_bytes))
        .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(
            config.server.body_read_timeout_secs.max(1),
        )))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            refuse_oversized_body,
        ))
        .layer(cors(&config.server.cors_allowed_origins))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(middleware::from_fn_with_state(state.clone(), sql_budget))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_log::request_log_layer,
        ))
        .with_state(state)
}

/// Cross-origin access for exactly `origins` (none: no CORS headers at all, so
/// browsers keep other sites out). Tokens travel in `Authorization`, not cookies,
/// so credentials mode is not needed.
fn cors(origins: &[String]) -> CorsLayer {
    let origins: Vec<HeaderValue> = origins
        .iter()
        .filter(|origin| !origin.is_empty())
        .filter_map(|origin| HeaderValue::from_str(origin.trim_end_matches('/')).ok())
        .collect();
    if origins.is_empty() {
        return CorsLayer::new();
    }
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins))
        .allow_methods([
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, header::ACCEPT])
        .expose_headers([
            header::RETRY_AFTER,
            HeaderName::from_static("server-timing"),
        ])
        .max_age(Duration::from_secs(600))
}

/// Answers 413 at once when the declared `Content-Length` is over the body limit,
/// before any handler (or the client) spends time on the body.
async fn refuse_oversized_body(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let limit = u64::try_from(state.config.server.body_limit_bytes).unwrap_or(u64::MAX);
    // An upload enforces the size its URL was signed for instead.
    let is_upload = request
        .uri()
        .path()
        .starts_with(rest::uploads::LOCAL_UPLOAD_PREFIX);
    if !is_upload && declared.is_some_and(|length| length > limit) {
        let mut response = AppError::PayloadTooLarge.into_response();
        // The unread body would otherwise keep the connection busy.
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    next.run(request).await
}

/// The front door: links to GraphiQL, the API docs, the OpenAPI document and the
/// health checks, as a page for browsers and as JSON for clients that ask for it.
async fn home(headers: axum::http::HeaderMap) -> Response {
    static PAGE: std::sync::LazyLock<HtmlPage> = std::sync::LazyLock::new(|| {
        HtmlPage::new(
            include_str!("../assets/home.html").replace("{{version}}", env!("CARGO_PKG_VERSION")),
        )
    });
    let wants_json = headers
        .get(header::ACCEPT)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|accept| accept.contains("json") && !accept.contains("text/html"));
    if !wants_json {
        return PAGE.clone().into_response();
    }
    Json(serde_json::json!({
        "name": "Sparkle Universe API",
        "version": env!("CARGO_PKG_VERSION"),
        "links": {
            "graphql": "/graphql",
            "graphqlWebSocket": "/graphql/ws",
            "docs": rest::DOCS_PATH,
            "openapi": rest::OPENAPI_PATH,
            "health": "/health",
            "ready": "/ready",
        },
    }))
    .into_response()
}

#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
    /// Whether each mail transport can take mail (on `/ready`).
    #[serde(skip_serializing_if = "Option::is_none")]
    mail: Option<Vec<TransportHealth>>,
    /// Whether the storage of uploads answers (on `/ready`).
    #[serde(skip_serializing_if = "Option::is_none")]
    uploads: Option<StorageHealth>,
}

/// Alive: the process answers.
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok",
        mail: None,
        uploads: None,
    })
}

/// Ready: the database answers and, with Redis, the event bus is subscribed (503
/// otherwise). The mail transports and the storage of uploads are reported too: one
/// that cannot be reached makes the status `degraded` but not unready, as mail waits
/// in the queue meanwhile and everything but uploads works.
async fn ready(State(state): State<AppState>) -> Response {
    let problem = if !crate::db::is_reachable(&state.db).await {
        Some("database unreachable")
    } else if !state.events.is_connected() {
        Some("redis unreachable")
    } else {
        None
    };
    let (mail, uploads) = tokio::join!(state.mail.mailer.probe(), state.media.storage.health());
    match problem {
        None => {
            let status = if mail.iter().all(|transport| transport.reachable) && uploads.reachable {
                "ready"
            } else {
                "degraded"
            };
            Json(Health {
                status,
                mail: Some(mail),
                uploads: Some(uploads),
            })
            .into_response()
        }
        Some(status) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status,
                mail: Some(mail),
                uploads: Some(uploads),
            }),
        )
            .into_response(),
    }
}

async fn not_found() -> AppError {
    AppError::NotFound("Route")
}

/// No id, slug or username holds a NUL character, so a path with one names nothing
/// (and would fail on PostgreSQL, which cannot compare text holding it).
async fn refuse_nul_in_path(request: Request, next: Next) -> Response {
    if request.uri().path().contains("%00") {
        return AppError::NotFound("Resource").into_response();
    }
    next.run(request).await
}

async fn method_not_allowed() -> AppError {
    AppError::MethodNotAllowed
}

/// Counts the SQL statements a request runs and reports them, with the total time,
/// in `Server-Timing: sql;desc="SQL statements";count=N, total;dur=MS`.
async fn sql_budget(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let counter = SqlCounter::default();
    let mut response = counter.clone().scope(next.run(request)).await;
    state
        .metrics
        .sql_statements
        .inc_by(u64::from(counter.count()));
    let millis = started.elapsed().as_secs_f64() * 1000.0;
    let timing = format!(
        r#"sql;desc="SQL statements";count={}, total;dur={millis:.2}"#,
        counter.count()
    );
    if let Ok(value) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}
