//! Posts: listing (recent, popular, trending), reading, writing and deleting.
//!
//! * popular  = views·0.1 + reactions·2 + comments·3, over all published posts;
//! * trending = popular · e^(−0.1·age in days), over posts published in the last 7 days.
//!   `e^(−0.1·age)` is `e^(−0.1·now) · e^(0.1·published)`; the first factor is the
//!   same for every post, so ranking by `popular · trending_weight` (the second
//!   factor, stored at publication) gives exactly the trending order.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use entity::{post, post_tag, tag};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, EntityTrait,
    ExprTrait, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Select,
    sea_query::Expr,
};
use serde::{Deserialize, Serialize};

use super::{
    effects::Write,
    mentions, new_id, now,
    pagination::{OffsetPage, PageWindow},
    taxonomy::{self, CategoryView, MAX_TAG_CHARS, MAX_TAGS_PER_POST, TagView},
    text::{derive_excerpt, slugify, trimmed_non_empty},
    users::{self, AuthorSummary},
    validate::Validator,
};
use crate::{
    auth::{Caller, Viewer},
    error::{AppError, AppResult},
    jobs::Job,
    media::images::{self, ImageView},
    state::AppState,
};

/// Longest post content, in characters.
pub const MAX_CONTENT_CHARS: usize = 100_000;
/// Trending considers posts published this many days ago at most.
const TRENDING_WINDOW_DAYS: i64 = 7;
/// The popularity score, in SQL. Index `idx_posts_popular` holds this exact
/// expression (a planner uses an expression index only for the same expression):
/// change both together.
pub const POPULAR_SCORE_SQL: &str =
    r#"("views" * 0.1 + "reaction_count" * 2 + "comment_count" * 3)"#;
/// The trending score (up to a factor shared by all posts), in SQL. Index
/// `idx_posts_trending` holds this exact expression: change both together.
pub const TRENDING_SCORE_SQL: &str =
    r#"(("views" * 0.1 + "reaction_count" * 2 + "comment_count" * 3) * "trending_weight")"#;

/// List order.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Eq,
    Deserialize,
    Serialize,
    schemars::JsonSchema,
    async_graphql::Enum,
)]
#[serde(rename_all = "lowercase")]
pub enum PostSort {
    /// Newest publication first.
    #[default]
    Recent,
    /// Highest views·0.1 + reactions·2 + comments·3 first.
    Popular,
    /// The popular score decayed by e^(−0.1·age in days), last 7 days only.
    Trending,
}

/// Which published posts to list.
#[derive(Clone, Debug, Default)]
pub struct PostFilter {
    pub sort: PostSort,
    /// Category slug or id.
    pub category: Option<String>,
    /// Tag name or slug.
    pub tag: Option<String>,
}

/// Comment and reaction totals of a post.
#[derive(
    Clone, Copy, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject,
)]
pub struct PostCounts {
    pub comments: i64,
    pub reactions: i64,
}

/// A post in lists (the seed's `Post`).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Post")]
pub struct PostView {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub excerpt: Option<String>,
    pub cover_image: Option<String>,
    /// The cover, when it is one of the author's uploads: its size, blurhash and
    /// variants.
    pub cover_image_media: Option<ImageView>,
    pub youtube_video_id: Option<String>,
    pub published: bool,
    pub views: i64,
    pub author: AuthorSummary,
    #[serde(rename = "_count")]
    pub count: PostCounts,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub published_at: Option<DateTime<Utc>>,
}

/// One post with its content, tags and category (the seed's `PostDetail`).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "PostDetail")]
pub struct PostDetailView {
    #[serde(flatten)]
    pub post: PostView,
    pub content: String,
    pub tags: Vec<TagView>,
    pub category: Option<CategoryView>,
}

impl PostView {
    fn new(row: &post::Model, author: AuthorSummary, cover: Option<ImageView>) -> Self {
        Self {
            id: row.id.clone(),
            slug: row.slug.clone(),
            title: row.title.clone(),
            excerpt: row.excerpt.clone(),
            cover_image: row.cover_image.clone(),
            cover_image_media: cover,
            youtube_video_id: row.youtube_video_id.clone(),
            published: row.published,
            views: row.views,
            author,
            count: counts(row),
            created_at: row.created_at,
            updated_at: row.updated_at,
            published_at: row.published_at,
        }
    }
}

/// The comment and reaction totals of a row.
pub fn counts(row: &post::Model) -> PostCounts {
    PostCounts {
        comments: row.comment_count,
        reactions: row.reaction_count,
    }
}

/// A post counter kept in step with the rows it counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PostCounter {
    /// `comment_count`: every comment and reply of the post.
    Comments,
    /// `reaction_count`: reactions on the post itself.
    Reactions,
}

/// Adds `delta` to a counter of post `post_id`. Call it inside the transaction that
/// adds or removes the counted rows.
pub async fn adjust_counter(
    db: &impl ConnectionTrait,
    post_id: &str,
    counter: PostCounter,
    delta: i64,
) -> AppResult<()> {
    let column = match counter {
        PostCounter::Comments => post::Column::CommentCount,
        PostCounter::Reactions => post::Column::ReactionCount,
    };
    post::Entity::update_many()
        .col_expr(column, Expr::col(column).add(delta))
        .filter(post::Column::Id.eq(post_id))
        .exec(db)
        .await?;
    Ok(())
}

/// Fields of a new post.
#[derive(Debug, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct CreatePostInput {
    /// 1–255 characters.
    #[schemars(length(max = 255))]
    pub title: String,
    /// At most 100,000 characters.
    pub content: String,
    /// At most 500 characters; derived from the content when absent.
    #[schemars(length(max = 500))]
    pub excerpt: Option<String>,
    /// An http(s) image URL, or the id of one of the author's uploaded images.
    pub cover_image: Option<String>,
    /// Tag names (at most 10); unknown tags are created.
    pub tags: Option<Vec<String>>,
    /// Publish now (default: save as a draft).
    #[serde(default)]
    #[graphql(default)]
    pub published: bool,
    /// An existing category's id.
    pub category_id: Option<String>,
    /// The YouTube video the post is about (11 characters).
    pub youtube_video_id: Option<String>,
}

/// Changes to a post: absent fields stay; an empty string clears an optional field.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePostInput {
    pub title: Option<String>,
    pub content: Option<String>,
    pub excerpt: Option<String>,
    /// An http(s) image URL, or the id of one of the author's uploaded images.
    pub cover_image: Option<String>,
    /// Replaces every tag of the post.
    pub tags: Option<Vec<String>>,
    pub published: Option<bool>,
    pub category_id: Option<String>,
    pub youtube_video_id: Option<String>,
}

/// Published posts matching `filter`, in `window`, and (when asked) how many match in all.
pub async fn list(
    state: &AppState,
    filter: &PostFilter,
    window: PageWindow,
    with_total: bool,
) -> AppResult<(Vec<post::Model>, Option<u64>)> {
    let mut total_key = format!("{:?}", filter.sort == PostSort::Trending);
    let mut category_id = None;
    if let Some(category) = &filter.category {
        match taxonomy::find_category(state, category).await? {
            Some(category) => {
                total_key.push_str(&format!("|category:{}", category.id));
                category_id = Some(category.id);
            }
            None => return Ok((Vec::new(), with_total.then_some(0))),
        }
    }
    let mut tag_id = None;
    if let Some(tag) = &filter.tag {
        match taxonomy::find_tag(&state.db, tag).await? {
            Some(tag) => {
                total_key.push_str(&format!("|tag:{}", tag.id));
                tag_id = Some(tag.id);
            }
            None => return Ok((Vec::new(), with_total.then_some(0))),
        }
    }
    let query = listing(filter.sort, category_id.as_deref(), tag_id.as_deref());
    let total = match (with_total, state.list_totals.get(&total_key)) {
        (false, _) => None,
        (true, Some(remembered)) => Some(remembered),
        (true, None) => {
            let counted = query.clone().count(&state.db).await?;
            state.list_totals.put(total_key, counted);
            Some(counted)
        }
    };
    let rows = query
        .offset(window.offset)
        .limit(window.limit)
        .all(&state.db)
        .await?;
    Ok((rows, total))
}

/// Every published post `sort` lists, in its order, optionally only those in the
/// category `category_id` and with the tag `tag_id`. [`list`] reads pages of it.
///
/// Each sort has an index in this order (see the `list_indexes` and
/// `post_rank_indexes` migrations), so a page reads only the rows it shows.
pub fn listing(
    sort: PostSort,
    category_id: Option<&str>,
    tag_id: Option<&str>,
) -> Select<post::Entity> {
    let mut query = post::Entity::find()
        .filter(post::Column::Published.eq(true))
        .filter(post::Column::DeletedAt.is_null());
    if let Some(category_id) = category_id {
        query = query.filter(post::Column::CategoryId.eq(category_id));
    }
    if let Some(tag_id) = tag_id {
        query = query.filter(post::Column::Id.in_subquery(taxonomy::post_ids_with_tag(tag_id)));
    }
    query = match sort {
        PostSort::Recent => query,
        PostSort::Popular => query.order_by(Expr::cust(POPULAR_SCORE_SQL), Order::Desc),
        PostSort::Trending => {
            // `NOT (published_at < start)`, which is `published_at >= start` for
            // published posts. Written this way, SQLite applies it while reading
            // `idx_posts_trending` in order, rather than reading the window's posts
            // from `idx_posts_recent` and sorting them all; PostgreSQL reads it as `>=`.
            let window_start = now() - TimeDelta::days(TRENDING_WINDOW_DAYS);
            let published_at = Expr::col((post::Entity, post::Column::PublishedAt));
            query
                .filter(published_at.lt(window_start).not())
                .order_by(Expr::cust(TRENDING_SCORE_SQL), Order::Desc)
        }
    };
    query
        .order_by_desc(post::Column::PublishedAt)
        .order_by_desc(post::Column::Id)
}

/// A page of published posts as REST shows it.
pub async fn list_page(
    state: &AppState,
    filter: &PostFilter,
    window: PageWindow,
) -> AppResult<OffsetPage<PostView>> {
    let (rows, total) = list(state, filter, window, true).await?;
    let views = post_views(state, &rows).await?;
    Ok(OffsetPage::new(views, total.unwrap_or_default(), window))
}

/// List views of `rows`, with their authors loaded in one statement (and their
/// uploaded covers in another, when there are some).
async fn post_views(state: &AppState, rows: &[post::Model]) -> AppResult<Vec<PostView>> {
    let author_ids: Vec<String> = rows.iter().map(|row| row.author_id.clone()).collect();
    let authors = users::users_by_ids(&state.db, &author_ids).await?;
    let cover_ids: Vec<String> = rows
        .iter()
        .filter_map(|row| row.cover_media_id.clone())
        .collect();
    let covers = images::images_by_ids(state, &cover_ids).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let cover = row
                .cover_media_id
                .as_ref()
                .and_then(|id| covers.get(id))
                .cloned();
            authors
                .get(&row.author_id)
                .map(|author| PostView::new(row, author.into(), cover))
        })
        .collect())
}

/// The full view of one post.
pub async fn detail_view(state: &AppState, row: post::Model) -> AppResult<PostDetailView> {
    let tag_ids: Vec<String> = tag_ids(&row).map(str::to_owned).collect();
    let mut tags: Vec<TagView> = taxonomy::tags_by_ids(state, &tag_ids)
        .await?
        .into_values()
        .map(|tag| TagView::clone(&tag))
        .collect();
    taxonomy::sort_tags(&mut tags);
    let category = match &row.category_id {
        Some(id) => taxonomy::categories_by_ids(state, std::slice::from_ref(id))
            .await?
            .remove(id)
            .map(|category| CategoryView::clone(&category)),
        None => None,
    };
    let post = post_views(state, std::slice::from_ref(&row))
        .await?
        .pop()
        .ok_or(AppError::NotFound("Post author"))?;
    Ok(PostDetailView {
        post,
        content: row.content,
        tags,
        category,
    })
}

/// How a client names a post.
#[derive(Clone, Copy, Debug)]
pub enum PostRef<'a> {
    Id(&'a str),
    Slug(&'a str),
    /// An id, or else a slug (REST paths accept both).
    IdOrSlug(&'a str),
}

/// Reads a post and counts the view. Drafts are visible to their
/// author and to moderators only; deleted posts to no one.
pub async fn read(state: &AppState, caller: &Caller, key: PostRef<'_>) -> AppResult<post::Model> {
    let mut row = visible_post(state, caller, key).await?;
    if row.published {
        post::Entity::update_many()
            .col_expr(post::Column::Views, Expr::col(post::Column::Views).add(1))
            .filter(post::Column::Id.eq(&row.id))
            .exec(&state.writer)
            .await?;
        row.views += 1;
    }
    Ok(row)
}

/// The post `key` names, if the caller may see it (without counting a view):
/// drafts only for their author and moderators, deleted posts for no one.
pub async fn visible_post(
    state: &AppState,
    caller: &Caller,
    key: PostRef<'_>,
) -> AppResult<post::Model> {
    let condition = match key {
        PostRef::Id(id) => Condition::all().add(post::Column::Id.eq(id)),
        PostRef::Slug(slug) => Condition::all().add(post::Column::Slug.eq(slug)),
        PostRef::IdOrSlug(key) => Condition::any()
            .add(post::Column::Id.eq(key))
            .add(post::Column::Slug.eq(key)),
    };
    let candidates = post::Entity::find()
        .filter(condition)
        .filter(post::Column::DeletedAt.is_null())
        .limit(2)
        .all(&state.db)
        .await?;
    // A slug may spell another post's id: the id match always wins.
    let row = match key {
        PostRef::IdOrSlug(key) => candidates
            .iter()
            .position(|row| row.id == key)
            .map(|index| candidates[index].clone()),
        _ => None,
    }
    .or_else(|| candidates.into_iter().next())
    .ok_or(AppError::NotFound("Post"))?;
    let visible = row.published
        || caller
            .viewer
            .as_ref()
            .is_some_and(|viewer| viewer.owns_or_moderates(&row.author_id));
    if visible {
        Ok(row)
    } else {
        Err(AppError::NotFound("Post"))
    }
}

/// Posts by one author, newest first: all of them for the author and moderators,
/// published ones for everyone else.
pub async fn list_by_author(
    state: &AppState,
    caller: &Caller,
    author_id: &str,
    window: PageWindow,
) -> AppResult<(Vec<post::Model>, u64)> {
    let with_drafts = caller
        .viewer
        .as_ref()
        .is_some_and(|viewer| viewer.owns_or_moderates(author_id));
    let query = by_author(author_id, with_drafts);
    let total = query.clone().count(&state.db).await?;
    let rows = query
        .offset(window.offset)
        .limit(window.limit)
        .all(&state.db)
        .await?;
    Ok((rows, total))
}

/// The posts of `author_id` that are not deleted, newest first: drafts too when
/// `with_drafts`, else published ones only. [`list_by_author`] reads pages of it.
pub fn by_author(author_id: &str, with_drafts: bool) -> Select<post::Entity> {
    let mut query = post::Entity::find()
        .filter(post::Column::AuthorId.eq(author_id))
        .filter(post::Column::DeletedAt.is_null());
    if !with_drafts {
        query = query.filter(post::Column::Published.eq(true));
    }
    query
        .order_by_desc(post::Column::CreatedAt)
        .order_by_desc(post::Column::Id)
}

/// Creates a post for the caller.
pub async fn create(
    state: &AppState,
    caller: &Caller,
    input: CreatePostInput,
) -> AppResult<post::Model> {
    let viewer = caller.viewer()?;
    state.limits.post_create.check(&caller.rate_key()).await?;
    let mut validator = Validator::default();
    validator.length("title", &input.title, 1, 255);
    validator.length("content", &input.content, 1, MAX_CONTENT_CHARS);
    let fields = OptionalFields {
        excerpt: input.excerpt.as_deref(),
        cover_image: input.cover_image.as_deref(),
        tags: input.tags.as_deref(),
        youtube_video_id: input.youtube_video_id.as_deref(),
    };
    fields.validate(&mut validator);
    validator.finish()?;
    let category_id = existing_category_id(state, input.category_id.as_deref()).await?;
    let cover = images::choose(state, &viewer.id, "coverImage", input.cover_image)
        .await?
        .unwrap_or_default();

    let created_at = now();
    let excerpt =
        trimmed_non_empty(input.excerpt).unwrap_or_else(|| derive_excerpt(&input.content));
    let mut write = Write::begin(state).await?;
    let tags = match &input.tags {
        Some(names) => taxonomy::ensure_tags(write.db(), names).await?,
        None => Vec::new(),
    };
    let mut row = post::ActiveModel {
        id: Set(new_id()),
        slug: Set(String::new()),
        title: Set(input.title.trim().to_owned()),
        content: Set(input.content),
        excerpt: Set(Some(excerpt)),
        cover_image: Set(cover.url),
        cover_media_id: Set(cover.media_id),
        youtube_video_id: Set(trimmed_non_empty(input.youtube_video_id)),
        published: Set(false),
        published_at: Set(None),
        views: Set(0),
        comment_count: Set(0),
        reaction_count: Set(0),
        trending_weight: Set(0.0),
        author_id: Set(viewer.id.clone()),
        category_id: Set(category_id.flatten()),
        tag_ids: Set(joined_ids(&tags)),
        created_at: Set(created_at),
        updated_at: Set(created_at),
        deleted_at: Set(None),
    };
    if input.published {
        publish(&mut row, created_at);
    }
    row.slug = Set(unique_slug(write.db(), &input.title).await?);
    let post = row.insert(write.db()).await.map_err(|err| {
        AppError::unique_violation(
            err,
            "title",
            "A post with this slug was just created; retry",
        )
    })?;
    link_tags(write.db(), &post.id, &tags).await?;
    enqueue_mentions(&mut write, &post).await?;
    write.post_totals_changed();
    write.commit().await?;
    Ok(post)
}

/// Applies `input` to a post of the caller's (or any post, for moderators).
pub async fn update(
    state: &AppState,
    caller: &Caller,
    key: PostRef<'_>,
    input: UpdatePostInput,
) -> AppResult<post::Model> {
    let viewer = caller.viewer()?;
    let current = visible_post(state, caller, key).await?;
    ensure_may_edit(viewer, &current)?;
    let mut validator = Validator::default();
    if let Some(title) = &input.title {
        validator.length("title", title, 1, 255);
    }
    if let Some(content) = &input.content {
        validator.length("content", content, 1, MAX_CONTENT_CHARS);
    }
    let fields = OptionalFields {
        excerpt: input.excerpt.as_deref(),
        cover_image: input.cover_image.as_deref(),
        tags: input.tags.as_deref(),
        youtube_video_id: input.youtube_video_id.as_deref(),
    };
    fields.validate(&mut validator);
    validator.finish()?;
    let category_id = existing_category_id(state, input.category_id.as_deref()).await?;
    // The cover is an upload of the post's author, whoever edits it.
    let cover = images::choose(state, &current.author_id, "coverImage", input.cover_image).await?;

    let updated_at = now();
    let derived_excerpt = match (&input.excerpt, &input.content) {
        (Some(excerpt), _) if !excerpt.trim().is_empty() => Some(excerpt.trim().to_owned()),
        (Some(_), _) => Some(derive_excerpt(
            input.content.as_deref().unwrap_or(&current.content),
        )),
        (None, Some(content)) if current.excerpt == Some(derive_excerpt(&current.content)) => {
            Some(derive_excerpt(content))
        }
        (None, _) => None,
    };
    let was_published = current.published;
    let post_id = current.id.clone();
    let mut row: post::ActiveModel = current.into();
    if let Some(title) = input.title {
        row.title = Set(title.trim().to_owned());
    }
    if let Some(content) = input.content {
        row.content = Set(content);
    }
    if let Some(excerpt) = derived_excerpt {
        row.excerpt = Set(Some(excerpt));
    }
    if let Some(cover) = cover {
        row.cover_image = Set(cover.url);
        row.cover_media_id = Set(cover.media_id);
    }
    if let Some(video) = input.youtube_video_id {
        row.youtube_video_id = Set(trimmed_non_empty(Some(video)));
    }
    if let Some(category_id) = category_id {
        row.category_id = Set(category_id);
    }
    match input.published {
        Some(true) if !was_published => publish(&mut row, updated_at),
        Some(false) => row.published = Set(false),
        _ => {}
    }
    row.updated_at = Set(updated_at);
    let mut write = Write::begin(state).await?;
    let tags = match &input.tags {
        Some(names) => Some(taxonomy::ensure_tags(write.db(), names).await?),
        None => None,
    };
    if let Some(tags) = &tags {
        row.tag_ids = Set(joined_ids(tags));
    }
    let post = row.update(write.db()).await?;
    if let Some(tags) = &tags {
        post_tag::Entity::delete_many()
            .filter(post_tag::Column::PostId.eq(&post_id))
            .exec(write.db())
            .await?;
        link_tags(write.db(), &post_id, tags).await?;
    }
    enqueue_mentions(&mut write, &post).await?;
    write.post_totals_changed();
    write.commit().await?;
    Ok(post)
}

/// Soft-deletes a post of the caller's (or any post, for moderators).
pub async fn delete(state: &AppState, caller: &Caller, key: PostRef<'_>) -> AppResult<()> {
    let viewer = caller.viewer()?;
    let current = visible_post(state, caller, key).await?;
    ensure_may_edit(viewer, &current)?;
    let mut row: post::ActiveModel = current.into();
    row.deleted_at = Set(Some(now()));
    let mut write = Write::begin(state).await?;
    row.update(write.db()).await?;
    write.post_totals_changed();
    write.commit().await
}

/// Enqueues the notification of the accounts a published `post` mentions (see
/// [`mentions::notify_post_mentions`]); drafts notify no one until published.
async fn enqueue_mentions(write: &mut Write<'_>, post: &post::Model) -> AppResult<()> {
    let text = format!("{}\n{}", post.title, post.content);
    if post.published && mentions::mentions_anyone(&text) {
        write
            .enqueue(Job::NotifyPostMentions {
                post_id: post.id.clone(),
            })
            .await?;
    }
    Ok(())
}

fn ensure_may_edit(viewer: &Viewer, post: &post::Model) -> AppResult<()> {
    if viewer.owns_or_moderates(&post.author_id) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "Only the author or a moderator may change this post",
        ))
    }
}

/// Marks `row` published at `at`, on first publication only.
fn publish(row: &mut post::ActiveModel, at: DateTime<Utc>) {
    row.published = Set(true);
    let first_time = match &row.published_at {
        sea_orm::ActiveValue::Set(value) | sea_orm::ActiveValue::Unchanged(value) => {
            value.is_none()
        }
        sea_orm::ActiveValue::NotSet => true,
    };
    if first_time {
        row.published_at = Set(Some(at));
        row.trending_weight = Set(trending_weight(at));
    }
}

/// `e^(0.1 · days since 2020-01-01)`; see the module documentation.
pub fn trending_weight(published_at: DateTime<Utc>) -> f64 {
    let anchor = Utc
        .with_ymd_and_hms(2020, 1, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    #[expect(
        clippy::cast_precision_loss,
        reason = "seconds since 2020 fit an f64 exactly"
    )]
    let days = (published_at - anchor).num_seconds() as f64 / 86_400.0;
    (0.1 * days).exp()
}

/// Optional fields shared by create and update, validated the same way.
struct OptionalFields<'a> {
    excerpt: Option<&'a str>,
    cover_image: Option<&'a str>,
    tags: Option<&'a [String]>,
    youtube_video_id: Option<&'a str>,
}

impl OptionalFields<'_> {
    fn validate(&self, validator: &mut Validator) {
        validator.max_length("excerpt", self.excerpt, 500);
        validator.image("coverImage", self.cover_image);
        if let Some(tags) = self.tags {
            validator.check(
                "tags",
                tags.len() <= MAX_TAGS_PER_POST,
                format!("at most {MAX_TAGS_PER_POST} tags"),
            );
            for tag in tags {
                let chars = tag.trim().chars().count();
                validator.check(
                    "tags",
                    (1..=MAX_TAG_CHARS).contains(&chars),
                    format!("each tag must be 1-{MAX_TAG_CHARS} characters"),
                );
                validator.check(
                    "tags",
                    !slugify(tag).is_empty(),
                    "each tag needs a letter or digit",
                );
            }
        }
        if let Some(video) = self.youtube_video_id.filter(|video| !video.is_empty()) {
            let valid = video.len() == 11
                && video
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            validator.check(
                "youtubeVideoId",
                valid,
                "must be an 11-character YouTube video id",
            );
        }
    }
}

/// `None` when no category was given, `Some(None)` to clear it, `Some(Some(id))` for
/// an existing category; an unknown id is a field error.
async fn existing_category_id(
    state: &AppState,
    requested: Option<&str>,
) -> AppResult<Option<Option<String>>> {
    match requested {
        None => Ok(None),
        Some("") => Ok(Some(None)),
        Some(id) => {
            let found = taxonomy::categories_by_ids(state, &[id.to_owned()]).await?;
            if found.contains_key(id) {
                Ok(Some(Some(id.to_owned())))
            } else {
                Err(AppError::field("categoryId", "unknown category"))
            }
        }
    }
}

/// The slug of `title`, with `-2`, `-3`, … appended when taken.
async fn unique_slug(db: &impl ConnectionTrait, title: &str) -> AppResult<String> {
    let base = match slugify(title) {
        slug if slug.is_empty() => "post".to_owned(),
        slug => slug,
    };
    let taken: Vec<String> = post::Entity::find()
        .select_only()
        .column(post::Column::Slug)
        .filter(
            Condition::any()
                .add(post::Column::Slug.eq(&base))
                .add(post::Column::Slug.starts_with(format!("{base}-"))),
        )
        .into_tuple()
        .all(db)
        .await?;
    if !taken.contains(&base) {
        return Ok(base);
    }
    let suffix = (2..)
        .find(|n| !taken.contains(&format!("{base}-{n}")))
        .unwrap_or(2);
    Ok(format!("{base}-{suffix}"))
}

/// Links the post `post_id` to `tags` (the links tag filters search).
async fn link_tags(db: &impl ConnectionTrait, post_id: &str, tags: &[tag::Model]) -> AppResult<()> {
    if tags.is_empty() {
        return Ok(());
    }
    let links = tags.iter().map(|tag| post_tag::ActiveModel {
        post_id: Set(post_id.to_owned()),
        tag_id: Set(tag.id.clone()),
    });
    post_tag::Entity::insert_many(links).exec(db).await?;
    Ok(())
}

/// The ids of `tags` as a post row keeps them (see [`tag_ids`]).
pub fn joined_ids(tags: &[tag::Model]) -> String {
    let ids: Vec<&str> = tags.iter().map(|tag| tag.id.as_str()).collect();
    ids.join(",")
}

/// The ids of the tags of the post `row`.
pub fn tag_ids(row: &post::Model) -> impl Iterator<Item = &str> {
    row.tag_ids.split(',').filter(|id| !id.is_empty())
}
