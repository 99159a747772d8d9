//! Signing up, signing in and out: access tokens plus rotating refresh tokens.
//!
//! Refresh tokens are single use. Presenting one that was already used means it
//! leaked, so its whole family (every token rotated from the same login) is revoked.

use std::time::Duration;

use chrono::TimeDelta;
use entity::{login_throttle, refresh_token, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait,
    QueryFilter, sea_query::Expr,
};
use serde::{Deserialize, Serialize};

use super::{
    effects::Write,
    new_id, now,
    users::UserView,
    validate::{self, Validator},
};
use crate::{
    auth::{Caller, Role, UserStatus, new_refresh_secret, refresh_secret_hash},
    error::{AppError, AppResult},
    mail::{MailContent, queue_mail},
    realtime::Event,
    state::AppState,
};

/// A new account.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct RegisterInput {
    /// A valid email address, unique.
    #[schemars(email)]
    pub email: String,
    /// At least 8 characters with an upper-case letter, a lower-case letter and a digit.
    #[schemars(length(min = 8))]
    pub password: String,
    /// 3–30 characters of `[A-Za-z0-9_]`, unique without regard to case.
    #[schemars(length(min = 3, max = 30), regex(pattern = r"^[a-zA-Z0-9_]+$"))]
    pub username: String,
}

/// Email and password.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct LoginInput {
    #[schemars(email)]
    pub email: String,
    #[schemars(length(min = 8))]
    pub password: String,
}

/// A refresh token to exchange.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct RefreshInput {
    pub refresh_token: String,
}

/// What to end: one session (by its refresh token) or all of them.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct LogoutInput {
    /// End the session this refresh token belongs to.
    pub refresh_token: Option<String>,
    /// End every session of the account, and invalidate its access tokens.
    #[serde(default)]
    #[graphql(default)]
    pub all_sessions: bool,
}

/// A signed-in session: the account and its tokens.
#[derive(Debug)]
pub struct Session {
    pub account: user::Model,
    /// Access token (JWT) for `Authorization: Bearer …`.
    pub token: String,
    /// Single-use token for `POST /api/auth/refresh`.
    pub refresh_token: String,
    /// Seconds until `token` expires.
    pub expires_in: u64,
}

/// A session as REST returns it: `{user, token, refreshToken, expiresIn}`.
#[derive(Debug, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Session")]
pub struct SessionView {
    pub user: UserView,
    /// Access token (JWT) for `Authorization: Bearer …`.
    pub token: String,
    /// Single-use token for `POST /api/auth/refresh`.
    pub refresh_token: String,
    /// Seconds until `token` expires.
    pub expires_in: u64,
}

impl SessionView {
    /// The view of `session`.
    pub async fn load(state: &AppState, session: Session) -> AppResult<Self> {
        Ok(Self {
            user: UserView::load(state, &session.account, true).await?,
            token: session.token,
            refresh_token: session.refresh_token,
            expires_in: session.expires_in,
        })
    }
}

/// Creates an account, signs it in and mails it the link that verifies its address.
pub async fn register(
    state: &AppState,
    caller: &Caller,
    input: RegisterInput,
) -> AppResult<Session> {
    state.limits.auth.check(&caller.rate_key()).await?;
    let email = input.email.trim().to_lowercase();
    let mut validator = Validator::default();
    validator.check(
        "email",
        validate::is_valid_email(&email),
        "must be a valid email address",
    );
    validator.check(
        "username",
        validate::is_valid_username(&input.username),
        "must be 3-30 characters of letters, digits and underscores",
    );
    if let Some(problem) = validate::password_problem(&input.password) {
        validator.check("password", false, problem);
    }
    validator.finish()?;

    let username_lower = input.username.to_lowercase();
    let taken = user::Entity::find()
        .filter(
            user::Column::Email
                .eq(&email)
                .or(user::Column::UsernameLower.eq(&username_lower)),
        )
        .all(&state.db)
        .await?;
    if taken.iter().any(|row| row.email == email) {
        return Err(AppError::Conflict {
            field: "email",
            message: "Email is already registered".into(),
        });
    }
    if !taken.is_empty() {
        return Err(AppError::Conflict {
            field: "username",
            message: "Username is already taken".into(),
        });
    }

    let password_hash = state.passwords.hash(input.password).await?;
    let created_at = now();
    let mut write = Write::begin(state).await?;
    let account = user::ActiveModel {
        id: Set(new_id()),
        email: Set(email),
        username: Set(input.username),
        username_lower: Set(username_lower),
        password_hash: Set(password_hash),
        role: Set(Role::User.as_str().to_owned()),
        status: Set(UserStatus::PendingVerification.as_str().to_owned()),
        level: Set(1),
        experience: Set(0),
        image: Set(None),
        image_media_id: Set(None),
        bio: Set(None),
        email_verified: Set(false),
        session_version: Set(0),
        created_at: Set(created_at),
        updated_at: Set(created_at),
    }
    .insert(write.db())
    .await
    .map_err(|err| {
        AppError::unique_violation(err, "username", "Email or username is already taken")
    })?;
    queue_mail(
        &mut write,
        &account.id,
        &account.email,
        &MailContent::Welcome,
        None,
    )
    .await?;
    write.commit().await?;
    start_session(state, account, new_id()).await
}

/// Signs in with email and password. Wrong email and wrong password look the same.
pub async fn login(state: &AppState, caller: &Caller, input: LoginInput) -> AppResult<Session> {
    state.limits.auth.check(&caller.rate_key()).await?;
    let email = input.email.trim().to_lowercase();
    let throttle = login_throttle::Entity::find_by_id(email.clone())
        .one(&state.db)
        .await?;
    if let Some(locked_until) = throttle.as_ref().and_then(|row| row.locked_until) {
        let remaining = locked_until - now();
        if remaining > TimeDelta::zero() {
            return Err(AppError::AccountLocked {
                retry_after: remaining.to_std().unwrap_or(Duration::ZERO),
            });
        }
    }

    let account = user::Entity::find()
        .filter(user::Column::Email.eq(&email))
        .one(&state.db)
        .await?;
    let hash = account
        .as_ref()
        .map(|account| account.password_hash.clone());
    if !state.passwords.verify(input.password, hash).await? {
        record_failed_login(state, email, throttle).await?;
        return Err(AppError::InvalidCredentials);
    }
    let account = account.ok_or(AppError::InvalidCredentials)?;
    if throttle.is_some() {
        login_throttle::Entity::delete_by_id(email)
            .exec(&state.writer)
            .await?;
    }
    if !UserStatus::stored_may_act(&account.status) {
        return Err(AppError::Forbidden("Account is suspended or banned"));
    }
    start_session(state, account, new_id()).await
}

/// Counts a failed login for `email`, locking it once the configured count is reached.
async fn record_failed_login(
    state: &AppState,
    email: String,
    throttle: Option<login_throttle::Model>,
) -> AppResult<()> {
    let attempts = throttle.as_ref().map_or(0, |row| {
        if row.locked_until.is_some() {
            0
        } else {
            row.failed_attempts
        }
    }) + 1;
    let locked_until = (u32::try_from(attempts).unwrap_or(u32::MAX)
        >= state.config.auth.login_lockout_attempts)
        .then(|| {
            now() + TimeDelta::minutes(i64::try_from(state.config.lockout_minutes()).unwrap_or(15))
        });
    let row = login_throttle::ActiveModel {
        email_lower: Set(email),
        failed_attempts: Set(if locked_until.is_some() { 0 } else { attempts }),
        locked_until: Set(locked_until),
        updated_at: Set(now()),
    };
    if throttle.is_some() {
        row.update(&state.writer).await?;
    } else {
        row.insert(&state.writer).await?;
    }
    Ok(())
}

/// Exchanges a refresh token for a new pair; reuse of a spent one ends every session
/// of the account, access tokens included.
pub async fn refresh(state: &AppState, input: RefreshInput) -> AppResult<Session> {
    let hash = refresh_secret_hash(&input.refresh_token);
    let token = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(hash))
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthorized("Invalid refresh token"))?;
    if token.revoked_at.is_some() || token.expires_at <= now() {
        return Err(AppError::Unauthorized("Refresh token expired or revoked"));
    }
    // Claim the token atomically: of two concurrent uses, only one wins.
    let claimed = refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::UsedAt, Expr::value(now()))
        .filter(refresh_token::Column::Id.eq(&token.id))
        .filter(refresh_token::Column::UsedAt.is_null())
        .exec(&state.writer)
        .await?;
    if claimed.rows_affected != 1 {
        // A spent token used again means it was copied: whoever holds the login's
        // newest tokens may be the thief, so every session ends, access tokens too.
        end_sessions_of(state, &token.user_id).await?;
        tracing::warn!(family = %token.family_id, "refresh token reused; every session of the account ended");
        return Err(AppError::Unauthorized(
            "Refresh token already used; session revoked",
        ));
    }
    let account = user::Entity::find_by_id(token.user_id.clone())
        .one(&state.db)
        .await?
        .ok_or(AppError::Unauthorized("Account no longer exists"))?;
    if !UserStatus::stored_may_act(&account.status) {
        return Err(AppError::Unauthorized("Account is suspended or banned"));
    }
    start_session(state, account, token.family_id).await
}

/// Ends one session (its refresh-token family) or, with `all_sessions`, every session
/// of the caller, including access tokens already issued.
pub async fn logout(state: &AppState, caller: &Caller, input: LogoutInput) -> AppResult<()> {
    let viewer = caller.viewer()?;
    if input.all_sessions {
        return end_sessions_of(state, &viewer.id).await;
    }
    let Some(secret) = input.refresh_token else {
        return Err(AppError::field(
            "refreshToken",
            "give the session's refresh token, or allSessions: true",
        ));
    };
    let token = refresh_token::Entity::find()
        .filter(refresh_token::Column::TokenHash.eq(refresh_secret_hash(&secret)))
        .filter(refresh_token::Column::UserId.eq(&viewer.id))
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("Session"))?;
    revoke_family(state, &token.family_id).await
}

/// Revokes every refresh token of `user_id` and invalidates its access tokens (by
/// raising its session version), in `write`, which tells every instance after the
/// commit (live sockets close).
pub async fn end_all_sessions(write: &mut Write<'_>, user_id: &str) -> AppResult<()> {
    let db = write.db();
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now()))
        .filter(refresh_token::Column::UserId.eq(user_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    user::Entity::update_many()
        .col_expr(
            user::Column::SessionVersion,
            Expr::col(user::Column::SessionVersion).add(1),
        )
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    write.publish(Event::SessionsEnded {
        user_id: user_id.to_owned(),
    });
    Ok(())
}

/// Ends every session of `user_id` and tells every instance (live sockets close).
async fn end_sessions_of(state: &AppState, user_id: &str) -> AppResult<()> {
    let mut write = Write::begin(state).await?;
    end_all_sessions(&mut write, user_id).await?;
    write.commit().await
}

async fn revoke_family(state: &AppState, family_id: &str) -> AppResult<()> {
    refresh_token::Entity::update_many()
        .col_expr(refresh_token::Column::RevokedAt, Expr::value(now()))
        .filter(refresh_token::Column::FamilyId.eq(family_id))
        .filter(refresh_token::Column::RevokedAt.is_null())
        .exec(&state.writer)
        .await?;
    Ok(())
}

/// Issues an access token and a new refresh token in `family_id`.
async fn start_session(
    state: &AppState,
    account: user::Model,
    family_id: String,
) -> AppResult<Session> {
    let secret = new_refresh_secret();
    let issued_at = now();
    let ttl_days = i64::try_from(state.config.auth.refresh_token_ttl_days).unwrap_or(30);
    refresh_token::ActiveModel {
        id: Set(new_id()),
        user_id: Set(account.id.clone()),
        family_id: Set(family_id),
        token_hash: Set(refresh_secret_hash(&secret)),
        expires_at: Set(issued_at + TimeDelta::days(ttl_days)),
        created_at: Set(issued_at),
        used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&state.writer)
    .await?;
    let token = state.tokens.issue(&account.id, account.session_version)?;
    Ok(Session {
        account,
        token,
        refresh_token: secret,
        expires_in: state.tokens.ttl_secs(),
    })
}

/// What [`purge_expired`] deleted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PurgedSessions {
    pub refresh_tokens: u64,
    pub login_throttles: u64,
}

/// Failed-login counts without a lockout are forgotten after this long.
const FAILED_LOGINS_KEPT: TimeDelta = TimeDelta::days(1);

/// Deletes expired refresh tokens (used and revoked ones are kept until they expire,
/// so a replayed token is still recognised as reuse), ended lockouts, and failed-login
/// counts untouched for a day. The `purge_expired_sessions` schedule runs it daily.
pub async fn purge_expired(db: &impl ConnectionTrait) -> AppResult<PurgedSessions> {
    let now = now();
    let refresh_tokens = refresh_token::Entity::delete_many()
        .filter(refresh_token::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    let login_throttles = login_throttle::Entity::delete_many()
        .filter(
            sea_orm::Condition::any()
                .add(login_throttle::Column::LockedUntil.lt(now))
                .add(
                    sea_orm::Condition::all()
                        .add(login_throttle::Column::LockedUntil.is_null())
                        .add(login_throttle::Column::UpdatedAt.lt(now - FAILED_LOGINS_KEPT)),
                ),
        )
        .exec(db)
        .await?
        .rows_affected;
    Ok(PurgedSessions {
        refresh_tokens,
        login_throttles,
    })
}
