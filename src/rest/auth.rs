//! `/api/auth/*`: register, login, refresh, logout, me.

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use axum::{Json, extract::State};

use super::{
    extract::ApiJson,
    respond::{Created, Done, Envelope, done, ok},
};
use crate::{
    auth::{Caller, Viewer},
    domain::{
        sessions::{self, LoginInput, LogoutInput, RefreshInput, RegisterInput, SessionView},
        users::{self, UserProfileView},
    },
    error::AppResult,
    state::AppState,
};

const TAG: &str = "Authentication";

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/api/auth/register",
            post_with(register, |op| op.tag(TAG).summary("Register new user").description("Create a new account and sign it in")),
        )
        .api_route(
            "/api/auth/login",
            post_with(login, |op| op.tag(TAG).summary("Login user").description("Authenticate user with email and password")),
        )
        .api_route(
            "/api/auth/refresh",
            post_with(refresh, |op| {
                op.tag(TAG).summary("Refresh session").description(
                    "Exchange a single-use refresh token for a new token pair; reusing a spent one revokes its whole session",
                )
            }),
        )
        .api_route(
            "/api/auth/logout",
            post_with(logout, |op| {
                op.tag(TAG).summary("Logout").description("End one session (by refresh token) or every session (`allSessions`)")
            }),
        )
        .api_route("/api/auth/me", get_with(me, |op| op.tag(TAG).summary("Current user").description("The signed-in account")))
}

async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<RegisterInput>,
) -> AppResult<Created<SessionView>> {
    let session = sessions::register(&state, &caller, input).await?;
    Ok(Created(session.into()))
}

async fn login(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<LoginInput>,
) -> AppResult<Json<Envelope<SessionView>>> {
    let session = sessions::login(&state, &caller, input).await?;
    Ok(ok(session.into()))
}

async fn refresh(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RefreshInput>,
) -> AppResult<Json<Envelope<SessionView>>> {
    let session = sessions::refresh(&state, input).await?;
    Ok(ok(session.into()))
}

async fn logout(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    ApiJson(input): ApiJson<LogoutInput>,
) -> AppResult<Json<Done>> {
    sessions::logout(&state, &caller, input).await?;
    Ok(done())
}

async fn me(
    State(state): State<AppState>,
    caller: Caller,
    viewer: Viewer,
) -> AppResult<Json<Envelope<UserProfileView>>> {
    Ok(ok(
        users::get_profile(&state, &caller, &viewer.username).await?
    ))
}
