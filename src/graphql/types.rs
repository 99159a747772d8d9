//! GraphQL object types. They wrap table rows and resolve nested fields through
//! the request's DataLoader; scalar shapes are shared with REST from `domain`.

use async_graphql::{
    ComplexObject, Context, InputValueError, InputValueResult, Object, ResultExt, Scalar,
    ScalarType, SimpleObject, Value,
    connection::{Connection, Edge, OpaqueCursor},
};
use chrono::{DateTime, SecondsFormat, Utc};
use entity::{post, user};

use super::{
    context::{ContextExt, connection_window},
    cursor::CursorConnection,
    loaders::{CategoryById, ProfileOfUser, StatsOfUser, TagsOfPost, UserById, prime},
    social,
};
use crate::{
    auth::Role,
    domain::{
        follows::FollowList,
        pagination::PageWindow,
        posts::{self, PostCounts},
        sessions::Session,
        taxonomy::{CategoryView, TagView},
        users::{ProfileView, UserStats, may_see_email},
    },
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

/// Loads, for all `rows` at once, the nested post fields the selection under
/// `edges.node` asks for. Resolvers then read them from the request's cache, so the
/// statement count never depends on how their futures happen to be scheduled.
pub async fn prefetch_post_fields(
    ctx: &Context<'_>,
    rows: &[post::Model],
) -> async_graphql::Result<()> {
    let node = ctx.look_ahead().field("edges").field("node");
    let loader = ctx.loader()?;
    let authors = async {
        if node.field("author").exists() {
            prime(
                loader,
                rows.iter().map(|row| UserById(row.author_id.clone())),
            )
            .await?;
        }
        async_graphql::Result::<()>::Ok(())
    };
    let categories = async {
        if node.field("category").exists() {
            let categories = rows
                .iter()
                .filter_map(|row| row.category_id.clone().map(CategoryById));
            prime(loader, categories).await?;
        }
        async_graphql::Result::<()>::Ok(())
    };
    let tags = async {
        if node.field("tags").exists() {
            prime(loader, rows.iter().map(|row| TagsOfPost(row.id.clone()))).await?;
        }
        async_graphql::Result::<()>::Ok(())
    };
    futures_util::try_join!(authors, categories, tags)?;
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
    Ok(())
}

/// An account.
pub struct User {
    row: user::Model,
    show_email: bool,
}

impl User {
    /// `row` as seen by the caller of `ctx`.
    pub fn for_caller(ctx: &Context<'_>, row: user::Model) -> async_graphql::Result<Self> {
        let show_email = may_see_email(ctx.caller()?, &row.id);
        Ok(Self { row, show_email })
    }

    /// The account `user_id`, through the request's loader.
    pub async fn by_id(ctx: &Context<'_>, user_id: &str) -> async_graphql::Result<Option<Self>> {
        let row = ctx.loader()?.load_one(UserById(user_id.to_owned())).await?;
        row.map(|row| Self::for_caller(ctx, row)).transpose()
    }
}

#[Object]
impl User {
    async fn id(&self) -> &str {
        &self.row.id
    }
    async fn username(&self) -> &str {
        &self.row.username
    }
    /// Visible to the account itself and to moderators only.
    async fn email(&self) -> Option<&str> {
        self.show_email.then_some(self.row.email.as_str())
    }
    async fn image(&self) -> Option<&str> {
        self.row.image.as_deref()
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
        prefetch_post_fields(ctx, &rows).await?;
        Ok(offset_connection(rows, window, total, Post))
    }
    /// Accounts following this one, newest follow first.
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn followers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CursorConnection<User>> {
        social::follow_connection(ctx, &self.row.id, FollowList::Followers, first, after).await
    }
    /// Accounts this one follows, newest follow first.
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn following(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CursorConnection<User>> {
        social::follow_connection(ctx, &self.row.id, FollowList::Following, first, after).await
    }
    /// Whether the signed-in account follows this one (null when anonymous).
    async fn followed_by_viewer(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<bool>> {
        social::followed_by_viewer(ctx, &self.row.id).await
    }
}

/// A post.
pub struct Post(pub post::Model);

#[Object]
impl Post {
    async fn id(&self) -> &str {
        &self.0.id
    }
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn content(&self) -> &str {
        &self.0.content
    }
    async fn excerpt(&self) -> Option<&str> {
        self.0.excerpt.as_deref()
    }
    async fn cover_image(&self) -> Option<&str> {
        self.0.cover_image.as_deref()
    }
    async fn youtube_video_id(&self) -> Option<&str> {
        self.0.youtube_video_id.as_deref()
    }
    async fn published(&self) -> bool {
        self.0.published
    }
    async fn views(&self) -> i64 {
        self.0.views
    }
    /// Comment and reaction totals.
    async fn counts(&self) -> PostCounts {
        posts::counts(&self.0)
    }
    async fn created_at(&self) -> Timestamp {
        Timestamp(self.0.created_at)
    }
    async fn updated_at(&self) -> Timestamp {
        Timestamp(self.0.updated_at)
    }
    async fn published_at(&self) -> Option<Timestamp> {
        self.0.published_at.map(Timestamp)
    }
    async fn author(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<User>> {
        User::by_id(ctx, &self.0.author_id).await
    }
    async fn category(&self, ctx: &Context<'_>) -> async_graphql::Result<Option<CategoryView>> {
        match &self.0.category_id {
            Some(id) => ctx.loader()?.load_one(CategoryById(id.clone())).await,
            None => Ok(None),
        }
    }
    async fn tags(&self, ctx: &Context<'_>) -> async_graphql::Result<Vec<TagView>> {
        let tags = ctx
            .loader()?
            .load_one(TagsOfPost(self.0.id.clone()))
            .await?;
        Ok(tags.unwrap_or_default())
    }
    /// Top-level comments, oldest first.
    #[graphql(complexity = "super::context::connection_complexity(first, child_complexity)")]
    async fn comments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<CursorConnection<super::comments::Comment>> {
        let thread = super::comments::comments_of(&self.0.id, self.0.comment_count);
        super::comments::comment_connection(ctx, thread, first, after).await
    }
    /// Reactions on the post.
    async fn reactions(
        &self,
        ctx: &Context<'_>,
    ) -> async_graphql::Result<super::reactions::ReactionSummary> {
        let target = crate::domain::reactions::ReactionTarget::Post(self.0.id.clone());
        super::reactions::reaction_summary(ctx, target).await
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
            row: self.account.clone(),
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
