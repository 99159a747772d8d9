//! GraphQL object types. They wrap table rows and resolve nested fields through
//! the request's DataLoader, or, for the posts of a listed page, from what the page
//! loaded for all of them at once; scalar shapes are shared with REST from `domain`.

use std::{borrow::Borrow, collections::HashMap, hash::Hash, sync::Arc};

use async_graphql::{
    ComplexObject, Context, ID, InputValueError, InputValueResult, Object, ResultExt, Scalar,
    ScalarType, SimpleObject, Value,
    connection::{Connection, Edge, OpaqueCursor},
    dataloader::Loader,
};
use chrono::{DateTime, SecondsFormat, Utc};
use entity::{post, user};

use super::{
    context::{ContextExt, connection_window},
    cursor::CursorConnection,
    loaders::{
        CategoryById, DbLoader, ImageById, ProfileOfUser, StatsOfUser, TagById, UserById,
        load_selected,
    },
    social,
};
use crate::{
    auth::{Role, UserStatus},
    domain::{
        follows::FollowList,
        pagination::PageWindow,
        posts::{self, PostCounts},
        sessions::Session,
        taxonomy::{self, CategoryView, TagView},
        users::{ProfileView, UserStats, may_see_email},
    },
    media::images::ImageView,
};

/// An instant in RFC 3339 with a `Z` suffix, exactly as REST writes it.
pub struct Timestamp(pub DateTime<Utc>);

#[Scalar(name = "DateTime")]
impl ScalarType for Timestamp {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => DateTime::parse_from_rfc3339(text)
                .map(|instant| Self(instant.with_timezone(&Utc)))
                .map_err(|_| InputValueError::expected_type(value)),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// Extra fields of every connection.
#[derive(SimpleObject)]
pub struct ConnectionTotals {
    /// How many nodes the whole list has (counted only when this field is selected).
    pub total_count: u64,
}

/// A connection over offset cursors.
pub type OffsetConnection<T> = Connection<OpaqueCursor<u64>, T, ConnectionTotals>;

/// Builds a connection from the rows of `window` (fetched with one extra row to
/// learn whether a next page exists).
pub fn offset_connection<R, T>(
    mut rows: Vec<R>,
    window: PageWindow,
    total: u64,
    node: impl Fn(R) -> T,
) -> OffsetConnection<T>
where
    T: async_graphql::OutputType,
{
    let has_next = u64::try_from(rows.len()).unwrap_or(u64::MAX) > window.limit;
    rows.truncate(usize::try_from(window.limit).unwrap_or(usize::MAX));
    let mut connection = Connection::with_additional_fields(
        window.offset > 0,
        has_next,
        ConnectionTotals { total_count: total },
    );
    connection.edges.extend(
        rows.into_iter()
            .enumerate()
            .map(|(index, row)| Edge::new(OpaqueCursor(window.offset + index as u64), node(row))),
    );
    connection
}

/// The connection over a page of posts (`rows` as fetched for `window`, one extra
/// included), with the nested fields its selection asks for loaded at once.
pub async fn post_connection(
    ctx: &Context<'_>,
    rows: Vec<post::Model>,
    window: PageWindow,
    total: u64,
) -> async_graphql::Result<OffsetConnection<Post>> {
    let page = prefetch_post_fields(ctx, &rows).await?;
    Ok(offset_connection(rows, window, total, |row| {
        Post::in_page(row, &page)
    }))
}

/// Nested values of a page of posts, loaded for all its posts at once: each post's
/// resolvers find theirs here, without a loader lookup per field.
pub struct PageFields {
    authors: HashMap<UserById, Arc<user::Model>>,
    categories: HashMap<CategoryById, Arc<CategoryView>>,
    tags: HashMap<TagById, Arc<TagView>>,
    covers: HashMap<ImageById, Arc<ImageView>>,
}

/// Loads, for all `rows` at once, the nested post fields the selection under
/// `edges.node` asks for, so the statement count never depends on how resolver
/// futures happen to be scheduled.
async fn prefetch_post_fields(
    ctx: &Context<'_>,
    rows: &[post::Model],
) -> async_graphql::Result<Arc<PageFields>> {
    let node = ctx.look_ahead().field("edges").field("node");
    let loader = ctx.loader()?;
    let (authors, categories, tags, covers) = futures_util::try_join!(
        load_selected(node.field("author").exists(), loader, || {
            rows.iter().map(|row| UserById(row.author_id.clone()))
        }),
        load_selected(node.field("category").exists(), loader, || {
            rows.iter()
                .filter_map(|row| row.category_id.clone().map(CategoryById))
        }),
        load_selected(node.field("tags").exists(), loader, || {
            rows.iter()
                .flat_map(posts::tag_ids)
                .map(|id| TagById(id.to_owned()))
        }),
        load_selected(node.field("coverImageMedia").exists(), loader, || {
            rows.iter()
                .filter_map(|row| row.cover_media_id.clone().map(ImageById))
        }),
    )?;
    // Comments and reactions share key types (users, reaction counts) with the levels
    // below them, so they load after the fields above, one level at a time.
    let threads = rows
        .iter()
        .filter_map(|row| super::comments::comments_of(&row.id, row.comment_count))
        .collect();
    super::comments::prefetch_threads(ctx, node.field("comments"), threads).await?;
    let targets = rows
        .iter()
        .map(|row| crate::domain::reactions::ReactionTarget::Post(row.id.clone()));
    super::reactions::prefetch_reactions(ctx, node.field("reactions"), targets).await?;
    Ok(Arc::new(PageFields {
        authors,
        categories,
        tags,
        covers,
    }))
}

/// A category's id, typed `ID` like every object's.
#[ComplexObject]
impl CategoryView {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
}

/// A tag's id, typed `ID` like every object's.
#[ComplexObject]
impl TagView {
    async fn id(&self) -> ID {
        ID(self.id.clone())
    }
}

/// An account.
pub struct User {
    row: Arc<user::Model>,
    show_email: bool,
}

impl User {
    /// `row` as seen by the caller of `ctx`.
    pub fn for_caller(
        ctx: &Context<'_>,
        row: impl Into<Arc<user::Model>>,
    ) -> async_graphql::Result<Self> {
        let row = row.into();
        let show_email = may_see_email(ctx.caller()?, &row.id);
        Ok(Self { row, show_email })
    }

    /// `row` as its owner sees it (e.g. whoever holds a token mailed to the account).
    pub fn to_its_owner(row: user::Model) -> Self {
        Self {
            row: Arc::new(row),
            show_email: true,
        }
    }

    /// The account `user_id`, through the request's loader.
    pub async fn by_id(ctx: &Context<'_>, user_id: &str) -> async_graphql::Result<Option<Self>> {
        let row = ctx.loader()?.load_one(UserById(user_id.to_owned())).await?;
        row.map(|row| Self::for_caller(ctx, row)).transpose()
    }
}

#[Object]
impl User {
    pub async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    async fn username(&self) -> &str {
        &self.row.username
    }
    /// Visible to the account itself and to moderators only.
    async fn email(&self) -> Option<&str> {
        self.show_email.then_some(self.row.email.as_str())
    }
    /// The account's status (shown to the account itself and to moderators).
    async fn status(&self) -> Option<UserStatus> {
        self.show_email
            .then(|| self.row.status.parse().ok())
            .flatten()
    }
    /// Whether the address was verified (shown with `email`).
    async fn email_verified(&self) -> Option<bool> {
        self.show_email.then_some(self.row.email_verified)
    }
    async fn image(&self) -> Option<&str> {
        self.row.image.as_deref()
    }
    /// The avatar, when it is one of the account's uploads: its size, blurhash and
    /// variants.
    async fn image_media(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Arc<ImageView>>> {
        match &self.row.image_media_id {
            Some(id) => Box::pin(ctx.loader()?.load_one(ImageById(id.clone()))).await,
            None => Ok(None),
        }
    }
    async fn role(&self) -> Role {
        self.row.role.parse().unwrap_or(Role::User)
    }
    async fn level(&self) -> i32 {
        self.row.level
    }
    async fn experience(&self) -> i64 {
        self.row.experience
    }
    async fn bio(&self) -> Option<&str> {
        self.row.bio.as_deref()
    }
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.row.created_at)
    }
    async fn profile(&self, ctx: &Context<'_>) -> async_graphql::Result<ProfileView> {
        let profile = ctx
            .loader()?
            .load_one(ProfileOfUser(self.row.id.clone()))
            .await?;
        Ok(profile.unwrap_or_default())
    }
    async fn stats(&self, ctx: &Context<'_>) -> async_graphql::Result<UserStats> {
        let stats = ctx
            .loader()?
            .load_one(StatsOfUser(self.row.id.clone()))
            .await?;
        Ok(stats.unwrap_or_default())
    }
    /// The account's posts, newest first (drafts only for the account and moderators).
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn posts(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<OffsetConnection<Post>> {
        let state = ctx.state()?;
        let window = connection_window(state, first, after.as_deref())?;
        let probe = PageWindow {
            limit: window.limit + 1,
            ..window
        };
        let (rows, total) = posts::list_by_author(state, ctx.caller()?, &self.row.id, probe)
            .await
            .extend()?;
        Box::pin(post_connection(ctx, rows, window, total)).await
    }
    /// Accounts following this one, newest follow first.
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn followers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CursorConnection<User>> {
        Box::pin(social::follow_connection(
            ctx,
            &self.row.id,
            FollowList::Followers,
            first,
            after,
        ))
        .await
    }
    /// Accounts this one follows, newest follow first.
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn following(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CursorConnection<User>> {
        Box::pin(social::follow_connection(
            ctx,
            &self.row.id,
            FollowList::Following,
            first,
            after,
        ))
        .await
    }
    /// Whether the signed-in account follows this one (null when anonymous).
    async fn followed_by_viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        Box::pin(social::followed_by_viewer(ctx, &self.row.id)).await
    }
}

/// A post.
pub struct Post {
    row: post::Model,
    /// The nested values its page loaded, when it was listed.
    page: Option<Arc<PageFields>>,
}

impl Post {
    /// A post read on its own: nested fields go through the request's loader.
    pub fn single(row: post::Model) -> Self {
        Self { row, page: None }
    }

    /// A post of a listed page whose nested fields `page` holds.
    pub fn in_page(row: post::Model, page: &Arc<PageFields>) -> Self {
        Self {
            row,
            page: Some(page.clone()),
        }
    }

    /// The value `pick` finds in the page for `id`, else the one the request's loader
    /// finds for the key `key` makes of `id`.
    async fn nested<K, V>(
        &self,
        ctx: &Context<'_>,
        id: &str,
        pick: impl FnOnce(&PageFields) -> &HashMap<K, V>,
        key: impl FnOnce(String) -> K,
    ) -> async_graphql::Result<Option<V>>
    where
        K: Send + Sync + Hash + Eq + Clone + Borrow<str> + 'static,
        V: Clone,
        DbLoader: Loader<K, Value = V, Error = async_graphql::Error>,
    {
        if let Some(value) = self.page.as_deref().and_then(|page| pick(page).get(id)) {
            return Ok(Some(value.clone()));
        }
        // Boxed: the future of every selected field is as large as the largest resolver
        // future of the object, and most posts never come here.
        Box::pin(ctx.loader()?.load_one(key(id.to_owned()))).await
    }
}

#[Object]
impl Post {
    pub async fn id(&self) -> ID {
        ID(self.row.id.clone())
    }
    async fn slug(&self) -> &str {
        &self.row.slug
    }
    async fn title(&self) -> &str {
        &self.row.title
    }
    async fn content(&self) -> &str {
        &self.row.content
    }
    async fn excerpt(&self) -> Option<&str> {
        self.row.excerpt.as_deref()
    }
    async fn cover_image(&self) -> Option<&str> {
        self.row.cover_image.as_deref()
    }
    /// The cover, when it is one of the author's uploads: its size, blurhash and
    /// variants.
    async fn cover_image_media(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Arc<ImageView>>> {
        match &self.row.cover_media_id {
            Some(id) => self.nested(ctx, id, |page| &page.covers, ImageById).await,
            None => Ok(None),
        }
    }
    async fn youtube_video_id(&self) -> Option<&str> {
        self.row.youtube_video_id.as_deref()
    }
    async fn published(&self) -> bool {
        self.row.published
    }
    async fn views(&self) -> i64 {
        self.row.views
    }
    /// Comment and reaction totals.
    async fn counts(&self) -> PostCounts {
        posts::counts(&self.row)
    }
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.row.created_at)
    }
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.row.updated_at)
    }
    async fn published_at(&self) -> Option<Timestamp> {
        self.row.published_at.map(Timestamp)
    }
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        let author_id = &self.row.author_id;
        let row = self
            .nested(ctx, author_id, |page| &page.authors, UserById)
            .await?;
        row.map(|row| User::for_caller(ctx, row)).transpose()
    }
    async fn category(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<Option<Arc<CategoryView>>> {
        match &self.row.category_id {
            Some(id) => {
                self.nested(ctx, id, |page| &page.categories, CategoryById)
                    .await
            }
            None => Ok(None),
        }
    }
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<Arc<TagView>>> {
        let ids = posts::tag_ids(&self.row);
        let mut tags: Vec<Arc<TagView>> = match self.page.as_deref() {
            Some(page) => ids.filter_map(|id| page.tags.get(id).cloned()).collect(),
            None => {
                let keys = ids.map(|id| TagById(id.to_owned()));
                // Boxed for the reason given in `nested`.
                let found = Box::pin(ctx.loader()?.load_many(keys)).await?;
                found.into_values().collect()
            }
        };
        taxonomy::sort_tags(&mut tags);
        Ok(tags)
    }
    /// Top-level comments, oldest first.
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CursorConnection<super::comments::Comment>> {
        let thread = super::comments::comments_of(&self.row.id, self.row.comment_count);
        Box::pin(super::comments::comment_connection(
            ctx, thread, first, after,
        ))
        .await
    }
    /// Reactions on the post.
    async fn reactions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<super::reactions::ReactionSummary> {
        let target = crate::domain::reactions::ReactionTarget::Post(self.row.id.clone());
        Box::pin(super::reactions::reaction_summary(ctx, target)).await
    }
}

/// A signed-in session.
#[derive(SimpleObject)]
#[graphql(complex)]
pub struct AuthPayload {
    /// Access token (JWT) for `Authorization: Bearer …`.
    pub token: String,
    /// Single-use token for `refreshToken`.
    pub refresh_token: String,
    /// Seconds until `token` expires.
    pub expires_in: u64,
    #[graphql(skip)]
    pub account: user::Model,
}

#[ComplexObject]
impl AuthPayload {
    /// The signed-in account (with its email).
    async fn user(&self) -> User {
        User {
            row: Arc::new(self.account.clone()),
            show_email: true,
        }
    }
}

impl From<Session> for AuthPayload {
    fn from(session: Session) -> Self {
        Self {
            token: session.token,
            refresh_token: session.refresh_token,
            expires_in: session.expires_in,
            account: session.account,
        }
    }
}
