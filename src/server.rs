//! Running the server: bind, log where things are, shut down gracefully.

use std::{net::SocketAddr, time::Duration};

use tokio::net::{TcpListener, TcpSocket};

use crate::{app, config::Config, error::AppResult, rest, state::AppState};

/// Serves until Ctrl-C or SIGTERM, letting requests in flight finish.
pub async fn serve(config: Config) -> AppResult<()> {
    let address = SocketAddr::new(config.host, config.port);
    let state = AppState::new(config).await?;
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
    let shutdown = state.shutdown.clone();
    let service = app(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            // WebSocket tasks outlive graceful shutdown unless told to close.
            shutdown.cancel();
        })
        .await
        .map_err(|err| crate::error::AppError::Internal(format!("server: {err}")))?;
    janitor.abort();
    tracing::info!("shut down cleanly");
    Ok(())
}

/// Pending connections the kernel queues before accepting (a reconnect storm of
/// WebSocket clients overflows tokio's default of 128).
const LISTEN_BACKLOG: u32 = 1024;

fn listen(address: SocketAddr) -> std::io::Result<TcpListener> {
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
    tracing::info!("shutdown signal received; finishing requests in flight");
}
