//! Comments on posts: threads listed oldest first with keyset cursors, replies nested
//! at most [`MAX_REPLY_DEPTH`] levels, edits by their author, and deletion that leaves
//! a "[deleted]" placeholder where replies hang.
//!
//! `post.comment_count` (every comment and reply of a post, placeholders included)
//! and `comment.reply_count` change in the same transaction as the rows they count.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{comment, post, user};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, QueryTrait,
    sea_query::{Alias, Asterisk, Expr, Query, SelectStatement, UnionType},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    effects::Write,
    feed_positions, mentions, new_id,
    notification_copy::Happening,
    notifications::NewNotification,
    now,
    pagination::{CursorPage, CursorSlice, CursorWindow},
    posts::{self, PostCounter, PostRef},
    reactions::{self, ReactionTarget},
    text::trimmed_non_empty,
    users::{self, AuthorSummary},
    validate::Validator,
};
use crate::{
    auth::{Caller, Viewer},
    error::{AppError, AppResult},
    jobs::Job,
    realtime::Event,
    state::AppState,
};

/// Longest comment, in characters.
pub const MAX_CONTENT_CHARS: usize = 5_000;
/// Deepest reply: a top-level comment has depth 0, its replies 1, and so on.
pub const MAX_REPLY_DEPTH: i32 = 5;
/// The content of a deleted comment that keeps its place for its replies.
pub const DELETED_CONTENT: &str = "[deleted]";

/// Reaction and reply totals of a comment.
#[derive(
    Clone, Copy, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject,
)]
pub struct CommentCounts {
    pub reactions: i64,
    /// Direct replies.
    pub replies: i64,
}

/// A comment as REST shows it (the seed's `Comment`).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Comment")]
pub struct CommentView {
    pub id: String,
    pub post_id: String,
    /// The comment this one replies to; null for a top-level comment.
    pub parent_id: Option<String>,
    pub content: String,
    pub edited: bool,
    /// A deleted comment with replies: its content is "[deleted]".
    pub deleted: bool,
    /// Whole seconds into the post's video.
    pub youtube_timestamp: Option<i32>,
    pub author: AuthorSummary,
    #[serde(rename = "_count")]
    pub count: CommentCounts,
    pub created_at: DateTime<Utc>,
    pub edited_at: Option<DateTime<Utc>>,
}

impl CommentView {
    fn new(row: &comment::Model, author: AuthorSummary) -> Self {
        Self {
            id: row.id.clone(),
            post_id: row.post_id.clone(),
            parent_id: row.parent_id.clone(),
            content: row.content.clone(),
            edited: row.edited,
            deleted: row.deleted,
            youtube_timestamp: row.youtube_timestamp,
            author,
            count: counts(row),
            created_at: row.created_at,
            edited_at: row.edited_at,
        }
    }
}

/// The reaction and reply totals of a row.
pub fn counts(row: &comment::Model) -> CommentCounts {
    CommentCounts {
        reactions: row.reaction_count,
        replies: row.reply_count,
    }
}

/// Fields of a new comment.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct CreateCommentInput {
    /// 1–5,000 characters.
    #[schemars(length(min = 1, max = 5000))]
    pub content: String,
    /// Reply to this comment of the same post (replies nest at most 5 levels).
    pub parent_id: Option<String>,
    /// Whole seconds (0 or more) into the post's video.
    #[schemars(range(min = 0))]
    pub youtube_timestamp: Option<i64>,
}

/// A list of comments: the top-level comments of a post, or the direct replies of a
/// comment. Both are ordered by id, which is time-sortable (oldest first).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum CommentThread {
    /// Top-level comments, by post id.
    Post(String),
    /// Direct replies, by the id of the comment replied to.
    Replies(String),
}

impl CommentThread {
    /// The thread `row` is listed in.
    pub fn of(row: &comment::Model) -> Self {
        match &row.parent_id {
            Some(parent_id) => Self::Replies(parent_id.clone()),
            None => Self::Post(row.post_id.clone()),
        }
    }
}

/// A thread as a client names it.
#[derive(Clone, Copy, Debug)]
pub enum ThreadRef<'a> {
    /// The top-level comments of a post.
    Post(PostRef<'a>),
    /// The replies of a comment, by id.
    Replies(&'a str),
}

/// Whether a lookup accepts the "[deleted]" placeholder of a comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Placeholders {
    /// Found like any comment (reading).
    Include,
    /// Not found (editing, deleting, reacting).
    Exclude,
}

/// A comment counter kept in step with the rows it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommentCounter {
    /// `reply_count`: direct replies.
    Replies,
    /// `reaction_count`: reactions on the comment.
    Reactions,
}

/// Adds `delta` to a counter of comment `comment_id`; returns whether the comment
/// exists. Call it inside the transaction that adds or removes the counted rows.
pub async fn adjust_counter(
    db: &impl ConnectionTrait,
    comment_id: &str,
    counter: CommentCounter,
    delta: i64,
) -> AppResult<bool> {
    let column = match counter {
        CommentCounter::Replies => comment::Column::ReplyCount,
        CommentCounter::Reactions => comment::Column::ReactionCount,
    };
    let result = comment::Entity::update_many()
        .col_expr(column, Expr::col(column).add(delta))
        .filter(comment::Column::Id.eq(comment_id))
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}

/// One page of a thread the caller may see, as REST shows it.
pub async fn list_page(
    state: &AppState,
    caller: &Caller,
    thread: ThreadRef<'_>,
    window: &CursorWindow<String>,
) -> AppResult<CursorPage<CommentView>> {
    let thread = match thread {
        ThreadRef::Post(key) => {
            CommentThread::Post(posts::visible_post(state, caller, key).await?.id)
        }
        ThreadRef::Replies(id) => {
            let (comment, _) = find_with_post(state, caller, id, Placeholders::Include).await?;
            CommentThread::Replies(comment.id)
        }
    };
    let rows = thread_pages(&state.db, std::slice::from_ref(&thread), window)
        .await?
        .remove(&thread)
        .unwrap_or_default();
    let slice = CursorSlice::from_probe(rows, window.limit, |row| row.id.clone());
    let authors = authors_of(state, slice.rows.iter().map(|(_, row)| row)).await?;
    Ok(slice
        .filter_map(|row| {
            authors
                .get(&row.author_id)
                .map(|author| CommentView::new(&row, author.into()))
        })
        .into_page(|view| view))
}

/// The view of one comment.
pub async fn view(state: &AppState, row: &comment::Model) -> AppResult<CommentView> {
    let authors = authors_of(state, [row]).await?;
    let author = authors
        .get(&row.author_id)
        .ok_or(AppError::NotFound("Comment author"))?;
    Ok(CommentView::new(row, author.into()))
}

/// The authors of `rows`, by id, in one statement.
async fn authors_of<'a>(
    state: &AppState,
    rows: impl IntoIterator<Item = &'a comment::Model>,
) -> AppResult<HashMap<String, user::Model>> {
    let ids: Vec<String> = rows.into_iter().map(|row| row.author_id.clone()).collect();
    users::users_by_ids(&state.db, &ids).await
}

/// Most threads [`thread_pages`] reads in one statement (SQLite accepts at most 500
/// parts in one `UNION ALL`).
const THREADS_PER_STATEMENT: usize = 100;

/// For each of `threads`, its rows after `window.after`, oldest first, one more than
/// `window.limit` (to learn whether more follow). Every thread gets an entry. One
/// statement per [`THREADS_PER_STATEMENT`] threads.
pub async fn thread_pages(
    db: &impl ConnectionTrait,
    threads: &[CommentThread],
    window: &CursorWindow<String>,
) -> AppResult<HashMap<CommentThread, Vec<comment::Model>>> {
    let mut pages: HashMap<CommentThread, Vec<comment::Model>> = threads
        .iter()
        .map(|thread| (thread.clone(), Vec::new()))
        .collect();
    for batch in threads.chunks(THREADS_PER_STATEMENT) {
        let Some(statement) = thread_pages_statement(batch, window) else {
            continue;
        };
        let rows = comment::Model::find_by_statement(db.get_database_backend().build(&statement))
            .all(db)
            .await?;
        for row in rows {
            if let Some(page) = pages.get_mut(&CommentThread::of(&row)) {
                page.push(row);
            }
        }
    }
    // SQL orders each thread's part, not the parts among themselves.
    for page in pages.values_mut() {
        page.sort_by(|a, b| a.id.cmp(&b.id));
    }
    Ok(pages)
}

/// The statement [`thread_pages`] runs for `threads` (`None` for no thread): each
/// thread's page read on its own, so that it follows the thread's index in id order
/// and stops after the page, joined by `UNION ALL` when there are several.
pub fn thread_pages_statement(
    threads: &[CommentThread],
    window: &CursorWindow<String>,
) -> Option<SelectStatement> {
    let mut pages = threads.iter().map(|thread| {
        let mut page = comment::Entity::find().filter(thread_condition(thread));
        if let Some(after) = &window.after {
            page = page.filter(comment::Column::Id.gt(after.as_str()));
        }
        page.order_by_asc(comment::Column::Id)
            .limit(window.probe_limit())
            .into_query()
    });
    let first = pages.next()?;
    if threads.len() == 1 {
        return Some(first);
    }
    // A part of a union may not have its own ORDER BY and LIMIT: each is a subquery.
    let part = |index: usize, page: SelectStatement| {
        Query::select()
            .column(Asterisk)
            .from_subquery(page, Alias::new(format!("thread_{index}")))
            .to_owned()
    };
    let mut union = part(0, first);
    for (index, page) in pages.enumerate() {
        union.union(UnionType::All, part(index + 1, page));
    }
    Some(union)
}

/// The rows listed in `thread`.
fn thread_condition(thread: &CommentThread) -> Condition {
    match thread {
        CommentThread::Post(post_id) => Condition::all()
            .add(comment::Column::ParentId.is_null())
            .add(comment::Column::PostId.eq(post_id.as_str())),
        CommentThread::Replies(parent_id) => {
            Condition::all().add(comment::Column::ParentId.eq(parent_id.as_str()))
        }
    }
}

/// Comment `id` and its post, when the caller may see that post (else 404, as for a
/// comment that does not exist).
pub async fn find_with_post(
    state: &AppState,
    caller: &Caller,
    id: &str,
    placeholders: Placeholders,
) -> AppResult<(comment::Model, post::Model)> {
    let not_found = AppError::NotFound("Comment");
    let comment = comment::Entity::find_by_id(id)
        .one(&state.db)
        .await?
        .filter(|comment| placeholders == Placeholders::Include || !comment.deleted)
        .ok_or(not_found)?;
    match posts::visible_post(state, caller, PostRef::Id(&comment.post_id)).await {
        Ok(post) => Ok((comment, post)),
        Err(AppError::NotFound(_)) => Err(AppError::NotFound("Comment")),
        Err(err) => Err(err),
    }
}

/// Adds a comment (or a reply, with `parentId`) to a post the caller may see.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    post_key: PostRef<'_>,
    input: CreateCommentInput,
) -> AppResult<comment::Model> {
    let viewer = caller.viewer()?;
    state
        .limits
        .comment_create
        .check(&caller.rate_key())
        .await?;
    let post = posts::visible_post(state, caller, post_key).await?;
    let parent = match trimmed_non_empty(input.parent_id) {
        Some(parent_id) => Some(
            comment::Entity::find_by_id(parent_id)
                .filter(comment::Column::PostId.eq(&post.id))
                .one(&state.db)
                .await?,
        ),
        None => None,
    };

    let mut validator = Validator::default();
    validate_content(&mut validator, &input.content);
    let youtube_timestamp = input.youtube_timestamp.and_then(|seconds| {
        let valid = i32::try_from(seconds).ok().filter(|seconds| *seconds >= 0);
        validator.check(
            "youtubeTimestamp",
            valid.is_some(),
            "must be whole seconds, 0 or more",
        );
        valid
    });
    let depth = match &parent {
        None => 0,
        Some(None) => {
            validator.check("parentId", false, "must be a comment of this post");
            0
        }
        Some(Some(parent)) => {
            validator.check(
                "parentId",
                !parent.deleted,
                "cannot reply to a deleted comment",
            );
            validator.check(
                "parentId",
                parent.depth < MAX_REPLY_DEPTH,
                format!("replies nest at most {MAX_REPLY_DEPTH} levels"),
            );
            parent.depth + 1
        }
    };
    validator.finish()?;
    let parent = parent.flatten();

    let created_at = now();
    let mut write = Write::begin(state).await?;
    // First, so concurrent comments on this post queue here, before any other lock.
    let feed_position =
        feed_positions::take(write.db(), &feed_positions::comments_of(&post.id)).await?;
    if let Some(parent) = &parent {
        // Counting the reply first locks the parent: a concurrent delete then sees it.
        let counted = adjust_counter(write.db(), &parent.id, CommentCounter::Replies, 1).await?;
        if !counted {
            return Err(AppError::field(
                "parentId",
                "must be a comment of this post",
            ));
        }
    }
    let comment = comment::ActiveModel {
        id: Set(new_id()),
        post_id: Set(post.id.clone()),
        author_id: Set(viewer.id.clone()),
        parent_id: Set(parent.as_ref().map(|parent| parent.id.clone())),
        depth: Set(depth),
        content: Set(input.content.trim().to_owned()),
        youtube_timestamp: Set(youtube_timestamp),
        edited: Set(false),
        edited_at: Set(None),
        deleted: Set(false),
        reply_count: Set(0),
        reaction_count: Set(0),
        feed_position: Set(feed_position),
        created_at: Set(created_at),
        updated_at: Set(created_at),
    }
    .insert(write.db())
    .await?;
    posts::adjust_counter(write.db(), &post.id, PostCounter::Comments, 1).await?;
    write
        .notify_all(new_comment_notifications(
            viewer,
            &post,
            parent.as_ref(),
            &comment,
        ))
        .await?;
    enqueue_mentions(&mut write, &comment).await?;
    write.publish(Event::CommentAdded {
        comment: comment.clone(),
    });
    write.commit().await?;
    Ok(comment)
}

/// Replaces the content of one of the caller's comments; users newly mentioned are
/// notified (those mentioned before are not notified again).
pub async fn edit(
    state: &AppState,
    caller: &Caller,
    id: &str,
    content: String,
) -> AppResult<comment::Model> {
    let viewer = caller.viewer()?;
    let (current, _) = find_with_post(state, caller, id, Placeholders::Exclude).await?;
    if current.author_id != viewer.id {
        return Err(AppError::Forbidden("Only the author may edit this comment"));
    }
    let mut validator = Validator::default();
    validate_content(&mut validator, &content);
    validator.finish()?;

    let edited_at = now();
    let comment = comment::Model {
        content: content.trim().to_owned(),
        edited: true,
        edited_at: Some(edited_at),
        updated_at: edited_at,
        ..current
    };
    let mut write = Write::begin(state).await?;
    let updated = comment::Entity::update_many()
        .col_expr(
            comment::Column::Content,
            Expr::value(comment.content.clone()),
        )
        .col_expr(comment::Column::Edited, Expr::value(true))
        .col_expr(comment::Column::EditedAt, Expr::value(comment.edited_at))
        .col_expr(comment::Column::UpdatedAt, Expr::value(comment.updated_at))
        .filter(comment::Column::Id.eq(&comment.id))
        .filter(comment::Column::Deleted.eq(false))
        .exec(write.db())
        .await?;
    if updated.rows_affected == 0 {
        return Err(AppError::NotFound("Comment"));
    }
    enqueue_mentions(&mut write, &comment).await?;
    write.commit().await?;
    Ok(comment)
}

/// Deletes a comment of the caller's (or any, for moderators). A comment with replies
/// becomes a "[deleted]" placeholder that keeps its place; one without is removed,
/// and so is a placeholder whose last reply this was.
pub async fn delete(state: &AppState, caller: &Caller, id: &str) -> AppResult<()> {
    let viewer = caller.viewer()?;
    let (current, _) = find_with_post(state, caller, id, Placeholders::Exclude).await?;
    if !viewer.owns_or_moderates(&current.author_id) {
        return Err(AppError::Forbidden(
            "Only the author or a moderator may delete this comment",
        ));
    }
    let write = Write::begin(state).await?;
    if remove_if_childless(write.db(), &current).await? {
        let mut removed = 1;
        let mut parent_id = current.parent_id.clone();
        while let Some(id) = parent_id.take() {
            adjust_counter(write.db(), &id, CommentCounter::Replies, -1).await?;
            let parent = comment::Entity::find_by_id(id).one(write.db()).await?;
            if let Some(parent) = parent.filter(|parent| parent.deleted)
                && remove_if_childless(write.db(), &parent).await?
            {
                removed += 1;
                parent_id = parent.parent_id;
            }
        }
        posts::adjust_counter(
            write.db(),
            &current.post_id,
            PostCounter::Comments,
            -removed,
        )
        .await?;
    } else {
        let updated = comment::Entity::update_many()
            .col_expr(comment::Column::Content, Expr::value(DELETED_CONTENT))
            .col_expr(comment::Column::Deleted, Expr::value(true))
            .col_expr(comment::Column::UpdatedAt, Expr::value(now()))
            .filter(comment::Column::Id.eq(&current.id))
            .filter(comment::Column::Deleted.eq(false))
            .exec(write.db())
            .await?;
        if updated.rows_affected == 0 {
            return Err(AppError::NotFound("Comment"));
        }
    }
    write.commit().await
}

/// Removes `row` and the reactions on it unless it has replies; returns whether it did.
async fn remove_if_childless(db: &impl ConnectionTrait, row: &comment::Model) -> AppResult<bool> {
    let result = comment::Entity::delete_many()
        .filter(comment::Column::Id.eq(&row.id))
        .filter(comment::Column::ReplyCount.eq(0))
        .exec(db)
        .await?;
    let removed = result.rows_affected > 0;
    if removed {
        reactions::remove_all(db, &ReactionTarget::Comment(row.id.clone())).await?;
    }
    Ok(removed)
}

/// 1–5,000 characters, not only spaces.
fn validate_content(validator: &mut Validator, content: &str) {
    validator.length("content", content, 1, MAX_CONTENT_CHARS);
}

/// `{postId, commentId}`: where a notification about `comment` leads.
pub fn link(comment: &comment::Model) -> serde_json::Value {
    json!({ "postId": comment.post_id, "commentId": comment.id })
}

/// POST_COMMENTED for the post's author and, for a reply, the parent comment's author
/// (once, when they are the same person). The actor's own are dropped by `notify`.
fn new_comment_notifications(
    actor: &Viewer,
    post: &post::Model,
    parent: Option<&comment::Model>,
    comment: &comment::Model,
) -> Vec<NewNotification> {
    let mut news = vec![NewNotification::about(
        &Happening::Commented {
            commenter: &actor.username,
            post_title: &post.title,
        },
        &post.author_id,
        Some(&actor.id),
        link(comment),
    )];
    if let Some(parent) = parent.filter(|parent| parent.author_id != post.author_id) {
        news.push(NewNotification::about(
            &Happening::Replied {
                replier: &actor.username,
                post_title: &post.title,
            },
            &parent.author_id,
            Some(&actor.id),
            link(comment),
        ));
    }
    news
}

/// Enqueues the notification of the accounts `comment` mentions (see
/// [`mentions::notify_comment_mentions`]).
async fn enqueue_mentions(write: &mut Write<'_>, comment: &comment::Model) -> AppResult<()> {
    if mentions::mentions_anyone(&comment.content) {
        write
            .enqueue(Job::NotifyCommentMentions {
                comment_id: comment.id.clone(),
            })
            .await?;
    }
    Ok(())
}
