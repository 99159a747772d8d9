//! Follows: the `follow` / `unfollow` mutations and the follow fields of `User`.

use async_graphql::{Context, Object, ResultExt};

use super::{
    context::ContextExt,
    cursor::{CursorConnection, cursor_connection, cursor_window},
    loaders::ViewerFollows,
    types::User,
};
use crate::domain::follows::{self, FollowList, FollowStatus};

/// Following and unfollowing.
#[derive(Default)]
pub struct SocialMutation;

#[Object]
impl SocialMutation {
    /// Follows an account (following twice changes nothing).
    async fn follow(
        &self,
        ctx: &Context<'_>,
        username: String,
    ) -> async_graphql::Result<FollowStatus> {
        follows::follow(ctx.state()?, ctx.caller()?, &username)
            .await
            .extend()
    }

    /// Stops following an account (fine when not following).
    async fn unfollow(
        &self,
        ctx: &Context<'_>,
        username: String,
    ) -> async_graphql::Result<FollowStatus> {
        follows::unfollow(ctx.state()?, ctx.caller()?, &username)
            .await
            .extend()
    }
}

/// `User.followers` and `User.following`: one page of `user_id`'s follow list.
pub async fn follow_connection(
    ctx: &Context<'_>,
    user_id: &str,
    which: FollowList,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<CursorConnection<User>> {
    let state = ctx.state()?;
    let window = cursor_window(state, first, after.as_deref())?;
    let slice = follows::list(&state.db, user_id, which, &window)
        .await
        .extend()?;
    let slice = slice.try_map(|row| User::for_caller(ctx, row))?;
    Ok(cursor_connection(
        slice,
        window.after.is_some(),
        std::convert::identity,
    ))
}

/// `User.followedByViewer`: null when anonymous.
pub async fn followed_by_viewer(
    ctx: &Context<'_>,
    user_id: &str,
) -> async_graphql::Result<Option<bool>> {
    let Some(viewer) = &ctx.caller()?.viewer else {
        return Ok(None);
    };
    let key = ViewerFollows {
        viewer_id: viewer.id.clone(),
        user_id: user_id.to_owned(),
    };
    Ok(Some(ctx.loader()?.load_one(key).await?.unwrap_or_default()))
}
