//! `/api/posts/{id}/comments`, `/api/comments/{id}`, `/api/comments/{id}/replies`.

use aide::axum::{ApiRouter, routing::get_with};
use axum::{
    Json,
    extract::{Path, State},
    response::NoContent,
};
use serde::Deserialize;

use super::{
    extract::{ApiJson, ApiQuery},
    respond::{Created, Envelope, ok},
};
use crate::{
    auth::{Caller, Viewer},
    domain::{
        comments::{self, CommentView, CreateCommentInput, ThreadRef},
        pagination::{CursorPage, CursorWindow, PageFields},
        posts::PostRef,
    },
    error::AppResult,
    state::AppState,
};

/// The OpenAPI tag of these operations.
pub const TAG: &str = "Comments";

/// The comment routes.
pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/api/posts/{id}/comments",
            get_with(list, |op| {
                op.tag(TAG)
                    .summary("Get post comments")
                    .description("Get the top-level comments of a post, oldest first")
            })
            .post_with(create, |op| {
                op.tag(TAG)
                    .summary("Create comment")
                    .description("Add a comment to a post, or a reply with `parentId`")
            }),
        )
        .api_route(
            "/api/comments/{id}/replies",
            get_with(replies, |op| {
                op.tag(TAG)
                    .summary("Get replies")
                    .description("Get the direct replies of a comment, oldest first")
            }),
        )
        .api_route(
            "/api/comments/{id}",
            get_with(read, |op| op.tag(TAG).summary("Get comment"))
                .put_with(edit, |op| {
                    op.tag(TAG)
                        .summary("Edit comment")
                        .description("Replace the content of your comment")
                })
                .delete_with(delete, |op| {
                    op.tag(TAG).summary("Delete comment").description(
                        "Delete a comment (author or moderator); one with replies stays as \"[deleted]\"",
                    )
                }),
        )
}

/// Cursor-page parameters.
#[derive(Deserialize, schemars::JsonSchema)]
struct CommentPageQuery {
    /// `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Comments per page.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 100))]
    limit: u64,
}

fn default_limit() -> u64 {
    20
}

impl CommentPageQuery {
    fn window(&self, state: &AppState) -> AppResult<CursorWindow<String>> {
        CursorWindow::parse(
            self.cursor.as_deref(),
            self.limit,
            state.config.api.max_page_size,
            PageFields::REST,
        )
    }
}

#[derive(Deserialize, schemars::JsonSchema)]
struct CommentedPostPath {
    /// Post id or slug.
    id: String,
}

#[derive(Deserialize, schemars::JsonSchema)]
struct CommentPath {
    /// Comment id.
    id: String,
}

/// `PUT /api/comments/{id}` body.
#[derive(Deserialize, schemars::JsonSchema)]
struct EditCommentBody {
    /// 1–5,000 characters.
    #[schemars(length(min = 1, max = 5000))]
    content: String,
}

async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CommentedPostPath>,
    ApiQuery(query): ApiQuery<CommentPageQuery>,
) -> AppResult<Json<Envelope<CursorPage<CommentView>>>> {
    let thread = ThreadRef::Post(PostRef::IdOrSlug(&path.id));
    let window = query.window(&state)?;
    Ok(ok(
        comments::list_page(&state, &caller, thread, &window).await?
    ))
}

async fn replies(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CommentPath>,
    ApiQuery(query): ApiQuery<CommentPageQuery>,
) -> AppResult<Json<Envelope<CursorPage<CommentView>>>> {
    let thread = ThreadRef::Replies(&path.id);
    let window = query.window(&state)?;
    Ok(ok(
        comments::list_page(&state, &caller, thread, &window).await?
    ))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<CommentedPostPath>,
    ApiJson(input): ApiJson<CreateCommentInput>,
) -> AppResult<Created<CommentView>> {
    let comment = comments::create(&state, &caller, PostRef::IdOrSlug(&path.id), input).await?;
    Ok(Created(comments::view(&state, &comment).await?))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<CommentPath>,
) -> AppResult<Json<Envelope<CommentView>>> {
    let (comment, _) =
        comments::find_with_post(&state, &caller, &path.id, comments::Placeholders::Include)
            .await?;
    Ok(ok(comments::view(&state, &comment).await?))
}

async fn edit(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<CommentPath>,
    ApiJson(body): ApiJson<EditCommentBody>,
) -> AppResult<Json<Envelope<CommentView>>> {
    let comment = comments::edit(&state, &caller, &path.id, body.content).await?;
    Ok(ok(comments::view(&state, &comment).await?))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<CommentPath>,
) -> AppResult<NoContent> {
    comments::delete(&state, &caller, &path.id).await?;
    Ok(NoContent)
}
