//! Live updates: domain events go through one [`EventBus`]; GraphQL subscriptions,
//! presence and typing indicators listen to it.

mod bus;
pub mod feeds;
pub mod presence;
pub mod session;

pub use bus::{BusCounters, EventBus};
pub use presence::{Presence, PresenceGuard};

use entity::{comment, notification};
use serde::{Deserialize, Serialize};

/// Something that happened, for whoever listens (on every instance).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Event {
    /// A notification was stored for `notification.user_id`.
    NotificationAdded { notification: notification::Model },
    /// A comment (or reply) was added to `comment.post_id`.
    CommentAdded { comment: comment::Model },
    /// Reactions on a post, or on one of its comments, changed.
    ReactionsChanged { post_id: String },
    /// A user started or stopped typing on a post.
    Typing {
        post_id: String,
        user_id: String,
        username: String,
        typing: bool,
    },
    /// Processing of `user_id`'s upload `media_id` ended (READY or FAILED).
    MediaProcessed { user_id: String, media_id: String },
    /// Every session of a user ended (logout everywhere, suspension, ban).
    SessionsEnded { user_id: String },
    /// A user's first connection to an instance opened, or its last one closed.
    Presence {
        instance_id: String,
        user_id: String,
        online: bool,
    },
    /// Everyone connected to an instance, announced periodically.
    PresenceSnapshot {
        instance_id: String,
        user_ids: Vec<String>,
    },
    /// This instance heard nothing from the other instances for a while (Redis was
    /// unreachable) and hears them again: events of that time may be lost, so
    /// resumable streams replay from the database. Never sent between instances.
    Resync,
}
