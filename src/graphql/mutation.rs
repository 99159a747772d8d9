//! Mutation root.

use async_graphql::{Context, Object, ResultExt};

use super::{
    context::ContextExt,
    types::{AuthPayload, Post, User},
};
use crate::domain::{
    posts::{self, CreatePostInput, PostRef, UpdatePostInput},
    sessions::{self, LoginInput, LogoutInput, RefreshInput, RegisterInput},
    users::{self, UpdateProfileInput},
};

/// Sessions, profiles and posts.
#[derive(Default)]
pub struct CoreMutation;

#[Object]
impl CoreMutation {
    /// Creates an account and signs it in.
    async fn register(
        &self,
        ctx: &Context<'_>,
        input: RegisterInput,
    ) -> async_graphql::Result<AuthPayload> {
        let session = sessions::register(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()?;
        Ok(session.into())
    }

    /// Signs in with email and password.
    async fn login(
        &self,
        ctx: &Context<'_>,
        input: LoginInput,
    ) -> async_graphql::Result<AuthPayload> {
        let session = sessions::login(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()?;
        Ok(session.into())
    }

    /// Exchanges a single-use refresh token for a new pair.
    async fn refresh_token(
        &self,
        ctx: &Context<'_>,
        input: RefreshInput,
    ) -> async_graphql::Result<AuthPayload> {
        let session = sessions::refresh(ctx.state()?, input).await.extend()?;
        Ok(session.into())
    }

    /// Ends one session or every session; returns true.
    async fn logout(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] input: LogoutInput,
    ) -> async_graphql::Result<bool> {
        sessions::logout(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()?;
        Ok(true)
    }

    /// Edits the signed-in account's profile.
    async fn update_profile(
        &self,
        ctx: &Context<'_>,
        input: UpdateProfileInput,
    ) -> async_graphql::Result<User> {
        let row = users::update_profile(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()?;
        User::for_caller(ctx, row)
    }

    /// Creates a post.
    async fn create_post(
        &self,
        ctx: &Context<'_>,
        input: CreatePostInput,
    ) -> async_graphql::Result<Post> {
        let row = posts::create(ctx.state()?, ctx.caller()?, input)
            .await
            .extend()?;
        Ok(Post::single(row))
    }

    /// Changes a post (author or moderator).
    async fn update_post(
        &self,
        ctx: &Context<'_>,
        id: String,
        input: UpdatePostInput,
    ) -> async_graphql::Result<Post> {
        let row = posts::update(ctx.state()?, ctx.caller()?, PostRef::Id(&id), input)
            .await
            .extend()?;
        Ok(Post::single(row))
    }

    /// Deletes a post (author or moderator); returns true.
    async fn delete_post(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<bool> {
        posts::delete(ctx.state()?, ctx.caller()?, PostRef::Id(&id))
            .await
            .extend()?;
        Ok(true)
    }
}
