//! `/api/users/{username}/follow`, `/followers`, `/following`.

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use axum::{
    Json,
    extract::{Path, State},
};
use serde::Deserialize;

use super::{
    extract::{ApiQuery, UsernamePath},
    respond::{Envelope, ok},
};
use crate::{
    auth::{Caller, Viewer},
    domain::{
        follows::{self, FollowList, FollowStatus},
        pagination::{CursorPage, CursorWindow, PageFields},
        users::AuthorSummary,
    },
    error::AppResult,
    state::AppState,
};

/// The OpenAPI tag of these routes.
pub const TAG: &str = "Social";

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/api/users/{username}/follow",
            post_with(follow, |op| {
                op.tag(TAG)
                    .summary("Follow user")
                    .description("Follow a user; following twice changes nothing")
            })
            .delete_with(unfollow, |op| {
                op.tag(TAG)
                    .summary("Unfollow user")
                    .description("Stop following a user; fine when not following")
            }),
        )
        .api_route(
            "/api/users/{username}/followers",
            get_with(followers, |op| {
                op.tag(TAG)
                    .summary("List followers")
                    .description("Accounts following the user, newest follow first")
            }),
        )
        .api_route(
            "/api/users/{username}/following",
            get_with(following, |op| {
                op.tag(TAG)
                    .summary("List followed accounts")
                    .description("Accounts the user follows, newest follow first")
            }),
        )
}

/// Parameters of a cursor-paginated list.
#[derive(Deserialize, schemars::JsonSchema)]
struct CursorQuery {
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Items per page (at most the configured maximum, 100 by default).
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1))]
    limit: u64,
}

impl CursorQuery {
    /// The window these parameters ask for.
    fn window<K: serde::de::DeserializeOwned>(
        &self,
        state: &AppState,
    ) -> AppResult<CursorWindow<K>> {
        CursorWindow::parse(
            self.cursor.as_deref(),
            self.limit,
            state.config.api.max_page_size,
            PageFields::REST,
        )
    }
}

fn default_limit() -> u64 {
    20
}

async fn follow(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<UsernamePath>,
) -> AppResult<Json<Envelope<FollowStatus>>> {
    Ok(ok(follows::follow(&state, &caller, &path.username).await?))
}

async fn unfollow(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<UsernamePath>,
) -> AppResult<Json<Envelope<FollowStatus>>> {
    Ok(ok(follows::unfollow(&state, &caller, &path.username).await?))
}

async fn followers(
    State(state): State<AppState>,
    _caller: Caller,
    Path(path): Path<UsernamePath>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> AppResult<Json<Envelope<CursorPage<AuthorSummary>>>> {
    list(&state, &path.username, FollowList::Followers, &query).await
}

async fn following(
    State(state): State<AppState>,
    _caller: Caller,
    Path(path): Path<UsernamePath>,
    ApiQuery(query): ApiQuery<CursorQuery>,
) -> AppResult<Json<Envelope<CursorPage<AuthorSummary>>>> {
    list(&state, &path.username, FollowList::Following, &query).await
}

async fn list(
    state: &AppState,
    username: &str,
    which: FollowList,
    query: &CursorQuery,
) -> AppResult<Json<Envelope<CursorPage<AuthorSummary>>>> {
    let window = query.window(state)?;
    Ok(ok(
        follows::list_page(state, username, which, &window).await?
    ))
}
