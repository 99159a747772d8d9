//! Which mail each user wants, and the one-click unsubscribe (RFC 8058) that turns one
//! category off without a login: its token is the user and category, signed.

use entity::email_preference;
use sea_orm::{ActiveValue::Set, ConnectionTrait, EntityTrait, sea_query::OnConflict};
use serde::{Deserialize, Serialize};

use super::{MailCategory, MailService, query_value};
use crate::{
    auth::Caller,
    domain::now,
    error::{AppError, AppResult},
    state::AppState,
};

/// The mail a user gets, by category.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject,
)]
#[serde(rename_all = "camelCase")]
pub struct EmailPreferences {
    /// New followers.
    pub follows: bool,
    /// Comments on your posts and replies to your comments.
    pub comments: bool,
    /// Mentions of you in posts and comments.
    pub mentions: bool,
    /// Reactions to your posts and comments.
    pub likes: bool,
    /// Achievements and levels.
    pub achievements: bool,
    /// Announcements from the team.
    pub system: bool,
    /// The weekly digest.
    pub digest: bool,
}

impl Default for EmailPreferences {
    /// Mentions, comments, follows, announcements and the digest on; reactions and
    /// achievements off (they come often and say little).
    fn default() -> Self {
        Self {
            follows: true,
            comments: true,
            mentions: true,
            likes: false,
            achievements: false,
            system: true,
            digest: true,
        }
    }
}

impl EmailPreferences {
    /// Whether mail of `category` is wanted.
    pub fn wants(mut self, category: MailCategory) -> bool {
        *self.flag(category)
    }

    fn flag(&mut self, category: MailCategory) -> &mut bool {
        match category {
            MailCategory::Follows => &mut self.follows,
            MailCategory::Comments => &mut self.comments,
            MailCategory::Mentions => &mut self.mentions,
            MailCategory::Likes => &mut self.likes,
            MailCategory::Achievements => &mut self.achievements,
            MailCategory::System => &mut self.system,
            MailCategory::Digest => &mut self.digest,
        }
    }
}

impl From<email_preference::Model> for EmailPreferences {
    fn from(row: email_preference::Model) -> Self {
        Self {
            follows: row.follows,
            comments: row.comments,
            mentions: row.mentions,
            likes: row.likes,
            achievements: row.achievements,
            system: row.system,
            digest: row.digest,
        }
    }
}

/// Changes to the signed-in user's mail preferences; an absent field stays as it is.
#[derive(Debug, Default, Deserialize, schemars::JsonSchema, async_graphql::InputObject)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UpdateEmailPreferencesInput {
    pub follows: Option<bool>,
    pub comments: Option<bool>,
    pub mentions: Option<bool>,
    pub likes: Option<bool>,
    pub achievements: Option<bool>,
    pub system: Option<bool>,
    pub digest: Option<bool>,
}

/// The preferences of `user_id` (the defaults when never changed).
pub async fn of_user(db: &impl ConnectionTrait, user_id: &str) -> AppResult<EmailPreferences> {
    Ok(email_preference::Entity::find_by_id(user_id.to_owned())
        .one(db)
        .await?
        .map(EmailPreferences::from)
        .unwrap_or_default())
}

/// The signed-in user's preferences.
pub async fn get(state: &AppState, caller: &Caller) -> AppResult<EmailPreferences> {
    of_user(&state.db, &caller.viewer()?.id).await
}

/// Changes the signed-in user's preferences.
pub async fn update(
    state: &AppState,
    caller: &Caller,
    input: UpdateEmailPreferencesInput,
) -> AppResult<EmailPreferences> {
    let user_id = &caller.viewer()?.id;
    let mut preferences = of_user(&state.writer, user_id).await?;
    for (category, wanted) in [
        (MailCategory::Follows, input.follows),
        (MailCategory::Comments, input.comments),
        (MailCategory::Mentions, input.mentions),
        (MailCategory::Likes, input.likes),
        (MailCategory::Achievements, input.achievements),
        (MailCategory::System, input.system),
        (MailCategory::Digest, input.digest),
    ] {
        if let Some(wanted) = wanted {
            *preferences.flag(category) = wanted;
        }
    }
    store(state, user_id, preferences).await?;
    Ok(preferences)
}

async fn store(state: &AppState, user_id: &str, preferences: EmailPreferences) -> AppResult<()> {
    use email_preference::Column;
    let row = email_preference::ActiveModel {
        user_id: Set(user_id.to_owned()),
        follows: Set(preferences.follows),
        comments: Set(preferences.comments),
        mentions: Set(preferences.mentions),
        likes: Set(preferences.likes),
        achievements: Set(preferences.achievements),
        system: Set(preferences.system),
        digest: Set(preferences.digest),
        updated_at: Set(now()),
    };
    email_preference::Entity::insert(row)
        .on_conflict(
            OnConflict::column(Column::UserId)
                .update_columns([
                    Column::Follows,
                    Column::Comments,
                    Column::Mentions,
                    Column::Likes,
                    Column::Achievements,
                    Column::System,
                    Column::Digest,
                    Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(&state.writer)
        .await?;
    Ok(())
}

/// The one-click unsubscribe link of mail of `category` to `user_id`.
pub fn unsubscribe_url(service: &MailService, user_id: &str, category: MailCategory) -> String {
    let signature = service
        .signer
        .sign("unsubscribe", &[user_id, category.as_str()]);
    let token = format!("{user_id}.{}.{signature}", category.as_str());
    service.api_link(&format!(
        "/api/mail/unsubscribe?token={}",
        query_value(&token)
    ))
}

/// What an unsubscribe turned off.
#[derive(Clone, Debug, Serialize, schemars::JsonSchema, async_graphql::SimpleObject)]
#[serde(rename_all = "camelCase")]
pub struct Unsubscribed {
    /// The category turned off: follows, comments, mentions, likes, achievements,
    /// system or digest.
    pub category: String,
    /// What the user no longer gets, in words.
    pub description: String,
}

/// Turns off the category named in a signed unsubscribe `token`; a token not signed
/// by this server, or altered, is refused.
pub async fn unsubscribe(state: &AppState, token: &str) -> AppResult<Unsubscribed> {
    let invalid = || AppError::field("token", "is not a valid unsubscribe token");
    let mut parts = token.splitn(3, '.');
    let (Some(user_id), Some(category), Some(signature)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    if !state
        .mail
        .signer
        .verify("unsubscribe", &[user_id, category], signature)
    {
        return Err(invalid());
    }
    let category = MailCategory::parse(category).ok_or_else(invalid)?;
    let mut preferences = of_user(&state.writer, user_id).await?;
    *preferences.flag(category) = false;
    store(state, user_id, preferences).await?;
    tracing::info!(category = category.as_str(), "unsubscribed by a mail link");
    Ok(Unsubscribed {
        category: category.as_str().to_owned(),
        description: category.describe().to_owned(),
    })
}
