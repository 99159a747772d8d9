//! `/api/auth/*`: register, login, refresh, logout, me, and the account's email
//! address (verify, forgot and reset the password, change the address).

use aide::axum::{
    ApiRouter,
    routing::{get_with, post_with},
};
use axum::{Json, extract::State};

use super::{
    extract::ApiJson,
    respond::{Accepted, Created, Done, Envelope, done, ok},
};
use crate::{
    auth::{Caller, Viewer},
    domain::{
        account_email::{
            self, ChangeEmailInput, ForgotPasswordInput, ResetPasswordInput, TokenInput,
        },
        sessions::{self, LoginInput, LogoutInput, RefreshInput, RegisterInput, SessionView},
        users::{self, UserProfileView, UserView},
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
        .api_route(
            "/api/auth/verify-email",
            post_with(verify_email, |op| {
                op.tag(TAG).summary("Verify email address").description(
                    "Spend the token of a verification mail: the address is verified and a pending account becomes ACTIVE. Tokens are single use and expire after 24 hours",
                )
            }),
        )
        .api_route(
            "/api/auth/resend-verification",
            post_with(resend_verification, |op| {
                op.tag(TAG)
                    .summary("Resend verification mail")
                    .description("Mail the signed-in account a new verification link; earlier links stop working")
            }),
        )
        .api_route(
            "/api/auth/forgot-password",
            post_with(forgot_password, |op| {
                op.tag(TAG).summary("Forgot password").description(
                    "Mail a password-reset link to the address if it has an account. Answers the same, in the same time, either way",
                )
            }),
        )
        .api_route(
            "/api/auth/reset-password",
            post_with(reset_password, |op| {
                op.tag(TAG).summary("Reset password").description(
                    "Set a new password with the token of a reset mail (single use, expires after an hour); every session of the account ends",
                )
            }),
        )
        .api_route(
            "/api/auth/change-email",
            post_with(change_email, |op| {
                op.tag(TAG).summary("Change email address").description(
                    "Mail a confirmation link to a new address (the current password is required); the account keeps its address until the link is used",
                )
            }),
        )
        .api_route(
            "/api/auth/confirm-email-change",
            post_with(confirm_email_change, |op| {
                op.tag(TAG).summary("Confirm new email address").description(
                    "Spend the token mailed to the new address: the account moves to it, and the old address is told",
                )
            }),
        )
}

async fn verify_email(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<TokenInput>,
) -> AppResult<Json<Envelope<UserView>>> {
    let account = account_email::verify_email(&state, input).await?;
    Ok(ok(UserView::load(&state, &account, true).await?))
}

async fn resend_verification(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
) -> AppResult<Accepted> {
    account_email::resend_verification(&state, &caller).await?;
    Ok(Accepted)
}

async fn forgot_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ForgotPasswordInput>,
) -> AppResult<Accepted> {
    account_email::forgot_password(&state, &caller, input).await?;
    Ok(Accepted)
}

async fn reset_password(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<ResetPasswordInput>,
) -> AppResult<Json<Done>> {
    account_email::reset_password(&state, &caller, input).await?;
    Ok(done())
}

async fn change_email(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    ApiJson(input): ApiJson<ChangeEmailInput>,
) -> AppResult<Accepted> {
    account_email::change_email(&state, &caller, input).await?;
    Ok(Accepted)
}

async fn confirm_email_change(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<TokenInput>,
) -> AppResult<Json<Envelope<UserView>>> {
    let account = account_email::confirm_email_change(&state, input).await?;
    Ok(ok(UserView::load(&state, &account, true).await?))
}

async fn register(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<RegisterInput>,
) -> AppResult<Created<SessionView>> {
    let session = sessions::register(&state, &caller, input).await?;
    Ok(Created(SessionView::load(&state, session).await?))
}

async fn login(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(input): ApiJson<LoginInput>,
) -> AppResult<Json<Envelope<SessionView>>> {
    let session = sessions::login(&state, &caller, input).await?;
    Ok(ok(SessionView::load(&state, session).await?))
}

async fn refresh(
    State(state): State<AppState>,
    ApiJson(input): ApiJson<RefreshInput>,
) -> AppResult<Json<Envelope<SessionView>>> {
    let session = sessions::refresh(&state, input).await?;
    Ok(ok(SessionView::load(&state, session).await?))
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
