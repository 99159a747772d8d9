//! Comments in GraphQL: the `Comment` object, the keyset connections of threads
//! (`Post.comments`, `Comment.replies`) with their prefetching, the `comment` query
//! and the comment mutations.

use async_graphql::{
    Context, ID, Lookahead, Object, ResultExt, SelectionField, Value,
    futures_util::future::BoxFuture,
};
use entity::comment;

use super::{
    context::ContextExt,
    cursor::{CursorConnection, cursor_connection, cursor_window},
    loaders::{CommentPage, UserById, prime},
    reactions::{ReactionSummary, prefetch_reactions, reaction_summary},
    types::{Timestamp, User},
};
use crate::{
    domain::{
        comments::{self, CommentCounts, CommentThread, CreateCommentInput, Placeholders},
        pagination::{CursorSlice, CursorWindow},
        posts::PostRef,
        reactions::ReactionTarget,
    },
    state::AppState,
};

/// A comment or reply.
pub struct Comment(pub comment::Model);

#[Object]
impl Comment {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn post_id(&self) -> &str {
        &self.0.post_id
    }
    /// The comment this one replies to; null for a top-level comment.
    async fn parent_id(&self) -> Option<&str> {
        self.0.parent_id.as_deref()
    }
    /// 0 for a top-level comment, 1 for a reply to it, … (at most 5).
    async fn depth(&self) -> i32 {
        self.0.depth
    }
    /// "[deleted]" for a deleted comment that keeps its place for its replies.
    async fn content(&self) -> &str {
        &self.0.content
    }
    async fn edited(&self) -> bool {
        self.0.edited
    }
    /// A deleted comment kept for its replies.
    async fn deleted(&self) -> bool {
        self.0.deleted
    }
    /// Whole seconds into the post's video.
    async fn youtube_timestamp(&self) -> Option<i32> {
        self.0.youtube_timestamp
    }
    /// Reaction and direct reply totals.
    async fn counts(&self) -> CommentCounts {
        comments::counts(&self.0)
    }
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    async fn edited_at(&self) -> Option<Timestamp> {
        self.0.edited_at.map(Timestamp)
    }
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        User::by_id(ctx, &self.0.author_id).await
    }
    /// Direct replies, oldest first.
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn replies(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CursorConnection<Comment>> {
        comment_connection(ctx, replies_of(&self.0), first, after).await
    }
    /// Reactions on the comment.
    async fn reactions(&self, ctx: &Context<'_>) -> async_graphql::Result<ReactionSummary> {
        reaction_summary(ctx, ReactionTarget::Comment(self.0.id.clone())).await
    }
}

/// The replies thread of `row`; `None` when it has no replies (nothing to load).
pub fn replies_of(row: &comment::Model) -> Option<CommentThread> {
    (row.reply_count > 0).then(|| CommentThread::Replies(row.id.clone()))
}

/// The top-level thread of post `post_id`; `None` when it has no comments.
pub fn comments_of(post_id: &str, comment_count: i64) -> Option<CommentThread> {
    (comment_count > 0).then(|| CommentThread::Post(post_id.to_owned()))
}

/// One page of `thread` (`None`: a thread known to be empty) as a connection, with
/// the fields its nodes select loaded for the whole page.
pub async fn comment_connection(
    ctx: &Context<'_>,
    thread: Option<CommentThread>,
    first: Option<i32>,
    after: Option<String>,
) -> async_graphql::Result<CursorConnection<Comment>> {
    let window: CursorWindow<String> = cursor_window(ctx.state()?, first, after.as_deref())?;
    let rows = match thread {
        Some(thread) => ctx
            .loader()?
            .load_one(CommentPage::new(thread, &window))
            .await?
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let page_size = rows
        .len()
        .min(usize::try_from(window.limit).unwrap_or(usize::MAX));
    let node = ctx.look_ahead().field("edges").field("node");
    prefetch_comment_fields(ctx, node, &rows[..page_size]).await?;
    let slice = CursorSlice::from_probe(rows, window.limit, |row| row.id.clone());
    Ok(cursor_connection(slice, window.after.is_some(), Comment))
}

/// Loads, for every one of `threads` at once, the page each selection of
/// `connection` (a `comments` or `replies` field) asks for, then the fields its
/// nodes select.
pub fn prefetch_threads<'a>(
    ctx: &'a Context<'_>,
    connection: Lookahead<'a>,
    threads: Vec<CommentThread>,
) -> BoxFuture<'a, async_graphql::Result<()>> {
    Box::pin(async move {
        if threads.is_empty() {
            return Ok(());
        }
        let state = ctx.state()?;
        for field in connection.selection_fields() {
            // Bad arguments are reported by the connection's resolver.
            let Some(window) = requested_window(state, &field) else {
                continue;
            };
            let keys = threads
                .iter()
                .map(|thread| CommentPage::new(thread.clone(), &window));
            let pages = ctx.loader()?.load_many(keys).await?;
            let page_size = usize::try_from(window.limit).unwrap_or(usize::MAX);
            let rows: Vec<comment::Model> = pages
                .into_values()
                .flat_map(|rows| rows.into_iter().take(page_size))
                .collect();
            let node = Lookahead::from(field).field("edges").field("node");
            prefetch_comment_fields(ctx, node, &rows).await?;
        }
        Ok(())
    })
}

/// Loads, for all `rows` at once, the nested fields the selection `node` asks for.
/// Replies come first and every level waits for the one below, so each key type is
/// loaded in one batch per level and the statement count never depends on timing.
async fn prefetch_comment_fields(
    ctx: &Context<'_>,
    node: Lookahead<'_>,
    rows: &[comment::Model],
) -> async_graphql::Result<()> {
    if rows.is_empty() || !node.exists() {
        return Ok(());
    }
    prefetch_threads(
        ctx,
        node.field("replies"),
        rows.iter().filter_map(replies_of).collect(),
    )
    .await?;
    let authors = prime(node.field("author").exists(), ctx.loader()?, || {
        rows.iter().map(|row| UserById(row.author_id.clone()))
    });
    let reactions = prefetch_reactions(
        ctx,
        node.field("reactions"),
        rows.iter()
            .map(|row| ReactionTarget::Comment(row.id.clone())),
    );
    futures_util::try_join!(authors, reactions)?;
    Ok(())
}

/// The window of a connection selection's `first` / `after` arguments, when valid.
fn requested_window(state: &AppState, field: &SelectionField<'_>) -> Option<CursorWindow<String>> {
    let arguments = field.arguments().ok()?;
    let argument = |name: &str| {
        arguments
            .iter()
            .find(|(argument, _)| argument.as_str() == name)
            .map(|(_, value)| value)
    };
    let first = match argument("first") {
        None | Some(Value::Null) => None,
        Some(Value::Number(first)) => Some(i32::try_from(first.as_i64()?).ok()?),
        Some(_) => return None,
    };
    let after = match argument("after") {
        None | Some(Value::Null) => None,
        Some(Value::String(after)) => Some(after.as_str()),
        Some(_) => return None,
    };
    cursor_window(state, first, after).ok()
}

/// Reading one comment.
#[derive(Default)]
pub struct CommentQuery;

#[Object]
impl CommentQuery {
    /// A comment by id (a deleted one with replies reads as "[deleted]").
    async fn comment(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<Comment> {
        let (row, _) =
            comments::find_with_post(ctx.state()?, ctx.caller()?, &id, Placeholders::Include)
                .await
                .extend()?;
        Ok(Comment(row))
    }
}

/// Writing comments.
#[derive(Default)]
pub struct CommentMutation;

#[Object]
impl CommentMutation {
    /// Adds a comment to a post, or a reply with `input.parentId`.
    async fn add_comment(
        &self,
        ctx: &Context<'_>,
        post_id: String,
        input: CreateCommentInput,
    ) -> async_graphql::Result<Comment> {
        let row = comments::create(ctx.state()?, ctx.caller()?, PostRef::Id(&post_id), input)
            .await
            .extend()?;
        Ok(Comment(row))
    }

    /// Replaces the content of your comment.
    async fn edit_comment(
        &self,
        ctx: &Context<'_>,
        id: String,
        content: String,
    ) -> async_graphql::Result<Comment> {
        let row = comments::edit(ctx.state()?, ctx.caller()?, &id, content)
            .await
            .extend()?;
        Ok(Comment(row))
    }

    /// Deletes a comment (author or moderator); one with replies stays as
    /// "[deleted]". Returns true.
    async fn delete_comment(&self, ctx: &Context<'_>, id: String) -> async_graphql::Result<bool> {
        comments::delete(ctx.state()?, ctx.caller()?, &id)
            .await
            .extend()?;
        Ok(true)
    }
}
