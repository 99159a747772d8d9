//! The weekly digest: on the Monday schedule, a job per opted-in account (enqueued
//! in batches, resuming after the last batch), each mailing the week's top posts from
//! the people the user follows and from the categories the user reads, with the count
//! of unread notifications. Nothing to say, no mail; a user's digest of a week is
//! queued once (its mail's dedupe key), however often the schedule fires.

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use entity::{comment, follow, notification, post, reaction, user};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
    sea_query::{Expr, ExprTrait},
};

use super::{effects::Write, text::derive_excerpt};
use crate::{
    auth::UserStatus,
    error::AppResult,
    jobs::{Job, JobContext, NewJob},
    mail::{
        MailCategory, MailContent,
        content::DigestPost,
        outbox::{self, queue_mail},
    },
    state::AppState,
};

/// Accounts given their digest job per transaction.
const DIGEST_BATCH: u64 = 500;

/// Posts of each source (followed people, read categories) in a digest.
const POSTS_PER_SOURCE: u64 = 5;

/// How far back the categories a user reads are looked for.
const READING_WINDOW: TimeDelta = TimeDelta::days(30);

/// The `weekly_digest` job: enqueues the digest of every active, verified account
/// (each job decides whether its user wants one and has anything to read).
pub async fn fan_out(state: &AppState, job: &JobContext, week_of: DateTime<Utc>) -> AppResult<()> {
    let mut after = job.resumes_after();
    loop {
        let mut write = Write::begin(state).await?;
        let mut accounts = user::Entity::find()
            .select_only()
            .column(user::Column::Id)
            .filter(user::Column::Status.eq(UserStatus::Active.as_str()))
            .filter(user::Column::EmailVerified.eq(true));
        if let Some(after) = &after {
            accounts = accounts.filter(user::Column::Id.gt(after.as_str()));
        }
        let ids: Vec<String> = accounts
            .order_by_asc(user::Column::Id)
            .limit(DIGEST_BATCH)
            .into_tuple()
            .all(write.db())
            .await?;
        let Some(last) = ids.last().cloned() else {
            return Ok(());
        };
        for user_id in ids {
            let key = format!("weekly_digest:{user_id}:{}", week_of.date_naive());
            let digest = Job::SendDigest { user_id, week_of };
            write.enqueue(NewJob::from(digest).unique(key)).await?;
        }
        job.done_up_to(write.db(), &last).await?;
        write.commit().await?;
        after = Some(last);
    }
}

/// The `send_digest` job: queues `user_id`'s digest of the week before `week_of`,
/// unless the user does not want it or there is nothing to tell.
pub async fn send_digest(state: &AppState, user_id: &str, week_of: DateTime<Utc>) -> AppResult<()> {
    let Some(account) = user::Entity::find_by_id(user_id.to_owned())
        .one(&state.db)
        .await?
    else {
        return Ok(());
    };
    if outbox::refusal(state, &account, Some(MailCategory::Digest))
        .await?
        .is_some()
    {
        return Ok(());
    }
    let content = digest_of(state, &account, week_of).await?;
    let MailContent::WeeklyDigest {
        posts,
        unread_notifications,
        ..
    } = &content
    else {
        return Ok(());
    };
    if posts.is_empty() && *unread_notifications == 0 {
        return Ok(());
    }
    let mut write = Write::begin(state).await?;
    let key = format!("weekly_digest:{user_id}:{}", week_of.date_naive());
    queue_mail(&mut write, user_id, &account.email, &content, Some(key)).await?;
    write.commit().await
}

/// The digest of `account` for the seven days before `week_of`.
async fn digest_of(
    state: &AppState,
    account: &user::Model,
    week_of: DateTime<Utc>,
) -> AppResult<MailContent> {
    let db = &state.db;
    let since = week_of - TimeDelta::days(7);
    let followed: Vec<String> = follow::Entity::find()
        .select_only()
        .column(follow::Column::FollowingId)
        .filter(follow::Column::FollowerId.eq(&account.id))
        .into_tuple()
        .all(db)
        .await?;
    let mut posts = Vec::new();
    let mut shown = HashSet::new();
    if !followed.is_empty() {
        let from_followed = week_posts(since, week_of)
            .filter(post::Column::AuthorId.is_in(followed))
            .limit(POSTS_PER_SOURCE)
            .all(db)
            .await?;
        add_posts(
            state,
            &mut posts,
            &mut shown,
            from_followed,
            "from people you follow",
        )
        .await?;
    }
    let categories = categories_read(state, &account.id, week_of).await?;
    if !categories.is_empty() {
        let from_categories = week_posts(since, week_of)
            .filter(post::Column::CategoryId.is_in(categories))
            .filter(post::Column::AuthorId.ne(&account.id))
            .limit(POSTS_PER_SOURCE * 2)
            .all(db)
            .await?
            .into_iter()
            .filter(|row| !shown.contains(&row.id))
            .take(usize::try_from(POSTS_PER_SOURCE).unwrap_or(5))
            .collect();
        add_posts(
            state,
            &mut posts,
            &mut shown,
            from_categories,
            "in a category you read",
        )
        .await?;
    }
    let unread_notifications = notification::Entity::find()
        .filter(notification::Column::UserId.eq(&account.id))
        .filter(notification::Column::Read.eq(false))
        .count(db)
        .await?;
    Ok(MailContent::WeeklyDigest {
        week_of: (since.date_naive()).to_string(),
        posts,
        unread_notifications,
    })
}

/// Published posts of the week, best first (PRODUCT_RULES' popularity:
/// reactions·2 + comments·3 + views·0.1).
fn week_posts(since: DateTime<Utc>, until: DateTime<Utc>) -> sea_orm::Select<post::Entity> {
    post::Entity::find()
        .filter(post::Column::Published.eq(true))
        .filter(post::Column::DeletedAt.is_null())
        .filter(post::Column::PublishedAt.gte(since))
        .filter(post::Column::PublishedAt.lt(until))
        .order_by_desc(
            Expr::col(post::Column::ReactionCount)
                .mul(20)
                .add(Expr::col(post::Column::CommentCount).mul(30))
                .add(Expr::col(post::Column::Views)),
        )
        .order_by_desc(post::Column::Id)
}

/// The categories of the posts `user_id` commented on or reacted to lately.
async fn categories_read(
    state: &AppState,
    user_id: &str,
    until: DateTime<Utc>,
) -> AppResult<Vec<String>> {
    let since = until - READING_WINDOW;
    let commented = comment::Entity::find()
        .select_only()
        .column(comment::Column::PostId)
        .filter(comment::Column::AuthorId.eq(user_id))
        .filter(comment::Column::CreatedAt.gte(since))
        .into_query();
    let reacted = reaction::Entity::find()
        .select_only()
        .column(reaction::Column::TargetId)
        .filter(reaction::Column::UserId.eq(user_id))
        .filter(reaction::Column::TargetType.eq("POST"))
        .filter(reaction::Column::CreatedAt.gte(since))
        .into_query();
    let categories: Vec<Option<String>> = post::Entity::find()
        .select_only()
        .column(post::Column::CategoryId)
        .distinct()
        .filter(
            Condition::any()
                .add(post::Column::Id.in_subquery(commented))
                .add(post::Column::Id.in_subquery(reacted)),
        )
        .into_tuple()
        .all(&state.db)
        .await?;
    Ok(categories.into_iter().flatten().collect())
}

async fn add_posts(
    state: &AppState,
    posts: &mut Vec<DigestPost>,
    shown: &mut HashSet<String>,
    rows: Vec<post::Model>,
    reason: &str,
) -> AppResult<()> {
    let author_ids: Vec<String> = rows.iter().map(|row| row.author_id.clone()).collect();
    let authors = super::users::users_by_ids(&state.db, &author_ids).await?;
    for row in rows {
        if !shown.insert(row.id.clone()) {
            continue;
        }
        let author = authors
            .get(&row.author_id)
            .map_or_else(|| "someone".to_owned(), |author| author.username.clone());
        posts.push(DigestPost {
            excerpt: row
                .excerpt
                .clone()
                .unwrap_or_else(|| derive_excerpt(&row.content)),
            url: state.mail.app_link(&format!("/posts/{}", row.slug)),
            title: row.title,
            author,
            reason: reason.to_owned(),
        });
    }
    Ok(())
}
