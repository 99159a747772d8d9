//! GraphQL subscriptions over WebSocket at `/graphql/ws`, speaking
//! `graphql-transport-ws` and the legacy `graphql-ws` protocol.
//!
//! The connection authenticates in `connection_init` (`{"Authorization": "Bearer …"}`;
//! no key means anonymous, a bad token refuses the connection). The server pings
//! every `WS_KEEPALIVE_SECS`, closes sockets that never initialise, and closes a
//! signed-in socket when its token expires, when its user's sessions end on any
//! instance, or when the server shuts down.

use std::{
    str::FromStr,
    sync::{Arc, OnceLock},
    time::Duration,
};

use async_graphql::{
    Data,
    http::{ALL_WEBSOCKET_PROTOCOLS, WebSocketProtocols, WsMessage},
};
use axum::{
    Extension,
    extract::{
        State, WebSocketUpgrade,
        ws::{CloseFrame, Message, WebSocket},
    },
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures_util::{SinkExt, StreamExt, future::BoxFuture};
use tokio::sync::{mpsc, oneshot};

use super::{ServedSchema, loaders};
use crate::{
    auth::{Caller, ClientIp, Credentials},
    metrics::GaugeGuard,
    realtime::{
        PresenceGuard,
        session::{self, SessionEnd},
    },
    state::AppState,
};

/// Initial read buffer of a socket.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;
/// Largest message a client may send.
const MAX_CLIENT_MESSAGE_BYTES: usize = 64 * 1024;

/// Upgrades to a GraphQL WebSocket when the client offers a supported protocol.
pub async fn graphql_ws(
    State(state): State<AppState>,
    Extension(schema): Extension<ServedSchema>,
    Extension(ClientIp(ip)): Extension<ClientIp>,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Response {
    let protocol = headers
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|value| value.to_str().ok())
        .and_then(|offered| {
            offered
                .split(',')
                .find_map(|name| WebSocketProtocols::from_str(name.trim()).ok())
        });
    let Some(protocol) = protocol else {
        return (
            StatusCode::BAD_REQUEST,
            "Offer the graphql-transport-ws or graphql-ws subprotocol",
        )
            .into_response();
    };
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        // Small buffers keep an idle subscriber cheap (tungstenite defaults to
        // 128 KiB each); client messages are small GraphQL operations.
        .read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(0)
        .max_write_buffer_size(MAX_CLIENT_MESSAGE_BYTES * 16)
        .max_message_size(MAX_CLIENT_MESSAGE_BYTES)
        .max_frame_size(MAX_CLIENT_MESSAGE_BYTES)
        .on_upgrade(move |socket| serve_socket(state, schema, protocol, ip, socket))
}

/// What a successful `connection_init` hands to the socket loop.
struct Session {
    /// The key the caller's operations count under in the API rate limit.
    rate_key: String,
    /// Resolves when a signed-in session ends; never for anonymous connections.
    ended: BoxFuture<'static, SessionEnd>,
    /// Keeps the user online while the socket lives.
    _presence: Option<PresenceGuard>,
}

async fn serve_socket(
    state: AppState,
    schema: ServedSchema,
    protocol: WebSocketProtocols,
    ip: Option<std::net::IpAddr>,
    socket: WebSocket,
) {
    let _open = GaugeGuard::raise(&state.metrics.websockets_open);
    let (mut sink, incoming) = socket.split();
    // The caller's rate-limit key, known once `connection_init` is accepted.
    let rate_key = Arc::new(OnceLock::<String>::new());
    let (refusal_sender, mut refusals) = mpsc::channel::<String>(16);
    let budget = OperationBudget {
        state: state.clone(),
        protocol,
        rate_key: rate_key.clone(),
        refusals: refusal_sender,
    };
    let incoming = incoming
        .take_while(|message| std::future::ready(message.is_ok()))
        .filter_map(move |message| {
            let budget = budget.clone();
            async move {
                let text = match message {
                    Ok(Message::Text(text)) => text.to_string(),
                    Ok(Message::Binary(bytes)) => String::from_utf8(bytes.to_vec()).ok()?,
                    _ => return None,
                };
                budget.admits(&text).await.then_some(text)
            }
        })
        .boxed();
    let (session_sender, session_receiver) = oneshot::channel::<Session>();
    let init_state = state.clone();
    let mut graphql = async_graphql::http::WebSocket::new(schema, incoming, protocol)
        .on_connection_init(move |payload| async move {
            let (data, session) = initialise(&init_state, payload, ip).await?;
            let _ = rate_key.set(session.rate_key.clone());
            let _ = session_sender.send(session);
            Ok(data)
        });

    let config = &state.config;
    // Sockets opened together should not all ping together: start at a random offset.
    let period = Duration::from_secs(config.realtime.ws_keepalive_secs.max(1));
    let offset = period.mul_f64(rand::random::<f64>());
    let mut keepalive = tokio::time::interval_at(
        tokio::time::Instant::now() + offset.max(Duration::from_millis(100)),
        period,
    );
    let init_deadline =
        tokio::time::sleep(Duration::from_secs(config.realtime.ws_init_timeout_secs));
    tokio::pin!(init_deadline);
    tokio::pin!(session_receiver);
    let mut session: Option<Session> = None;
    let shutdown = state.shutdown.clone();

    let close = loop {
        let initialised = session.is_some();
        tokio::select! {
            outgoing = graphql.next() => match outgoing {
                Some(WsMessage::Text(text)) => {
                    if sink.send(Message::Text(text.into())).await.is_err() {
                        break None;
                    }
                }
                Some(WsMessage::Close(code, reason)) => {
                    break Some(close_frame(protocol, code, reason));
                }
                None => break None,
            },
            Some(refusal) = refusals.recv() => {
                if sink.send(Message::Text(refusal.into())).await.is_err() {
                    break None;
                }
            }
            accepted = &mut session_receiver, if !initialised => {
                if let Ok(accepted) = accepted {
                    session = Some(accepted);
                }
            }
            () = &mut init_deadline, if !initialised => {
                break Some((4408, "Connection initialisation timeout".to_owned()));
            }
            end = session_end(&mut session) => {
                let (code, reason) = end.close_frame();
                break Some((code, reason.to_owned()));
            }
            _ = keepalive.tick() => {
                if sink.send(Message::Text(keepalive_message(protocol).into())).await.is_err() {
                    break None;
                }
            }
            () = shutdown.cancelled() => break Some((1001, "Server shutting down".to_owned())),
        }
    };
    if let Some((code, reason)) = close {
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code,
                reason: reason.into(),
            })))
            .await;
    }
    let _ = sink.close().await;
}

/// The close frame a client of `protocol` expects. async-graphql closes a socket that
/// subscribes before `connection_init` with 1011; graphql-transport-ws says 4401.
fn close_frame(protocol: WebSocketProtocols, code: u16, reason: String) -> (u16, String) {
    match (protocol, code) {
        (WebSocketProtocols::GraphQLWS, 1011) => (4401, "Unauthorized".to_owned()),
        _ => (code, reason),
    }
}

/// Counts each operation a client starts against the same per-client API budget as
/// an HTTP request; an operation over budget is answered with an error message for
/// its id and never reaches the schema.
#[derive(Clone)]
struct OperationBudget {
    state: AppState,
    protocol: WebSocketProtocols,
    rate_key: Arc<OnceLock<String>>,
    refusals: mpsc::Sender<String>,
}

/// The fields of a client message that decide whether it starts an operation.
#[derive(serde::Deserialize)]
struct ClientMessageHead {
    #[serde(rename = "type")]
    kind: String,
    id: Option<String>,
}

impl OperationBudget {
    /// Whether `text` may go on to the schema.
    async fn admits(&self, text: &str) -> bool {
        // Before `connection_init` no operation runs (the protocol closes the socket).
        let Some(key) = self.rate_key.get() else {
            return true;
        };
        let Ok(head) = serde_json::from_str::<ClientMessageHead>(text) else {
            return true;
        };
        if !matches!(head.kind.as_str(), "subscribe" | "start") {
            return true;
        }
        let Err(err) = self.state.limits.api.check(key).await else {
            return true;
        };
        let error = serde_json::json!({
            "message": err.to_string(),
            "extensions": { "code": err.code(), "retryAfter": err.retry_after_secs() },
        });
        let payload = match self.protocol {
            WebSocketProtocols::GraphQLWS => serde_json::json!([error]),
            WebSocketProtocols::SubscriptionsTransportWS => error,
        };
        let message = serde_json::json!({ "type": "error", "id": head.id, "payload": payload });
        // A client flooding faster than refusals drain loses some refusals, not memory.
        let _ = self.refusals.try_send(message.to_string());
        false
    }
}

/// Resolves when the accepted session ends; never before `connection_init`.
async fn session_end(session: &mut Option<Session>) -> SessionEnd {
    match session {
        Some(session) => (&mut session.ended).await,
        None => std::future::pending().await,
    }
}

/// The keep-alive each protocol expects from a server.
fn keepalive_message(protocol: WebSocketProtocols) -> &'static str {
    match protocol {
        WebSocketProtocols::GraphQLWS => r#"{"type":"ping"}"#,
        WebSocketProtocols::SubscriptionsTransportWS => r#"{"type":"ka"}"#,
    }
}

/// Authenticates `connection_init` and prepares the connection's data and session.
async fn initialise(
    state: &AppState,
    payload: serde_json::Value,
    ip: Option<std::net::IpAddr>,
) -> async_graphql::Result<(Data, Session)> {
    let authorization = payload.as_object().and_then(|fields| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("authorization"))
            .and_then(|(_, value)| value.as_str())
    });
    // Subscribe before accepting, so a session revoked meanwhile is not missed.
    let events = state.events.subscribe();
    let credentials = Credentials::from_header(state, authorization);
    let caller = Caller::resolve(state, &credentials, ip)
        .await
        .map_err(|err| async_graphql::Error::new(err.to_string()))?;
    let session = match (&caller.viewer, &credentials) {
        (Some(viewer), Credentials::Token(claims)) => Session {
            rate_key: caller.rate_key(),
            ended: Box::pin(session::ended(events, viewer.id.clone(), claims.exp)),
            _presence: Some(state.presence.connect(&viewer.id)),
        },
        _ => Session {
            rate_key: caller.rate_key(),
            ended: Box::pin(std::future::pending()),
            _presence: None,
        },
    };
    let loader = loaders::connection_loader(state.clone());
    let mut data = Data::default();
    data.insert(caller);
    data.insert(Arc::new(loader));
    Ok((data, session))
}
