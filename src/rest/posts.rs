//! `/api/posts/*`, `/api/categories`, `/api/tags`.

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
        pagination::{OffsetPage, PageWindow},
        posts::{
            self, CreatePostInput, PostDetailView, PostFilter, PostRef, PostSort, PostView,
            UpdatePostInput,
        },
        taxonomy::{self, CategoryView, TagView},
    },
    error::AppResult,
    state::AppState,
};

const TAG: &str = "Posts";

pub fn routes() -> ApiRouter<AppState> {
    ApiRouter::new()
        .api_route(
            "/api/posts",
            get_with(list, |op| {
                op.tag(TAG)
                    .summary("List posts")
                    .description("Get paginated list of published posts")
            })
            .post_with(create, |op| {
                op.tag(TAG)
                    .summary("Create post")
                    .description("Create a new blog post")
            }),
        )
        .api_route(
            "/api/posts/{id}",
            get_with(read, |op| {
                op.tag(TAG)
                    .summary("Get post")
                    .description("Get a single post by ID or slug; counts a view")
            })
            .put_with(update, |op| {
                op.tag(TAG)
                    .summary("Update post")
                    .description("Update an existing post")
            })
            .delete_with(delete, |op| {
                op.tag(TAG)
                    .summary("Delete post")
                    .description("Delete a post")
            }),
        )
        .api_route(
            "/api/categories",
            get_with(categories, |op| op.tag(TAG).summary("List categories")),
        )
        .api_route(
            "/api/tags",
            get_with(tags, |op| op.tag(TAG).summary("List tags")),
        )
}

/// `GET /api/posts` parameters.
#[derive(Deserialize, schemars::JsonSchema)]
struct PostListQuery {
    /// 1-based page number.
    #[serde(default = "first_page")]
    #[schemars(range(min = 1))]
    page: u64,
    /// Posts per page.
    #[serde(default = "default_limit")]
    #[schemars(range(min = 1, max = 100))]
    limit: u64,
    #[serde(default)]
    sort: PostSort,
    /// Category slug or id.
    category: Option<String>,
    /// Tag name or slug.
    tag: Option<String>,
}

fn first_page() -> u64 {
    1
}

fn default_limit() -> u64 {
    20
}

#[derive(Deserialize, schemars::JsonSchema)]
struct PostPath {
    /// Post id or slug.
    id: String,
}

async fn list(
    State(state): State<AppState>,
    _caller: Caller,
    ApiQuery(query): ApiQuery<PostListQuery>,
) -> AppResult<Json<Envelope<OffsetPage<PostView>>>> {
    let window = PageWindow::from_page(query.page, query.limit, state.config.api.max_page_size)?;
    let filter = PostFilter {
        sort: query.sort,
        category: query.category,
        tag: query.tag,
    };
    Ok(ok(posts::list_page(&state, &filter, window).await?))
}

async fn create(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    ApiJson(input): ApiJson<CreatePostInput>,
) -> AppResult<Created<PostDetailView>> {
    let post = posts::create(&state, &caller, input).await?;
    Ok(Created(posts::detail_view(&state, post).await?))
}

async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(path): Path<PostPath>,
) -> AppResult<Json<Envelope<PostDetailView>>> {
    let post = posts::read(&state, &caller, PostRef::IdOrSlug(&path.id)).await?;
    Ok(ok(posts::detail_view(&state, post).await?))
}

async fn update(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<PostPath>,
    ApiJson(input): ApiJson<UpdatePostInput>,
) -> AppResult<Json<Envelope<PostDetailView>>> {
    let post = posts::update(&state, &caller, PostRef::IdOrSlug(&path.id), input).await?;
    Ok(ok(posts::detail_view(&state, post).await?))
}

async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    _viewer: Viewer,
    Path(path): Path<PostPath>,
) -> AppResult<NoContent> {
    posts::delete(&state, &caller, PostRef::IdOrSlug(&path.id)).await?;
    Ok(NoContent)
}

async fn categories(
    State(state): State<AppState>,
    _caller: Caller,
) -> AppResult<Json<Envelope<Vec<CategoryView>>>> {
    Ok(ok(taxonomy::list_categories(&state).await?))
}

async fn tags(
    State(state): State<AppState>,
    _caller: Caller,
) -> AppResult<Json<Envelope<Vec<TagView>>>> {
    Ok(ok(taxonomy::list_tags(&state.db).await?))
}
