//! Global object identification, as Relay, Apollo and urql caches expect: posts,
//! comments, users and notifications implement `Node`, and `node(id:)` / `nodes(ids:)`
//! fetch any of them again by id.
//!
//! Ids are UUIDs, unique across every table, so an object's own `id` is its global id
//! (the same value REST shows): `node` looks for it among posts, comments, users and
//! notifications in turn, applying the rules each kind has for the caller (drafts of
//! others, and other users' notifications, are not found).

use async_graphql::{Context, ID, Interface, Object, ResultExt};
use entity::notification;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{
    comments::Comment,
    context::ContextExt,
    notifications::Notification,
    types::{Post, User},
};
use crate::{
    domain::{
        comments::{self, Placeholders},
        posts::{self, PostRef},
        users,
    },
    error::AppError,
};

/// An object that can be fetched again by its id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Unique across every kind of object."))]
pub enum Node {
    Post(Post),
    Comment(Comment),
    User(User),
    Notification(Notification),
}

/// `node` and `nodes`.
#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// The object with this id, if the caller may see it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> async_graphql::Result<Option<Node>> {
        find(ctx, &id).await
    }

    /// The objects with these ids, in the same order (null where none may be seen);
    /// at most `MAX_PAGE_SIZE` at once.
    async fn nodes(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
    ) -> async_graphql::Result<Vec<Option<Node>>> {
        let max = usize::try_from(ctx.state()?.config.api.max_page_size).unwrap_or(usize::MAX);
        if ids.len() > max {
            return Err(AppError::field("ids", format!("at most {max} at once"))).extend();
        }
        let mut found = Vec::with_capacity(ids.len());
        for id in &ids {
            found.push(find(ctx, id).await?);
        }
        Ok(found)
    }
}

/// The object `id` names, looked for in each kind in turn.
async fn find(ctx: &Context<'_>, id: &str) -> async_graphql::Result<Option<Node>> {
    let (state, caller) = (ctx.state()?, ctx.caller()?);
    match posts::visible_post(state, caller, PostRef::Id(id)).await {
        Ok(row) => return Ok(Some(Node::Post(Post::single(row)))),
        Err(AppError::NotFound(_)) => {}
        Err(err) => return Err(err).extend(),
    }
    match comments::find_with_post(state, caller, id, Placeholders::Include).await {
        Ok((row, _)) => return Ok(Some(Node::Comment(Comment(row)))),
        Err(AppError::NotFound(_)) => {}
        Err(err) => return Err(err).extend(),
    }
    let user = users::users_by_ids(&state.db, &[id.to_owned()])
        .await
        .extend()?
        .remove(id);
    if let Some(row) = user {
        return Ok(Some(Node::User(User::for_caller(ctx, row)?)));
    }
    let Some(viewer) = &caller.viewer else {
        return Ok(None);
    };
    let own = notification::Entity::find_by_id(id.to_owned())
        .filter(notification::Column::UserId.eq(&viewer.id))
        .one(&state.db)
        .await
        .map_err(AppError::from)
        .extend()?;
    Ok(own.map(|row| Node::Notification(Notification::new(row))))
}
