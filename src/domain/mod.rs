//! The shared resolvers: one module per area, plain async functions over
//! `(&AppState, &Caller, input)`. Validation and authorization live here, so the
//! REST handlers and the GraphQL resolvers get exactly the same behaviour.

pub mod account_email;
pub mod comments;
pub mod digest;
pub mod effects;
pub mod feed_positions;
pub mod follows;
pub mod list_totals;
pub mod mentions;
pub mod moderation;
pub mod notification_copy;
pub mod notification_feed;
pub mod notification_mail;
pub mod notifications;
pub mod pagination;
pub mod posts;
pub mod reactions;
pub mod sessions;
pub mod taxonomy;
pub mod text;
pub mod users;
pub mod validate;

use chrono::{DateTime, Utc};

/// A new time-sortable id (UUIDv7).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The current time, truncated to microseconds so it survives every backend unchanged.
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    DateTime::from_timestamp_micros(now.timestamp_micros()).unwrap_or(now)
}
