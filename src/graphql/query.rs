//! Query root.

use async_graphql::{Context, Object, OneofObject, ResultExt};

use super::{
    context::{ContextExt, connection_window},
    types::{OffsetConnection, Post, User, post_connection},
};
use crate::domain::{
    pagination::PageWindow,
    posts::{self, PostFilter, PostRef, PostSort},
    taxonomy::{self, CategoryView, TagView},
    users,
};

/// How to find one post.
#[derive(OneofObject)]
pub enum PostKey {
    Id(String),
    Slug(String),
}

/// Accounts, posts and taxonomy.
#[derive(Default)]
pub struct CoreQuery;

#[Object]
impl CoreQuery {
    /// The signed-in account, or null when anonymous.
    async fn me(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let Some(viewer) = &ctx.caller()?.viewer else {
            return Ok(None);
        };
        let row = users::find_by_username(&ctx.state()?.db, &viewer.username)
            .await
            .extend()?;
        User::for_caller(ctx, row).map(Some)
    }

    /// An account by username (any case).
    async fn user(&self, ctx: &Context<'_>, username: String) -> async_graphql::Result<User> {
        let row = users::find_by_username(&ctx.state()?.db, &username)
            .await
            .extend()?;
        User::for_caller(ctx, row)
    }

    /// One post by id or slug; counts a view. Drafts only for their author and moderators.
    async fn post(&self, ctx: &Context<'_>, by: PostKey) -> async_graphql::Result<Post> {
        let key = match &by {
            PostKey::Id(id) => PostRef::Id(id),
            PostKey::Slug(slug) => PostRef::Slug(slug),
        };
        let row = posts::read(ctx.state()?, ctx.caller()?, key)
            .await
            .extend()?;
        Ok(Post::single(row))
    }

    /// Published posts.
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        #[graphql(default)] sort: PostSort,
        #[graphql(desc = "Category slug or id")] category: Option<String>,
        #[graphql(desc = "Tag name or slug")] tag: Option<String>,
    ) -> async_graphql::Result<OffsetConnection<Post>> {
        let state = ctx.state()?;
        let window = connection_window(state, first, after.as_deref())?;
        let with_total = ctx.look_ahead().field("totalCount").exists();
        let filter = PostFilter {
            sort,
            category,
            tag,
        };
        let probe = PageWindow {
            limit: window.limit + 1,
            ..window
        };
        let (rows, total) = posts::list(state, &filter, probe, with_total)
            .await
            .extend()?;
        post_connection(ctx, rows, window, total.unwrap_or_default()).await
    }

    /// Every category.
    async fn categories(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<CategoryView>> {
        taxonomy::list_categories(ctx.state()?).await.extend()
    }

    /// Tags by name.
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TagView>> {
        taxonomy::list_tags(&ctx.state()?.db).await.extend()
    }
}
