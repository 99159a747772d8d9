//! Request ids and the one log line per request.
//!
//! Every request gets an id: the `X-Request-Id` a trusted proxy (`TRUSTED_PROXIES`)
//! sent, or a new one. It is returned in the response's `X-Request-Id`, in every error
//! body (`requestId` in REST envelopes, `extensions.requestId` in GraphQL errors), and
//! it is a field of the request's span, so every log line written while serving the
//! request carries it. When the request ends, one line at INFO says what it was and
//! how it went: method, route, status, latency, request id, and the user when signed in;
//! the same request is counted in the metrics.

use std::{net::SocketAddr, sync::Arc, time::Instant};

use axum::{
    extract::{ConnectInfo, MatchedPath, Request, State},
    http::{HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use tracing::{Instrument, field::Empty};

use crate::state::AppState;

/// The header that carries request ids.
pub static REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// Longest request id taken from a proxy.
const MAX_FORWARDED_ID_LENGTH: usize = 128;

tokio::task_local! {
    static CURRENT: RequestId;
}

/// The id of the request being served.
#[derive(Clone, Debug)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The id of the request the current task serves, if any.
    pub fn current() -> Option<String> {
        CURRENT.try_with(|id| id.0.to_string()).ok()
    }
}

/// Gives the request its id and span, and logs it once it is answered.
pub async fn request_log_layer(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id =
        forwarded_id(&state, &request).unwrap_or_else(|| uuid::Uuid::now_v7().simple().to_string());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "-".to_owned(), |path| path.as_str().to_owned());
    let method = request.method().clone();
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        user_id = Empty,
    );
    let mut response = CURRENT
        .scope(RequestId(id.as_str().into()), next.run(request))
        .instrument(span.clone())
        .await;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(REQUEST_ID_HEADER.clone(), value);
    }
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    state
        .metrics
        .record_request(method.as_str(), &route, status, elapsed);
    let latency_ms = elapsed.as_secs_f64() * 1000.0;
    span.in_scope(|| {
        tracing::info!(status, latency_ms, "request");
    });
    response
}

/// The id a trusted proxy sent, if it is one and the id is a short visible string.
fn forwarded_id(state: &AppState, request: &Request) -> Option<String> {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()?
        .0
        .ip();
    if !state.trusted_proxies.contains(peer) {
        return None;
    }
    let id = request.headers().get(&REQUEST_ID_HEADER)?.to_str().ok()?;
    let acceptable = !id.is_empty()
        && id.len() <= MAX_FORWARDED_ID_LENGTH
        && id.bytes().all(|byte| byte.is_ascii_graphic());
    acceptable.then(|| id.to_owned())
}

/// Names the signed-in user in the current request's span (and so its log line).
pub fn record_user(user_id: &str) {
    tracing::Span::current().record("user_id", user_id);
}
