//! Prometheus metrics, served at `GET /metrics` in the text format: HTTP requests,
//! GraphQL operations, SQL statements, the database pools, live connections, the
//! event bus, rate-limit refusals and the job queue.
//!
//! One registry per application state (never a process-global recorder: tests build
//! many applications in one process). `/metrics` is not part of the public API: with
//! `METRICS_TOKEN` set it answers only `Authorization: Bearer <token>`; without it,
//! only clients on this machine (a scraper beside the server, or a sidecar).

use std::{
    net::SocketAddr,
    sync::{Arc, atomic::AtomicU64},
    time::Duration,
};

use axum::{
    extract::{ConnectInfo, Request, State},
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};
use prometheus_client::{
    encoding::{EncodeLabelSet, text::encode},
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use sea_orm::{DatabaseConnection, DbBackend};
use subtle::ConstantTimeEq;

use crate::{
    error::AppError,
    jobs::monitor::{self, QueueStats},
    state::AppState,
};

/// Labels of an HTTP request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    /// The route's pattern (`/api/posts/{id}`), never the raw path.
    pub route: String,
    pub status: u16,
}

/// Labels of a request's latency.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
}

/// Labels of a GraphQL operation.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// The operation's name (`anonymous` without one).
    pub operation: String,
    /// `ok`, or `error` when the response carries errors.
    pub outcome: &'static str,
}

/// Labels of a database pool.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PoolLabels {
    /// `reader` or `writer`.
    pub pool: &'static str,
    /// `in_use` or `idle`.
    pub state: &'static str,
}

/// Labels of a count of jobs.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub queue: &'static str,
    /// `pending`, `scheduled`, `running`, `retrying`, `dead` or `done_24h`.
    pub state: &'static str,
}

/// Labels of a queue.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    pub queue: &'static str,
}

/// Labels of a count of mails.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MailLabels {
    /// The kind of mail (`welcome`, `new_follower`, `weekly_digest`, …).
    pub kind: &'static str,
    /// `sent` (a transport took it) or `failed` (none did; the job retries).
    pub outcome: &'static str,
}

/// Labels of a limit.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabels {
    pub limit: &'static str,
}

/// Every metric of the server.
pub struct Metrics {
    registry: Registry,
    pub http_requests: Family<RequestLabels, Counter>,
    pub http_duration: Family<RouteLabels, Histogram>,
    pub graphql_operations: Family<OperationLabels, Counter>,
    pub sql_statements: Counter,
    pub database_connections: Family<PoolLabels, Gauge>,
    pub websockets_open: Gauge,
    pub subscriptions_live: Gauge,
    pub bus_events_published: Counter,
    pub bus_events_received: Counter,
    pub rate_limit_refusals: Family<LimitLabels, Counter>,
    pub jobs: Family<JobLabels, Gauge>,
    pub oldest_pending_job: Family<QueueLabels, Gauge<f64, AtomicU64>>,
    pub mail_sends: Family<MailLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sparkle");
        let http_requests = Family::<RequestLabels, Counter>::default();
        let http_duration = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let graphql_operations = Family::<OperationLabels, Counter>::default();
        let sql_statements = Counter::default();
        let database_connections = Family::<PoolLabels, Gauge>::default();
        let websockets_open = Gauge::default();
        let subscriptions_live = Gauge::default();
        let bus_events_published = Counter::default();
        let bus_events_received = Counter::default();
        let rate_limit_refusals = Family::<LimitLabels, Counter>::default();
        let jobs = Family::<JobLabels, Gauge>::default();
        let oldest_pending_job = Family::<QueueLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "jobs",
            "Jobs by queue and state (done: in the last 24 hours), read at each scrape",
            jobs.clone(),
        );
        registry.register(
            "oldest_pending_job_seconds",
            "How long the oldest due job of each queue has waited",
            oldest_pending_job.clone(),
        );
        registry.register(
            "http_requests",
            "HTTP requests by method, route and status",
            http_requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by method and route",
            http_duration.clone(),
        );
        registry.register(
            "graphql_operations",
            "GraphQL operations over HTTP by operation name and outcome",
            graphql_operations.clone(),
        );
        registry.register(
            "sql_statements",
            "SQL statements run while serving HTTP requests",
            sql_statements.clone(),
        );
        registry.register(
            "database_connections",
            "Database connections by pool and state",
            database_connections.clone(),
        );
        registry.register(
            "websockets_open",
            "GraphQL WebSockets open",
            websockets_open.clone(),
        );
        registry.register(
            "subscriptions_live",
            "GraphQL subscriptions running",
            subscriptions_live.clone(),
        );
        registry.register(
            "bus_events_published",
            "Events this instance published on the event bus",
            bus_events_published.clone(),
        );
        registry.register(
            "bus_events_received",
            "Events this instance received from the event bus",
            bus_events_received.clone(),
        );
        registry.register(
            "rate_limit_refusals",
            "Requests refused by a rate limit, by limit",
            rate_limit_refusals.clone(),
        );
        let mail_sends = Family::<MailLabels, Counter>::default();
        registry.register(
            "mail_sends",
            "Attempts to send a mail by this instance, by kind and outcome",
            mail_sends.clone(),
        );
        Self {
            registry,
            http_requests,
            http_duration,
            graphql_operations,
            sql_statements,
            database_connections,
            websockets_open,
            subscriptions_live,
            bus_events_published,
            bus_events_received,
            rate_limit_refusals,
            jobs,
            oldest_pending_job,
            mail_sends,
        }
    }
}

impl Metrics {
    /// Counts one answered HTTP request.
    pub fn record_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.http_requests
            .get_or_create(&RequestLabels {
                method: method.to_owned(),
                route: route.to_owned(),
                status,
            })
            .inc();
        self.http_duration
            .get_or_create(&RouteLabels {
                method: method.to_owned(),
                route: route.to_owned(),
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one GraphQL operation.
    pub fn record_operation(&self, name: Option<&str>, succeeded: bool) {
        self.graphql_operations
            .get_or_create(&OperationLabels {
                operation: name.unwrap_or("anonymous").to_owned(),
                outcome: if succeeded { "ok" } else { "error" },
            })
            .inc();
    }

    /// Sets the job gauges from the queue's counts.
    pub fn record_job_stats(&self, stats: &[QueueStats]) {
        for entry in stats {
            let queue = entry.queue.as_str();
            for (state, count) in [
                ("pending", entry.pending),
                ("scheduled", entry.scheduled),
                ("running", entry.running),
                ("retrying", entry.retrying),
                ("dead", entry.dead),
                ("done_24h", entry.done_last_24h),
            ] {
                self.jobs
                    .get_or_create(&JobLabels { queue, state })
                    .set(i64::try_from(count).unwrap_or(i64::MAX));
            }
            self.oldest_pending_job
                .get_or_create(&QueueLabels { queue })
                .set(entry.oldest_pending_secs);
        }
    }

    /// The metrics in Prometheus's text format, with the pools read now.
    fn render(&self, reader: &DatabaseConnection, writer: &DatabaseConnection) -> String {
        for (pool, connection) in [("reader", reader), ("writer", writer)] {
            let (size, idle) = pool_sizes(connection);
            self.database_connections
                .get_or_create(&PoolLabels {
                    pool,
                    state: "in_use",
                })
                .set(i64::from(size.saturating_sub(idle)));
            self.database_connections
                .get_or_create(&PoolLabels {
                    pool,
                    state: "idle",
                })
                .set(i64::from(idle));
        }
        let mut text = String::new();
        if let Err(err) = encode(&mut text, &self.registry) {
            tracing::error!(%err, "cannot encode the metrics");
        }
        text
    }
}

/// Connections open and idle in the pool behind `connection`.
fn pool_sizes(connection: &DatabaseConnection) -> (u32, u32) {
    let idle = |idle: usize| u32::try_from(idle).unwrap_or(u32::MAX);
    match connection.get_database_backend() {
        DbBackend::Sqlite => {
            let pool = connection.get_sqlite_connection_pool();
            (pool.size(), idle(pool.num_idle()))
        }
        DbBackend::Postgres => {
            let pool = connection.get_postgres_connection_pool();
            (pool.size(), idle(pool.num_idle()))
        }
        _ => (0, 0),
    }
}

/// `GET /metrics`: for the holder of `METRICS_TOKEN`, or, without one, for this machine.
pub async fn serve_metrics(State(state): State<AppState>, request: Request) -> Response {
    let allowed = match &state.config.observability.metrics_token {
        Some(token) => request
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.strip_prefix("Bearer "))
            .is_some_and(|given| bool::from(given.as_bytes().ct_eq(token.expose().as_bytes()))),
        None => request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .is_none_or(|info| info.0.ip().is_loopback()),
    };
    if !allowed {
        return AppError::NotFound("Route").into_response();
    }
    match monitor::queue_stats(&state).await {
        Ok(stats) => state.metrics.record_job_stats(&stats),
        Err(err) => tracing::warn!(error = %err.detail(), "cannot count jobs for the metrics"),
    }
    let text = state.metrics.render(&state.db, &state.writer);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

/// Keeps a gauge one higher while it lives (a socket open, a subscription running).
pub struct GaugeGuard(Gauge);

impl GaugeGuard {
    /// Raises `gauge` until the guard is dropped.
    pub fn raise(gauge: &Gauge) -> Self {
        gauge.inc();
        Self(gauge.clone())
    }
}

impl Drop for GaugeGuard {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Shared handle to the metrics.
pub type SharedMetrics = Arc<Metrics>;
