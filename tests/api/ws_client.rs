//! A small GraphQL-over-WebSocket client for tests, speaking both
//! `graphql-transport-ws` and the legacy `graphql-ws` protocol over a real socket.

use std::{net::SocketAddr, time::Duration};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest, http::HeaderValue},
};

/// The two subprotocols.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `graphql-transport-ws` (the graphql-ws library).
    TransportWs,
    /// `graphql-ws` (the legacy subscriptions-transport-ws).
    Legacy,
}

impl Protocol {
    pub const BOTH: [Self; 2] = [Self::TransportWs, Self::Legacy];

    fn name(self) -> &'static str {
        match self {
            Self::TransportWs => "graphql-transport-ws",
            Self::Legacy => "graphql-ws",
        }
    }
}

/// How long any wait in a test may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// One connection.
pub struct WsClient {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    protocol: Protocol,
}

/// What ended a connection.
#[derive(Debug, PartialEq, Eq)]
pub struct Closed {
    pub code: u16,
    pub reason: String,
}

impl WsClient {
    /// Opens a socket without initialising it.
    pub async fn open(address: SocketAddr, protocol: Protocol) -> Self {
        let mut request = format!("ws://{address}/graphql/ws")
            .into_client_request()
            .expect("request");
        request.headers_mut().insert(
            "sec-websocket-protocol",
            HeaderValue::from_static(protocol.name()),
        );
        let (socket, _) = tokio_tungstenite::connect_async(request)
            .await
            .expect("websocket handshake");
        Self { socket, protocol }
    }

    /// Opens and initialises a connection with `token` (anonymous when `None`).
    pub async fn connect(
        address: SocketAddr,
        protocol: Protocol,
        token: Option<&str>,
    ) -> Result<Self, Closed> {
        let mut client = Self::open(address, protocol).await;
        let payload = token.map_or_else(
            || json!({}),
            |token| json!({ "Authorization": format!("Bearer {token}") }),
        );
        client
            .send(json!({ "type": "connection_init", "payload": payload }))
            .await;
        loop {
            match client.next_message().await {
                Ok(message) if message["type"] == "connection_ack" => return Ok(client),
                Ok(message) if message["type"] == "connection_error" => {
                    return Err(Closed {
                        code: 0,
                        reason: message["payload"].to_string(),
                    });
                }
                Ok(_) => {}
                Err(closed) => return Err(closed),
            }
        }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::Text(message.to_string().into()))
            .await
            .expect("send");
    }

    /// Starts subscription `id`.
    pub async fn subscribe(&mut self, id: &str, query: &str, variables: Value) {
        let kind = match self.protocol {
            Protocol::TransportWs => "subscribe",
            Protocol::Legacy => "start",
        };
        self.send(json!({ "id": id, "type": kind, "payload": { "query": query, "variables": variables } })).await;
    }

    /// The next protocol message (pings are answered and skipped unless `keep_pings`).
    async fn next_raw(&mut self, keep_pings: bool) -> Result<Value, Closed> {
        loop {
            let frame = tokio::time::timeout(WAIT, self.socket.next())
                .await
                .expect("a message within the wait");
            match frame {
                Some(Ok(Message::Text(text))) => {
                    let message: Value = serde_json::from_str(&text).expect("json message");
                    if !keep_pings && message["type"] == "ping" {
                        self.send(json!({ "type": "pong" })).await;
                        continue;
                    }
                    if !keep_pings && message["type"] == "ka" {
                        continue;
                    }
                    return Ok(message);
                }
                Some(Ok(Message::Close(frame))) => {
                    return Err(frame.map_or(
                        Closed {
                            code: 1005,
                            reason: String::new(),
                        },
                        |frame| Closed {
                            code: frame.code.into(),
                            reason: frame.reason.to_string(),
                        },
                    ));
                }
                Some(Ok(_)) => {}
                Some(Err(_)) | None => {
                    return Err(Closed {
                        code: 1006,
                        reason: String::new(),
                    });
                }
            }
        }
    }

    pub async fn next_message(&mut self) -> Result<Value, Closed> {
        self.next_raw(false).await
    }

    /// The next message including keep-alives.
    pub async fn next_with_pings(&mut self) -> Result<Value, Closed> {
        self.next_raw(true).await
    }

    /// The `data` of the next result of subscription `id` (errors fail the test).
    pub async fn next_data(&mut self, id: &str) -> Value {
        loop {
            let message = self.next_message().await.expect("connection open");
            if message["id"] != id {
                continue;
            }
            match message["type"].as_str() {
                Some("next" | "data") => {
                    assert!(
                        message["payload"]["errors"].is_null(),
                        "subscription error: {message}"
                    );
                    return message["payload"]["data"].clone();
                }
                _ => panic!("unexpected message for {id}: {message}"),
            }
        }
    }

    /// The errors the next message for subscription `id` carries.
    pub async fn next_errors(&mut self, id: &str) -> Value {
        loop {
            let message = self.next_message().await.expect("connection open");
            if message["id"] == id {
                return match message["type"].as_str() {
                    Some("error") => message["payload"].clone(),
                    _ => message["payload"]["errors"].clone(),
                };
            }
        }
    }

    /// Waits for the server to close the connection.
    pub async fn closed(&mut self) -> Closed {
        loop {
            if let Err(closed) = self.next_message().await {
                return closed;
            }
        }
    }

    /// Asserts nothing arrives for `id` within `quiet`.
    pub async fn assert_quiet(&mut self, id: &str, quiet: Duration) {
        let deadline = tokio::time::Instant::now() + quiet;
        while let Ok(frame) = tokio::time::timeout_at(deadline, self.socket.next()).await {
            if let Some(Ok(Message::Text(text))) = frame {
                let message: Value = serde_json::from_str(&text).expect("json");
                assert!(
                    message["id"] != id || message["type"] == "complete",
                    "unexpected {message}"
                );
            }
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}
