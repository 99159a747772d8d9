//! How long a live connection's session lasts: until its access token expires, or
//! until its user's sessions end on any instance (logout everywhere, ban).

use std::{
    sync::Arc,
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use tokio::sync::broadcast::{self, error::RecvError};

use super::Event;

/// Why a session ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionEnd {
    /// The access token expired.
    TokenExpired,
    /// The user logged out everywhere, or was suspended or banned.
    Revoked,
}

impl SessionEnd {
    /// The WebSocket close code and reason for the client.
    pub fn close_frame(self) -> (u16, &'static str) {
        match self {
            Self::TokenExpired => (4401, "Access token expired"),
            Self::Revoked => (4403, "Session ended"),
        }
    }
}

/// Resolves when the session of `user_id`, whose token expires at `expires_at` (Unix
/// seconds), ends. `events` must be subscribed before the session is accepted.
pub async fn ended(
    mut events: broadcast::Receiver<Arc<Event>>,
    user_id: String,
    expires_at: u64,
) -> SessionEnd {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let remaining = Duration::from_secs(expires_at).saturating_sub(now);
    let expiry = tokio::time::sleep(remaining);
    tokio::pin!(expiry);
    loop {
        tokio::select! {
            () = &mut expiry => return SessionEnd::TokenExpired,
            received = events.recv() => match received {
                Ok(event) => {
                    if matches!(&*event, Event::SessionsEnded { user_id: ended } if *ended == user_id) {
                        return SessionEnd::Revoked;
                    }
                }
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => std::future::pending::<()>().await,
            },
        }
    }
}
