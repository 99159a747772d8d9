//! `/api/users/*`: public profiles and profile edits.

use aide::axum::{
    ApiRouter,
    routing::{get_with, patch_with},
};
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
    domain::users::{self, UpdateProfileInput, UserProfileView},
    error::AppResult,
    state::AppState,
};

const TAG: &str = "Users";

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/api/users/me",
            patch_with(update_me, |op| {
                op.tag(TAG)
                    .summary("Edit own profile")
                    .description("Change bio, avatar and profile fields")
            }),
        )
        .api_route(
            "/api/users/{username}",
            get_with(profile, |op| {
                op.tag(TAG)
                    .summary("Get user profile")
                    .description("Get public user profile by username")
            }),
        )
}

async fn profile(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<UsernamePath>,
) -> AppResult<Json<Envelope<UserProfileView>>> {
    Ok(ok(
        users::get_profile(&state, &caller, &path.username).await?
    ))
}

async fn update_me(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    ApiJson(input): ApiJson<UpdateProfileInput>,
) -> AppResult<Json<Envelope<UserProfileView>>> {
    let user = users::update_profile(&state, &caller, input).await?;
    Ok(ok(users::profile_view(&state, &caller, user).await?))
}
