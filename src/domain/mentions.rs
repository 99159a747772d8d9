//! `@username` mentions in posts and comments: found in the text, resolved to
//! accounts, and notified once per text and account by a job of the `notifications`
//! queue (a text may name many accounts; the write that saved it does not wait).

use entity::{comment, post, user};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::{
    effects::Write, notification_copy::Happening, notifications::NewNotification, validate,
};
use crate::{error::AppResult, state::AppState};

/// Usernames mentioned as `@username` in `text`, lower-cased, each once.
pub fn mentioned_usernames(text: &str) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    let bytes = text.as_bytes();
    for (index, _) in text.match_indices('@') {
        let preceded_by_word =
            index > 0 && (bytes[index - 1].is_ascii_alphanumeric() || bytes[index - 1] == b'_');
        if preceded_by_word {
            continue;
        }
        let name: String = text[index + 1..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        let name = name.to_lowercase();
        if validate::is_valid_username(&name) && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// Whether `text` mentions anyone (so a job is worth enqueueing).
pub fn mentions_anyone(text: &str) -> bool {
    !mentioned_usernames(text).is_empty()
}

/// The ids of the existing accounts mentioned in `text`, in id order.
async fn mentioned_user_ids(db: &impl ConnectionTrait, text: &str) -> AppResult<Vec<String>> {
    let names = mentioned_usernames(text);
    if names.is_empty() {
        return Ok(Vec::new());
    }
    Ok(user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .filter(user::Column::UsernameLower.is_in(names))
        .order_by_asc(user::Column::Id)
        .into_tuple()
        .all(db)
        .await?)
}

/// The username of `user_id` ("someone" if the account is gone).
async fn username_of(db: &impl ConnectionTrait, user_id: &str) -> AppResult<String> {
    let name: Option<String> = user::Entity::find_by_id(user_id)
        .select_only()
        .column(user::Column::Username)
        .into_tuple()
        .one(db)
        .await?;
    Ok(name.unwrap_or_else(|| "someone".to_owned()))
}

/// Notifies the accounts mentioned in a published post, once per post and account
/// (an edit that mentions them again sends nothing). A draft or deleted post
/// notifies no one.
pub async fn notify_post_mentions(state: &AppState, post_id: &str) -> AppResult<()> {
    let Some(post) = post::Entity::find_by_id(post_id)
        .one(&state.db)
        .await?
        .filter(|post| post.published && post.deleted_at.is_none())
    else {
        return Ok(());
    };
    let text = format!("{}\n{}", post.title, post.content);
    let mentioning = Mentioning {
        place: Place::Post,
        text: &text,
        author_id: &post.author_id,
        post_title: &post.title,
        data: serde_json::json!({ "postId": post.id }),
        once_per: format!("MENTION:post:{}", post.id),
    };
    notify_mentioned(state, mentioning).await
}

/// Notifies the accounts mentioned in a comment on a published post, once per
/// comment and account, whatever the edits.
pub async fn notify_comment_mentions(state: &AppState, comment_id: &str) -> AppResult<()> {
    let Some(comment) = comment::Entity::find_by_id(comment_id)
        .one(&state.db)
        .await?
        .filter(|comment| !comment.deleted)
    else {
        return Ok(());
    };
    let Some(post) = post::Entity::find_by_id(&comment.post_id)
        .one(&state.db)
        .await?
        .filter(|post| post.published && post.deleted_at.is_none())
    else {
        return Ok(());
    };
    let mentioning = Mentioning {
        place: Place::Comment,
        text: &comment.content,
        author_id: &comment.author_id,
        post_title: &post.title,
        data: super::comments::link(&comment),
        once_per: format!("MENTION:comment:{}", comment.id),
    };
    notify_mentioned(state, mentioning).await
}

/// Where a mention was written.
#[derive(Clone, Copy)]
enum Place {
    Post,
    Comment,
}

/// A text that mentions people, and what its notifications say and link to.
struct Mentioning<'a> {
    place: Place,
    text: &'a str,
    author_id: &'a str,
    post_title: &'a str,
    data: serde_json::Value,
    /// The dedupe key's prefix; the mentioned account's id completes it.
    once_per: String,
}

/// Notifies every account `mentioning.text` mentions, in one write.
async fn notify_mentioned(state: &AppState, mentioning: Mentioning<'_>) -> AppResult<()> {
    let mentioned = mentioned_user_ids(&state.db, mentioning.text).await?;
    if mentioned.is_empty() {
        return Ok(());
    }
    let author = username_of(&state.db, mentioning.author_id).await?;
    let post_title = mentioning.post_title;
    let happening = match mentioning.place {
        Place::Post => Happening::MentionedInPost {
            author: &author,
            post_title,
        },
        Place::Comment => Happening::MentionedInComment {
            author: &author,
            post_title,
        },
    };
    let news = mentioned
        .into_iter()
        .map(|user_id| {
            NewNotification::about(
                &happening,
                &user_id,
                Some(mentioning.author_id),
                mentioning.data.clone(),
            )
            .once_per(format!("{}:{user_id}", mentioning.once_per))
        })
        .collect();
    let mut write = Write::begin(state).await?;
    write.notify_all(news).await?;
    write.commit().await
}

#[cfg(test)]
mod tests {
    use super::mentioned_usernames;

    #[test]
    fn mentions_are_found_once_and_emails_are_not_mentions() {
        assert_eq!(
            mentioned_usernames("hi @Alice and @bob_2, @alice again; mail me at x@example.com @a"),
            vec!["alice".to_owned(), "bob_2".to_owned()]
        );
    }
}
