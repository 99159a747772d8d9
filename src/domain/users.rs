//! Accounts as others see them: public profiles, profile edits, author summaries.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{post, profile, user};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult,
    QueryFilter, QuerySelect,
};
use serde::{Deserialize, Serialize};

use super::{effects::Write, now, text::trimmed_non_empty, validate::Validator};
use crate::{
    auth::{Caller, Role, UserStatus},
    error::{AppError, AppResult},
    media::images::{self, ImageView},
    state::AppState,
};

/// An account as the API shows it (the seed's `User`). `email`, `status` and
/// `emailVerified` are present only for the account itself and for moderators.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "User")]
pub struct UserView {
    pub id: String,
    pub username: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<UserStatus>,
    /// Whether the address was verified (a PENDING_VERIFICATION account's is not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
    pub image: Option<String>,
    /// The avatar, when it is one of the account's uploads: its size, blurhash and
    /// variants.
    pub image_media: Option<ImageView>,
    pub role: Role,
    pub level: i32,
    pub experience: i64,
    pub created_at: DateTime<Utc>,
}

impl UserView {
    /// The view of `user`, with the email address when `show_email`, and its uploaded
    /// avatar (one more statement when it has one).
    pub async fn load(state: &AppState, user: &user::Model, show_email: bool) -> AppResult<Self> {
        let mut view = Self::new(user, show_email);
        if let Some(id) = &user.image_media_id {
            view.image_media = images::images_by_ids(state, std::slice::from_ref(id))
                .await?
                .remove(id);
        }
        Ok(view)
    }

    /// The view of `user` without its avatar's details.
    fn new(user: &user::Model, show_email: bool) -> Self {
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            email: show_email.then(|| user.email.clone()),
            status: show_email.then(|| user.status.parse().ok()).flatten(),
            email_verified: show_email.then_some(user.email_verified),
            image: user.image.clone(),
            image_media: None,
            role: user.role.parse().unwrap_or(Role::User),
            level: user.level,
            experience: user.experience,
            created_at: user.created_at,
        }
    }
}

/// Whether `caller` may read the email address of account `user_id`.
pub fn may_see_email(caller: &Caller, user_id: &str) -> bool {
    caller
        .viewer
        .as_ref()
        .is_some_and(|viewer| viewer.owns_or_moderates(user_id))
}

/// The public, optional part of a profile.
#[derive(
    Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject,
)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "Profile")]
#[graphql(name = "Profile")]
pub struct ProfileView {
    pub display_name: Option<String>,
    pub location: Option<String>,
    pub website: Option<String>,
    pub social_links: SocialLinks,
}

/// Social accounts linked from a profile.
#[derive(
    Clone, Debug, Default, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject,
)]
pub struct SocialLinks {
    pub twitter: Option<String>,
    pub instagram: Option<String>,
    pub youtube: Option<String>,
}

impl From<profile::Model> for ProfileView {
    fn from(row: profile::Model) -> Self {
        Self {
            display_name: row.display_name,
            location: row.location,
            website: row.website,
            social_links: SocialLinks {
                twitter: row.twitter,
                instagram: row.instagram,
                youtube: row.youtube,
            },
        }
    }
}

/// Counts shown on a profile, from real rows.
#[derive(
    Clone,
    Copy,
    Debug,
    Default,
    PartialEq,
    Serialize,
    schemars::JsonSchema,
    async_graphql::SimpleObject,
)]
pub struct UserStats {
    /// Published posts.
    pub posts: u64,
    pub followers: u64,
    pub following: u64,
}

/// A public profile (the seed's `UserProfile`).
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "camelCase")]
#[schemars(rename = "UserProfile")]
pub struct UserProfileView {
    #[serde(flatten)]
    pub user: UserView,
    pub bio: Option<String>,
    pub profile: ProfileView,
    pub stats: UserStats,
}

/// The author of a post, as embedded in post views.
#[derive(Clone, Debug, PartialEq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[schemars(rename = "Author")]
pub struct AuthorSummary {
    pub id: String,
    pub username: String,
    pub image: Option<String>,
}

impl From<&user::Model> for AuthorSummary {
    fn from(user: &user::Model) -> Self {
        Self {
            id: user.id.clone(),
            username: user.username.clone(),
            image: user.image.clone(),
        }
    }
}

/// The account named `username` (any case), or 404.
pub async fn find_by_username(db: &impl ConnectionTrait, username: &str) -> AppResult<user::Model> {
    user::Entity::find()
        .filter(user::Column::UsernameLower.eq(username.to_lowercase()))
        .one(db)
        .await?
        .ok_or(AppError::NotFound("User"))
}

/// Accounts by id, in one statement.
pub async fn users_by_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> AppResult<HashMap<String, user::Model>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = user::Entity::find()
        .filter(user::Column::Id.is_in(ids.iter().cloned()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.id.clone(), row)).collect())
}

/// Profiles by user id, in one statement.
pub async fn profiles_by_user_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> AppResult<HashMap<String, ProfileView>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = profile::Entity::find()
        .filter(profile::Column::UserId.is_in(ids.iter().cloned()))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| (row.user_id.clone(), row.into()))
        .collect())
}

#[derive(FromQueryResult)]
struct AuthorPostCount {
    author_id: String,
    posts: i64,
}

/// Profile stats by user id, in one statement per counted table.
pub async fn stats_by_user_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> AppResult<HashMap<String, UserStats>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let counts = post::Entity::find()
        .select_only()
        .column(post::Column::AuthorId)
        .column_as(post::Column::Id.count(), "posts")
        .filter(post::Column::AuthorId.is_in(ids.iter().cloned()))
        .filter(post::Column::Published.eq(true))
        .filter(post::Column::DeletedAt.is_null())
        .group_by(post::Column::AuthorId)
        .into_model::<AuthorPostCount>()
        .all(db)
        .await?;
    let mut stats: HashMap<String, UserStats> = ids
        .iter()
        .map(|id| (id.clone(), UserStats::default()))
        .collect();
    for count in counts {
        if let Some(entry) = stats.get_mut(&count.author_id) {
            entry.posts = u64::try_from(count.posts).unwrap_or_default();
        }
    }
    for (id, counts) in super::follows::counts_by_user_ids(db, ids).await? {
        if let Some(entry) = stats.get_mut(&id) {
            entry.followers = counts.followers;
            entry.following = counts.following;
        }
    }
    Ok(stats)
}

/// The public profile of `username`.
pub async fn get_profile(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> AppResult<UserProfileView> {
    let user = find_by_username(&state.db, username).await?;
    profile_view(state, caller, user).await
}

/// The profile view of a loaded account.
pub async fn profile_view(
    state: &AppState,
    caller: &Caller,
    user: user::Model,
) -> AppResult<UserProfileView> {
    let ids = [user.id.clone()];
    let profile = profile::Entity::find_by_id(user.id.clone())
        .one(&state.db)
        .await?;
    let stats = stats_by_user_ids(&state.db, &ids)
        .await?
        .remove(&user.id)
        .unwrap_or_default();
    Ok(UserProfileView {
        user: UserView::load(state, &user, may_see_email(caller, &user.id)).await?,
        bio: user.bio.clone(),
        profile: profile.map(ProfileView::from).unwrap_or_default(),
        stats,
    })
}

/// A profile edit: absent fields stay as they are; an empty string clears a field.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateProfileInput {
    /// At most 500 characters.
    pub bio: Option<String>,
    /// Avatar: an http(s) URL, or the id of one of the caller's uploaded images.
    pub image: Option<String>,
    /// At most 50 characters.
    pub display_name: Option<String>,
    /// At most 100 characters.
    pub location: Option<String>,
    pub website: Option<String>,
    pub twitter: Option<String>,
    pub instagram: Option<String>,
    pub youtube: Option<String>,
}

/// Edits the caller's own profile and returns the account.
pub async fn update_profile(
    state: &AppState,
    caller: &Caller,
    input: UpdateProfileInput,
) -> AppResult<user::Model> {
    let viewer = caller.viewer()?;
    let mut validator = Validator::default();
    validator.max_length("bio", input.bio.as_deref(), 500);
    validator.image("image", input.image.as_deref());
    validator.max_length("displayName", input.display_name.as_deref(), 50);
    validator.max_length("location", input.location.as_deref(), 100);
    validator.url("website", input.website.as_deref());
    for (field, value) in [
        ("twitter", &input.twitter),
        ("instagram", &input.instagram),
        ("youtube", &input.youtube),
    ] {
        validator.max_length(field, value.as_deref(), 100);
    }
    validator.finish()?;
    let image = images::choose(state, &viewer.id, "image", input.image).await?;

    let user = user::Entity::find_by_id(viewer.id.clone())
        .one(&state.db)
        .await?
        .ok_or(AppError::NotFound("User"))?;
    let write = Write::begin(state).await?;
    let mut account: user::ActiveModel = user.into();
    if let Some(bio) = input.bio {
        account.bio = Set(trimmed_non_empty(Some(bio)));
    }
    if let Some(image) = image {
        account.image = Set(image.url);
        account.image_media_id = Set(image.media_id);
    }
    account.updated_at = Set(now());
    let user = account.update(write.db()).await?;

    let existing = profile::Entity::find_by_id(viewer.id.clone())
        .one(write.db())
        .await?;
    let is_new = existing.is_none();
    let mut row: profile::ActiveModel = match existing {
        Some(row) => row.into(),
        None => profile::ActiveModel {
            user_id: Set(viewer.id.clone()),
            ..Default::default()
        },
    };
    let edits = [
        (input.display_name, &mut row.display_name),
        (input.location, &mut row.location),
        (input.website, &mut row.website),
        (input.twitter, &mut row.twitter),
        (input.instagram, &mut row.instagram),
        (input.youtube, &mut row.youtube),
    ];
    for (value, column) in edits {
        match value {
            Some(value) => *column = Set(trimmed_non_empty(Some(value))),
            None if is_new => *column = Set(None),
            None => {}
        }
    }
    row.updated_at = Set(now());
    if is_new {
        row.insert(write.db()).await?;
    } else {
        row.update(write.db()).await?;
    }
    write.commit().await?;
    Ok(user)
}

/// The level of `experience` points (PRODUCT_RULES: `floor(sqrt(experience / 100)) + 1`).
pub fn level_for(experience: i64) -> i32 {
    i32::try_from((experience.max(0) / 100).isqrt() + 1).unwrap_or(i32::MAX)
}
