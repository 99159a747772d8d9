//! The HTTP application: REST, GraphQL, health checks and the layers around them.

use std::time::Instant;

use axum::{
    Json, Router,
    extract::{DefaultBodyLimit, Request, State},
    http::{HeaderValue, StatusCode},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::get,
};
use tower_http::trace::TraceLayer;

use crate::{auth, db::SqlCounter, error::AppError, graphql, rest, state::AppState};

/// The whole application over `state`; tests drive this same router.
pub fn app(state: AppState) -> Router {
    let schema = graphql::schema(&state);
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .merge(rest::router())
        .merge(graphql::router(schema))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::credentials_layer,
        ))
        .layer(DefaultBodyLimit::max(state.config.body_limit_bytes))
        .layer(middleware::from_fn(sql_budget))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

#[derive(serde::Serialize)]
struct Health {
    status: &'static str,
}

/// Alive: the process answers.
async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready: the database answers.
async fn ready(State(state): State<AppState>) -> Response {
    if crate::db::is_reachable(&state.db).await {
        Json(Health { status: "ready" }).into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Health {
                status: "database unreachable",
            }),
        )
            .into_response()
    }
}

async fn not_found() -> AppError {
    AppError::NotFound("Route")
}

/// Counts the SQL statements a request runs and reports them, with the total time,
/// in `Server-Timing: sql;desc="SQL statements";count=N, total;dur=MS`.
async fn sql_budget(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let counter = SqlCounter::default();
    let mut response = counter.clone().scope(next.run(request)).await;
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
