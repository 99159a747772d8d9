//! `/api/users/{username}/status`: suspending, banning and reinstating accounts.

use aide::axum::{ApiRouter, routing::put_with};
use axum::{
    Json,
    extract::{Path, State},
};

use super::{
    extract::{ApiJson, UsernamePath},
    respond::{Envelope, ok},
};
use crate::{
    auth::{Caller, Viewer},
    domain::{
        moderation::{self, SetStatusInput},
        users::{self, UserProfileView},
    },
    error::AppResult,
    state::AppState,
};

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new().api_route(
        "/api/users/{username}/status",
        put_with(set_status, |op| {
            op.tag("Users").summary("Set account status").description(
                "MODERATOR or ADMIN: suspend, ban or reinstate an account; suspending or banning ends its sessions at once",
            )
        }),
    )
}

async fn set_status(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<UsernamePath>,
    ApiJson(input): ApiJson<SetStatusInput>,
) -> AppResult<Json<Envelope<UserProfileView>>> {
    let account = moderation::set_status(&state, &caller, &path.username, input).await?;
    Ok(ok(users::profile_view(&state, &caller, account).await?))
}
