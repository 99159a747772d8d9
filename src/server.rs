//! Running the server: bind, accept connections under their limits, log where things
//! are, shut down gracefully.
//!
//! Connections are served by hyper directly (not `axum::serve`) because a public
//! server needs limits that `axum::serve` does not offer: a deadline for a request's
//! headers (which also closes idle keep-alive connections) and a cap on connections
//! from one address, so one client's open sockets cannot use up the process's file
//! descriptors and lock everyone else out.

use std::{
    collections::HashMap,
    future::Future,
    net::{IpAddr, SocketAddr},
    sync::{Arc, Mutex, PoisonError},
    time::Duration,
};

use axum::{extract::ConnectInfo, http::Request};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::net::{TcpListener, TcpSocket};
use tower::ServiceExt;

use crate::{
    app, auth::TrustedProxies, config::Config, error::AppResult, jobs::WorkerPool, rest,
    state::AppState,
};

/// Serves until Ctrl-C or SIGTERM, letting requests in flight finish, with the job
/// workers and schedules of [`WorkerPool`] beside it.
pub async fn serve(config: Config) -> AppResult<()> {
    raise_open_file_limit();
    let address = SocketAddr::new(config.server.host, config.server.port);
    let state = AppState::new(config).await?;
    state.migrate().await?;
    let listener = listen(address).map_err(|err| {
        crate::error::AppError::Internal(format!("cannot listen on {address}: {err}"))
    })?;
    let base = format!("http://{address}");
    tracing::info!("Sparkle Universe API listening on {base}");
    tracing::info!("GraphiQL:  {base}/graphql");
    tracing::info!("API docs:  {base}{}", rest::DOCS_PATH);
    tracing::info!("OpenAPI:   {base}{}", rest::OPENAPI_PATH);

    let limits = state.limits.clone();
    let janitor = tokio::spawn(async move {
        let mut every_minute = tokio::time::interval(Duration::from_secs(60));
        loop {
            every_minute.tick().await;
            limits.forget_idle();
        }
    });
    let workers = WorkerPool::start(&state);
    let shutdown = state.shutdown.clone();
    let grace = state.config.jobs.shutdown_grace();
    serve_on(listener, state, async move {
        shutdown_signal().await;
        // WebSocket tasks outlive graceful shutdown unless told to close.
        shutdown.cancel();
    })
    .await;
    janitor.abort();
    workers.shutdown(grace).await?;
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Runs the job workers and schedules without the HTTP server until Ctrl-C or
/// SIGTERM (`sparkle worker`), so a deployment can scale servers and workers apart.
pub async fn work(config: Config) -> AppResult<()> {
    let state = AppState::new(config).await?;
    state.migrate().await?;
    let workers = WorkerPool::start(&state);
    shutdown_signal().await;
    state.shutdown.cancel();
    workers.shutdown(state.config.jobs.shutdown_grace()).await?;
    Ok(())
}

/// Accepts connections on `listener` and serves the application over `state` until
/// `shutdown` resolves, then waits for the connections in flight to finish.
pub async fn serve_on(listener: TcpListener, state: AppState, shutdown: impl Future<Output = ()>) {
    let config = &state.config;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(Duration::from_secs(
            config.server.header_read_timeout_secs.max(1),
        ));
    let counts = ConnectionCounts::new(
        config.server.max_connections_per_ip,
        state.trusted_proxies.clone(),
    );
    let router = app(state.clone());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    // Out of file descriptors, say: wait instead of spinning.
                    tracing::warn!(%err, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(slot) = counts.admit(peer.ip()) else {
            // Closing at once costs the server nothing; the client may retry later.
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut request: Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            let _ = connection.await;
            drop(slot);
        });
    }
    graceful.shutdown().await;
}

/// Open connections per client address, refusing one over the cap.
#[derive(Clone)]
struct ConnectionCounts {
    max_per_ip: usize,
    trusted: TrustedProxies,
    open: Arc<Mutex<HashMap<IpAddr, usize>>>,
}

/// One admitted connection; its address's count drops when this does (a trusted
/// proxy's connections are not counted).
struct ConnectionSlot {
    counts: ConnectionCounts,
    counted: Option<IpAddr>,
}

impl ConnectionCounts {
    fn new(max_per_ip: usize, trusted: TrustedProxies) -> Self {
        Self {
            max_per_ip,
            trusted,
            open: Arc::default(),
        }
    }

    /// A slot for a new connection from `ip`, or `None` when it has its cap open
    /// already. Trusted proxies carry many clients and are never capped.
    fn admit(&self, ip: IpAddr) -> Option<ConnectionSlot> {
        let counted = (!self.trusted.contains(ip)).then_some(ip);
        if let Some(ip) = counted {
            let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
            let count = open.entry(ip).or_default();
            if *count >= self.max_per_ip {
                return None;
            }
            *count += 1;
        }
        Some(ConnectionSlot {
            counts: self.clone(),
            counted,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        let Some(ip) = self.counted else {
            return;
        };
        let mut open = self
            .counts
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(count) = open.get_mut(&ip) {
            *count -= 1;
            if *count == 0 {
                open.remove(&ip);
            }
        }
    }
}

/// Raises the soft limit on open files to the hard limit where the system allows, so
/// the per-address cap, not the process, is what refuses a flood of connections.
fn raise_open_file_limit() {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(limit) => tracing::debug!(limit, "open-file limit"),
        Err(err) => tracing::warn!(%err, "cannot raise the open-file limit"),
    }
}

/// Pending connections the kernel queues before accepting (a reconnect storm of
/// WebSocket clients overflows tokio's default of 128).
const LISTEN_BACKLOG: u32 = 1024;

/// Binds `address` with a deep accept queue.
pub fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if address.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(address)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::warn!(%err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::warn!(%err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing requests and jobs in flight");
}
