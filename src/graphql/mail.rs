//! The account's email address and mail preferences (the twins of `/api/auth/*` email
//! operations and `/api/mail/*`), and the mail statistics for administrators.

use async_graphql::{Context, Object, ResultExt};

use super::{context::ContextExt, types::User};
use crate::{
    domain::account_email::{
        self, ChangeEmailInput, ForgotPasswordInput, ResetPasswordInput, TokenInput,
    },
    mail::{
        preferences::{self, EmailPreferences, Unsubscribed, UpdateEmailPreferencesInput},
        tracking::{self, MailKindStats},
    },
};

/// Mail preferences and statistics.
#[derive(Default)]
pub struct MailQuery;

#[Object]
impl MailQuery {
    /// Which mail the signed-in user gets, by category.
    async fn email_preferences(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<EmailPreferences> {
        preferences::get(ctx.state()?, ctx.caller()?).await.extend()
    }

    /// ADMIN only: per kind of mail, how many were set out to send, delivered,
    /// deferred, skipped, opened and clicked.
    async fn mail_stats(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<MailKindStats>> {
        tracking::stats(ctx.state()?, ctx.caller()?).await.extend()
    }
}

/// The account's address, password resets and mail preferences.
#[derive(Default)]
pub struct MailMutation;

#[Object]
impl MailMutation {
    /// Spends a verification mail's token: the address is verified and a pending
    /// account becomes ACTIVE. The token proves the mailbox: the account is shown as
    /// to its owner.
    async fn verify_email(
        &self,
        ctx: &Context<'_>,
        input: TokenInput,
    ) -> async_graphql::Result<User> {
        let account = account_email::verify_email(ctx.state()?, input)
            .await
            .extend()?;
        Ok(User::to_its_owner(account))
    }

    /// Mails the signed-in account a new verification link; returns true.
    async fn resend_verification(&self, ctx: &Context<'_>) -> async_graphql::Result<bool> {
        account_email::resend_verification(ctx.state()?, ctx.caller()?)
            .await
            .extend()?;
        Ok(true)
    }

    /// Mails a password-reset link if the address has an account; returns true
    /// either way.
    async fn forgot_password(
        &self,
        ctx: &Context<'_>,
        input: ForgotPasswordInput,
    ) -> async_graphql::Result<bool> {
        account_email::forgot_password(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()?;
        Ok(true)
    }

    /// Sets a new password with a reset mail's token; every session ends. Returns true.
    async fn reset_password(
        &self,
        ctx: &Context<'_>,
        input: ResetPasswordInput,
    ) -> async_graphql::Result<bool> {
        account_email::reset_password(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()?;
        Ok(true)
    }

    /// Mails a confirmation link to a new address; returns true.
    async fn change_email(
        &self,
        ctx: &Context<'_>,
        input: ChangeEmailInput,
    ) -> async_graphql::Result<bool> {
        account_email::change_email(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()?;
        Ok(true)
    }

    /// Spends the token mailed to a new address: the account moves to it.
    async fn confirm_email_change(
        &self,
        ctx: &Context<'_>,
        input: TokenInput,
    ) -> async_graphql::Result<User> {
        let account = account_email::confirm_email_change(ctx.state()?, input)
            .await
            .extend()?;
        Ok(User::to_its_owner(account))
    }

    /// Changes the signed-in user's mail preferences.
    async fn update_email_preferences(
        &self,
        ctx: &Context<'_>,
        input: UpdateEmailPreferencesInput,
    ) -> async_graphql::Result<EmailPreferences> {
        preferences::update(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()
    }

    /// Turns off the category of a mail's signed unsubscribe token (no login needed).
    async fn unsubscribe(
        &self,
        ctx: &Context<'_>,
        token: String,
    ) -> async_graphql::Result<Unsubscribed> {
        preferences::unsubscribe(ctx.state()?, &token)
            .await
            .extend()
    }
}
