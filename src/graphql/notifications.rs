//! Notifications: the signed-in account's feed, reading it, and broadcasts.

use async_graphql::{Context, ID, Json, Object, ResultExt};
use entity::notification;

use super::{
    context::ContextExt,
    cursor::{CursorConnection, cursor_connection, cursor_window},
    types::{Timestamp, User},
};
use crate::domain::{
    notification_feed::{
        self, Broadcast, BroadcastInput, MarkedRead, NotificationFilter, data_of, kind_of,
    },
    notifications::NotificationType,
};

/// A notification of the signed-in account.
pub struct Notification(notification::Model);

impl Notification {
    /// The object of a stored notification row.
    pub fn new(row: notification::Model) -> Self {
        Self(row)
    }
}

#[Object]
impl Notification {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    #[graphql(name = "type")]
    async fn kind(&self) -> async_graphql::Result<NotificationType> {
        kind_of(&self.0).extend()
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn message(&self) -> &str {
        &self.0.message
    }
    async fn read(&self) -> bool {
        self.0.read
    }
    /// Links for the client, e.g. `{"postId": …}`.
    async fn data(&self) -> Json<serde_json::Value> {
        Json(serde_json::Value::Object(data_of(&self.0)))
    }
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    /// Who caused it (null for system notifications).
    async fn actor(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(actor_id) = &self.0.actor_id else {
            return Ok(None);
        };
        User::by_id(ctx, actor_id).await
    }
}

/// The signed-in account's notifications.
#[derive(Default)]
pub struct NotificationQuery;

#[Object]
impl NotificationQuery {
    /// The signed-in account's notifications, newest first.
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] unread_only: bool,
    ) -> async_graphql::Result<CursorConnection<Notification>> {
        let state = ctx.state()?;
        let window = cursor_window(state, first, after.as_deref())?;
        let filter = NotificationFilter { unread_only };
        let slice = notification_feed::list(state, ctx.caller()?, filter, &window)
            .await
            .extend()?;
        Ok(cursor_connection(
            slice,
            window.after.is_some(),
            Notification::new,
        ))
    }

    /// How many notifications of the signed-in account are unread.
    async fn unread_notification_count(&self, ctx: &Context<'_>) -> async_graphql::Result<u64> {
        let unread = notification_feed::unread_count(ctx.state()?, ctx.caller()?)
            .await
            .extend()?;
        Ok(unread.count)
    }
}

/// Reading notifications, and broadcasts by administrators.
#[derive(Default)]
pub struct NotificationMutation;

#[Object]
impl NotificationMutation {
    /// Marks one of the signed-in account's notifications read.
    async fn mark_notification_read(
        &self,
        ctx: &Context<'_>,
        id: String,
    ) -> async_graphql::Result<Notification> {
        let row = notification_feed::mark_read(ctx.state()?, ctx.caller()?, &id)
            .await
            .extend()?;
        Ok(Notification::new(row))
    }

    /// Marks every unread notification of the signed-in account read.
    async fn mark_all_notifications_read(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<MarkedRead> {
        notification_feed::mark_all_read(ctx.state()?, ctx.caller()?)
            .await
            .extend()
    }

    /// ADMIN only: a SYSTEM notification for every active or pending account.
    async fn broadcast_system_notification(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "1-200 characters")] title: String,
        #[graphql(desc = "1-2000 characters")] message: String,
    ) -> async_graphql::Result<Broadcast> {
        let input = BroadcastInput { title, message };
        notification_feed::broadcast(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()
    }
}
