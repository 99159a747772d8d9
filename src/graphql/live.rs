//! Mutations of the live features: typing indicators and account moderation.

use async_graphql::{Context, ID, Object, ResultExt};

use super::{context::ContextExt, types::User};
use crate::{
    domain::{
        moderation::{self, SetStatusInput},
        posts::{self, PostRef},
    },
    realtime::Event,
};

#[derive(Default)]
pub struct LiveMutation;

#[Object]
impl LiveMutation {
    /// Says the viewer is (or stopped) typing on a post they may see; lapses after `TYPING_TTL_SECS`.
    async fn set_typing(
        &self,
        ctx: &Context<'_>,
        post_id: ID,
        typing: bool,
    ) -> async_graphql::Result<bool> {
        let caller = ctx.caller()?;
        let viewer = caller.viewer().extend()?;
        let state = ctx.state()?;
        // Typing on a post one may not see would tell its watchers who knows of it.
        let post = posts::visible_post(state, caller, PostRef::Id(&post_id))
            .await
            .extend()?;
        state.events.publish(Event::Typing {
            post_id: post.id,
            user_id: viewer.id.clone(),
            username: viewer.username.clone(),
            typing,
        });
        Ok(true)
    }

    /// MODERATOR or ADMIN: suspends, bans or reinstates an account.
    async fn set_user_status(
        &self,
        ctx: &Context<'_>,
        username: String,
        input: SetStatusInput,
    ) -> async_graphql::Result<User> {
        let row = moderation::set_status(ctx.state()?, ctx.caller()?, &username, input)
            .await
            .extend()?;
        User::for_caller(ctx, row)
    }
}
