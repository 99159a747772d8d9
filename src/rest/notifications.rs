//! `/api/notifications/*` and the administrators' `/api/admin/notifications`.

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with, put_with},
};
use axum::{
    Json,
    extract::{Path, State},
};
use serde::Deserialize;

use super::{
    extract::{ApiJson, ApiQuery},
    respond::{Done, Envelope, done, ok},
};
use crate::{
    auth::{Caller, Viewer},
    domain::{
        notification_feed::{
            self, Broadcast, BroadcastInput, MarkedRead, NotificationFilter, NotificationView,
            UnreadCount,
        },
        pagination::{CursorPage, CursorWindow, PageFields},
    },
    error::AppResult,
    state::AppState,
};

/// The OpenAPI tag of these routes.
pub const TAG: &str = "Notifications";

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/api/notifications",
            get_with(list, |op| {
                op.tag(TAG)
                    .summary("Get notifications")
                    .description("Get user notifications, newest first")
            }),
        )
        .api_route(
            "/api/notifications/{id}/read",
            put_with(mark_read, |op| {
                op.tag(TAG)
                    .summary("Mark notification as read")
                    .description("Mark a notification as read")
            }),
        )
        .api_route(
            "/api/notifications/read-all",
            put_with(mark_all_read, |op| {
                op.tag(TAG)
                    .summary("Mark all notifications as read")
                    .description("Mark every unread notification read; answers how many changed")
            }),
        )
        .api_route(
            "/api/notifications/unread-count",
            get_with(unread_count, |op| {
                op.tag(TAG).summary("Count unread notifications")
            }),
        )
        .api_route(
            "/api/admin/notifications",
            post_with(broadcast, |op| {
                op.tag(TAG)
                    .summary("Broadcast a system notification")
                    .description(
                        "ADMIN only: a SYSTEM notification for every active or pending account",
                    )
            }),
        )
}

/// `GET /api/notifications` parameters.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
struct NotificationListQuery {
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Notifications per page (at most the configured maximum, 100 by default).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1))]
    limit: u64,
    /// Only unread notifications.
    #[serde(default)]
    unread_only: bool,
}

fn default_limit() -> u64 {
    20
}

#[derive(Deserialize, schemars::JsonSchema)]
struct NotificationPath {
    id: String,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    ApiQuery(query): ApiQuery<NotificationListQuery>,
) -> AppResult<Json<Envelope<CursorPage<NotificationView>>>> {
    let window = CursorWindow::parse(
        query.cursor.as_deref(),
        query.limit,
        state.config.api.max_page_size,
        PageFields::REST,
    )?;
    let filter = NotificationFilter {
        unread_only: query.unread_only,
    };
    Ok(ok(notification_feed::list_page(
        &state, &caller, filter, &window,
    )
    .await?))
}

async fn mark_read(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<NotificationPath>,
) -> AppResult<Json<Done>> {
    notification_feed::mark_read(&state, &caller, &path.id).await?;
    Ok(done())
}

async fn mark_all_read(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
) -> AppResult<Json<Envelope<MarkedRead>>> {
    Ok(ok(notification_feed::mark_all_read(&state, &caller).await?))
}

async fn unread_count(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
) -> AppResult<Json<Envelope<UnreadCount>>> {
    Ok(ok(notification_feed::unread_count(&state, &caller).await?))
}

async fn broadcast(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    ApiJson(input): ApiJson<BroadcastInput>,
) -> AppResult<Json<Envelope<Broadcast>>> {
    Ok(ok(
        notification_feed::broadcast(&state, &caller, input).await?
    ))
}
