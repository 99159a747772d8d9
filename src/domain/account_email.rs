//! The account's email address: verifying it, resetting a forgotten password through
//! it, and moving the account to a new address (confirmed from that address).
//!
//! Each flow mails a single-use token (only its SHA-256 is stored). Verification and
//! address-change tokens expire after 24 hours, reset tokens after one; a new token
//! of a purpose revokes the account's earlier ones. A token is claimed with one
//! conditional update, so of two concurrent uses only one succeeds.

use chrono::TimeDelta;
use entity::{email_token, login_throttle, user};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    sea_query::Expr,
};
use serde::Deserialize;

use super::{
    effects::Write,
    new_id, now, sessions,
    users::level_for,
    validate::{self, Validator},
};
use crate::{
    auth::{Caller, UserStatus, new_refresh_secret, refresh_secret_hash},
    error::{AppError, AppResult},
    jobs::Job,
    mail::{MailContent, queue_mail},
    state::AppState,
};

/// Experience for verifying one's address (PRODUCT_RULES: email verified 20).
const EMAIL_VERIFIED_XP: i64 = 20;

/// At most one password-reset mail per account in this long, so nobody can flood an
/// inbox through the (anonymous) forgot-password form.
const RESET_MAIL_INTERVAL: TimeDelta = TimeDelta::minutes(2);

/// What a mailed token lets its holder do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenPurpose {
    /// Verify the account's address.
    Verify,
    /// Set a new password.
    Reset,
    /// Move the account to the token's new address.
    ChangeEmail,
}

impl TokenPurpose {
    fn as_str(self) -> &'static str {
        match self {
            Self::Verify => "VERIFY",
            Self::Reset => "RESET",
            Self::ChangeEmail => "CHANGE_EMAIL",
        }
    }

    fn lifetime(self) -> TimeDelta {
        match self {
            Self::Verify | Self::ChangeEmail => TimeDelta::hours(24),
            Self::Reset => TimeDelta::hours(1),
        }
    }

    /// How long a token works, in words (the mail says it).
    pub fn lifetime_in_words(self) -> &'static str {
        match self {
            Self::Verify | Self::ChangeEmail => "24 hours",
            Self::Reset => "1 hour",
        }
    }
}

/// A token from a verification mail.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct TokenInput {
    /// The token of the mail's link.
    pub token: String,
}

/// The address to send a password-reset link to.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct ForgotPasswordInput {
    #[schemars(email)]
    pub email: String,
}

/// A reset token and the new password.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct ResetPasswordInput {
    /// The token of the reset mail's link.
    pub token: String,
    /// At least 8 characters with an upper-case letter, a lower-case letter and a digit.
    #[schemars(length(min = 8))]
    pub password: String,
}

/// A new address for the signed-in account, with its current password.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct ChangeEmailInput {
    #[schemars(email)]
    pub new_email: String,
    /// The account's current password.
    pub password: String,
}

/// Makes a token for `user_id` and `purpose` (revoking the account's earlier ones of
/// that purpose) and returns it; the mail that carries it is being sent.
pub async fn issue_token(
    state: &AppState,
    user_id: &str,
    purpose: TokenPurpose,
    new_email: Option<&str>,
) -> AppResult<String> {
    let token = new_refresh_secret();
    let issued_at = now();
    let txn = state.begin_write().await?;
    email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(issued_at))
        .filter(email_token::Column::UserId.eq(user_id))
        .filter(email_token::Column::Purpose.eq(purpose.as_str()))
        .filter(email_token::Column::UsedAt.is_null())
        .exec(&txn)
        .await?;
    email_token::Entity::insert(email_token::ActiveModel {
        id: Set(new_id()),
        user_id: Set(user_id.to_owned()),
        purpose: Set(purpose.as_str().to_owned()),
        token_hash: Set(refresh_secret_hash(&token)),
        new_email: Set(new_email.map(str::to_owned)),
        expires_at: Set(issued_at + purpose.lifetime()),
        used_at: Set(None),
        created_at: Set(issued_at),
    })
    .exec_without_returning(&txn)
    .await?;
    txn.commit().await?;
    Ok(token)
}

/// Spends `token` for `purpose`: refused unless it exists, is unused and unexpired.
async fn claim_token(
    db: &impl ConnectionTrait,
    token: &str,
    purpose: TokenPurpose,
) -> AppResult<email_token::Model> {
    let invalid = || AppError::field("token", "is invalid, expired or already used");
    let hash = refresh_secret_hash(token.trim());
    let at = now();
    let claimed = email_token::Entity::update_many()
        .col_expr(email_token::Column::UsedAt, Expr::value(at))
        .filter(email_token::Column::TokenHash.eq(&hash))
        .filter(email_token::Column::Purpose.eq(purpose.as_str()))
        .filter(email_token::Column::UsedAt.is_null())
        .filter(email_token::Column::ExpiresAt.gt(at))
        .exec(db)
        .await?;
    if claimed.rows_affected != 1 {
        return Err(invalid());
    }
    email_token::Entity::find()
        .filter(email_token::Column::TokenHash.eq(hash))
        .one(db)
        .await?
        .ok_or_else(invalid)
}

/// Marks the account's address verified (a pending account becomes ACTIVE, and gains
/// the experience of verifying once).
async fn mark_verified(db: &impl ConnectionTrait, account: &user::Model) -> AppResult<()> {
    if account.email_verified {
        return Ok(());
    }
    let experience = account.experience + EMAIL_VERIFIED_XP;
    let status = if account.status == UserStatus::PendingVerification.as_str() {
        UserStatus::Active.as_str()
    } else {
        account.status.as_str()
    };
    user::Entity::update_many()
        .col_expr(user::Column::EmailVerified, Expr::value(true))
        .col_expr(user::Column::Status, Expr::value(status))
        .col_expr(user::Column::Experience, Expr::value(experience))
        .col_expr(user::Column::Level, Expr::value(level_for(experience)))
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(&account.id))
        .exec(db)
        .await?;
    Ok(())
}

async fn account_of(db: &impl ConnectionTrait, user_id: &str) -> AppResult<user::Model> {
    user::Entity::find_by_id(user_id.to_owned())
        .one(db)
        .await?
        .ok_or(AppError::NotFound("User"))
}

/// Verifies the address the token was mailed to; returns the account.
pub async fn verify_email(state: &AppState, input: TokenInput) -> AppResult<user::Model> {
    let write = Write::begin(state).await?;
    let token = claim_token(write.db(), &input.token, TokenPurpose::Verify).await?;
    let account = account_of(write.db(), &token.user_id).await?;
    mark_verified(write.db(), &account).await?;
    let account = account_of(write.db(), &token.user_id).await?;
    write.commit().await?;
    Ok(account)
}

/// Mails the signed-in account a new verification link (earlier ones stop working).
pub async fn resend_verification(state: &AppState, caller: &Caller) -> AppResult<()> {
    state.limits.auth.check(&caller.rate_key()).await?;
    let viewer = caller.viewer()?;
    let account = account_of(&state.db, &viewer.id).await?;
    if account.email_verified {
        return Err(AppError::Conflict {
            field: "email",
            message: "The address is already verified".into(),
        });
    }
    let mut write = Write::begin(state).await?;
    queue_mail(
        &mut write,
        &account.id,
        &account.email,
        &MailContent::VerifyEmail,
        None,
    )
    .await?;
    write.commit().await
}

/// Accepts a password-reset request. It answers the same, in the same time, whether
/// or not the address has an account: the lookup and the mail happen in a job.
pub async fn forgot_password(
    state: &AppState,
    caller: &Caller,
    input: ForgotPasswordInput,
) -> AppResult<()> {
    state.limits.auth.check(&caller.rate_key()).await?;
    let email = input.email.trim().to_lowercase();
    if !validate::is_valid_email(&email) {
        return Err(AppError::field("email", "must be a valid email address"));
    }
    let mut write = Write::begin(state).await?;
    write.enqueue(Job::SendPasswordReset { email }).await?;
    write.commit().await
}

/// The `send_password_reset` job: mails a reset link to the account at `email`, if
/// there is one that may sign in and none was mailed in the last minutes.
pub async fn send_password_reset(state: &AppState, email: &str) -> AppResult<()> {
    let Some(account) = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .one(&state.writer)
        .await?
    else {
        return Ok(());
    };
    if !UserStatus::stored_may_act(&account.status) {
        return Ok(());
    }
    let recent = entity::mail::Entity::find()
        .filter(entity::mail::Column::UserId.eq(&account.id))
        .filter(entity::mail::Column::Kind.eq(MailContent::PasswordReset.kind()))
        .filter(entity::mail::Column::CreatedAt.gt(now() - RESET_MAIL_INTERVAL))
        .count(&state.writer)
        .await?;
    if recent > 0 {
        return Ok(());
    }
    let mut write = Write::begin(state).await?;
    queue_mail(
        &mut write,
        &account.id,
        &account.email,
        &MailContent::PasswordReset,
        None,
    )
    .await?;
    write.commit().await
}

/// Sets a new password with a reset token; every session of the account ends (a
/// reset proves the mailbox, so the address counts as verified too).
pub async fn reset_password(
    state: &AppState,
    caller: &Caller,
    input: ResetPasswordInput,
) -> AppResult<()> {
    state.limits.auth.check(&caller.rate_key()).await?;
    let mut validator = Validator::default();
    if let Some(problem) = validate::password_problem(&input.password) {
        validator.check("password", false, problem);
    }
    validator.finish()?;
    let password_hash = state.passwords.hash(input.password).await?;
    let mut write = Write::begin(state).await?;
    let token = claim_token(write.db(), &input.token, TokenPurpose::Reset).await?;
    let account = account_of(write.db(), &token.user_id).await?;
    if !UserStatus::stored_may_act(&account.status) {
        return Err(AppError::Forbidden("Account is suspended or banned"));
    }
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(&account.id))
        .exec(write.db())
        .await?;
    mark_verified(write.db(), &account).await?;
    login_throttle::Entity::delete_by_id(account.email.clone())
        .exec(write.db())
        .await?;
    sessions::end_all_sessions(&mut write, &account.id).await?;
    write.commit().await
}

/// Starts moving the signed-in account to a new address: a confirmation link is
/// mailed there; the account keeps its address until the link is used.
pub async fn change_email(
    state: &AppState,
    caller: &Caller,
    input: ChangeEmailInput,
) -> AppResult<()> {
    state.limits.auth.check(&caller.rate_key()).await?;
    let viewer = caller.viewer()?;
    let new_email = input.new_email.trim().to_lowercase();
    if !validate::is_valid_email(&new_email) {
        return Err(AppError::field("newEmail", "must be a valid email address"));
    }
    let account = account_of(&state.db, &viewer.id).await?;
    if !state
        .passwords
        .verify(input.password, Some(account.password_hash.clone()))
        .await?
    {
        return Err(AppError::field("password", "is not the account's password"));
    }
    if new_email == account.email {
        return Err(AppError::field(
            "newEmail",
            "is the account's address already",
        ));
    }
    ensure_address_free(&state.db, &new_email).await?;
    let mut write = Write::begin(state).await?;
    let content = MailContent::ConfirmNewEmail {
        new_email: new_email.clone(),
    };
    queue_mail(&mut write, &account.id, &new_email, &content, None).await?;
    write.commit().await
}

async fn ensure_address_free(db: &impl ConnectionTrait, email: &str) -> AppResult<()> {
    let taken = user::Entity::find()
        .filter(user::Column::Email.eq(email))
        .count(db)
        .await?;
    if taken > 0 {
        return Err(AppError::Conflict {
            field: "newEmail",
            message: "Email is already registered".into(),
        });
    }
    Ok(())
}

/// Moves the account to the address the token was mailed to, and tells the old
/// address; returns the account.
pub async fn confirm_email_change(state: &AppState, input: TokenInput) -> AppResult<user::Model> {
    let mut write = Write::begin(state).await?;
    let token = claim_token(write.db(), &input.token, TokenPurpose::ChangeEmail).await?;
    let new_email = token
        .new_email
        .clone()
        .ok_or_else(|| AppError::Internal("an address-change token without an address".into()))?;
    let account = account_of(write.db(), &token.user_id).await?;
    ensure_address_free(write.db(), &new_email).await?;
    user::Entity::update_many()
        .col_expr(user::Column::Email, Expr::value(new_email.clone()))
        .col_expr(user::Column::UpdatedAt, Expr::value(now()))
        .filter(user::Column::Id.eq(&account.id))
        .exec(write.db())
        .await
        .map_err(|err| {
            AppError::unique_violation(err, "newEmail", "Email is already registered")
        })?;
    mark_verified(write.db(), &account).await?;
    let content = MailContent::EmailChanged { new_email };
    queue_mail(&mut write, &account.id, &account.email, &content, None).await?;
    let changed = account_of(write.db(), &account.id).await?;
    write.commit().await?;
    Ok(changed)
}

/// Deletes tokens expired for a day or more (the daily session purge does).
pub async fn purge_expired_tokens(db: &impl ConnectionTrait) -> AppResult<u64> {
    Ok(email_token::Entity::delete_many()
        .filter(email_token::Column::ExpiresAt.lt(now() - TimeDelta::days(1)))
        .exec(db)
        .await?
        .rows_affected)
}
