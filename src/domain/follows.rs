//! Follows: who follows whom, the lists both ways, and the counts on profiles.
//!
//! Following is idempotent (a second follow changes nothing, unfollowing someone
//! not followed is fine). A new follow notifies the followed user once per
//! follower, however often they unfollow and follow again.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{follow, user};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, ExprTrait, FromQueryResult, QueryFilter, QueryOrder,
    QuerySelect, Select,
    sea_query::{Expr, Query},
};
use serde::Serialize;

use super::{
    effects::Write,
    notification_copy::Happening,
    notifications::NewNotification,
    now,
    pagination::{CursorPage, CursorSlice, CursorWindow},
    users::{self, AuthorSummary},
};
use crate::{
    auth::Caller,
    error::{AppError, AppResult},
    state::AppState,
};

/// The answer to a follow or unfollow: `{following, followers}`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, Serialize, schemars::JsonSchema, async_graphql::SimpleObject,
)]
#[graphql(name = "FollowResult")]
#[schemars(rename = "FollowResult")]
pub struct FollowStatus {
    /// Whether the caller now follows the user.
    pub following: bool,
    /// How many accounts follow the user.
    pub followers: u64,
}

/// Which side of the follows of a user to list.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FollowList {
    /// Accounts following the user.
    Followers,
    /// Accounts the user follows.
    Following,
}

impl FollowList {
    /// The column naming the user whose list it is, and the one naming the listed accounts.
    fn columns(self) -> (follow::Column, follow::Column) {
        match self {
            Self::Followers => (follow::Column::FollowingId, follow::Column::FollowerId),
            Self::Following => (follow::Column::FollowerId, follow::Column::FollowingId),
        }
    }
}

/// Where a follow list resumes: the `created_at` and listed user id of the last row.
pub type FollowCursor = (DateTime<Utc>, String);

/// The caller follows `username`.
pub async fn follow(state: &AppState, caller: &Caller, username: &str) -> AppResult<FollowStatus> {
    let viewer = caller.viewer()?;
    state.limits.follow.check(&caller.rate_key()).await?;
    let target = followable(state, &viewer.id, username).await?;
    let mut write = Write::begin(state).await?;
    let inserted = follow::Entity::insert(follow::ActiveModel {
        follower_id: Set(viewer.id.clone()),
        following_id: Set(target.id.clone()),
        created_at: Set(now()),
    })
    .on_conflict_do_nothing_on([follow::Column::FollowerId, follow::Column::FollowingId])
    .exec_without_returning(write.db())
    .await?;
    if matches!(inserted, sea_orm::TryInsertResult::Inserted(rows) if rows > 0) {
        let happening = Happening::Followed {
            follower: &viewer.username,
        };
        write
            .notify(
                NewNotification::about(
                    &happening,
                    &target.id,
                    Some(&viewer.id),
                    serde_json::json!({ "userId": viewer.id }),
                )
                .once_per(format!("USER_FOLLOWED:{}", viewer.id)),
            )
            .await?;
    }
    write.commit().await?;
    status(state, &target.id, true).await
}

/// The caller stops following `username` (fine when they did not follow).
pub async fn unfollow(
    state: &AppState,
    caller: &Caller,
    username: &str,
) -> AppResult<FollowStatus> {
    let viewer = caller.viewer()?;
    let target = followable(state, &viewer.id, username).await?;
    follow::Entity::delete_many()
        .filter(follow::Column::FollowerId.eq(&viewer.id))
        .filter(follow::Column::FollowingId.eq(&target.id))
        .exec(&state.writer)
        .await?;
    status(state, &target.id, false).await
}

/// The account `username`, which `viewer_id` may follow: anyone but themselves.
async fn followable(state: &AppState, viewer_id: &str, username: &str) -> AppResult<user::Model> {
    let target = users::find_by_username(&state.db, username).await?;
    if target.id == viewer_id {
        return Err(AppError::field("username", "you cannot follow yourself"));
    }
    Ok(target)
}

async fn status(state: &AppState, user_id: &str, following: bool) -> AppResult<FollowStatus> {
    let counts = counts_by_user_ids(&state.db, &[user_id.to_owned()]).await?;
    Ok(FollowStatus {
        following,
        followers: counts.get(user_id).map_or(0, |counts| counts.followers),
    })
}

/// Followers and followed accounts of one user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct FollowCounts {
    pub followers: u64,
    pub following: u64,
}

#[derive(FromQueryResult)]
struct FollowCountRow {
    id: String,
    followers: i64,
    following: i64,
}

/// Follow counts by user id, in one statement (users without follows are absent).
pub async fn counts_by_user_ids(
    db: &impl ConnectionTrait,
    ids: &[String],
) -> AppResult<HashMap<String, FollowCounts>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let count_where = |column: follow::Column| {
        Query::select()
            .expr(Expr::col((follow::Entity, column)).count())
            .from(follow::Entity)
            .and_where(Expr::col((follow::Entity, column)).equals((user::Entity, user::Column::Id)))
            .to_owned()
    };
    let rows = user::Entity::find()
        .select_only()
        .column(user::Column::Id)
        .expr_as(count_where(follow::Column::FollowingId), "followers")
        .expr_as(count_where(follow::Column::FollowerId), "following")
        .filter(user::Column::Id.is_in(ids.iter().cloned()))
        .into_model::<FollowCountRow>()
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let counts = FollowCounts {
                followers: u64::try_from(row.followers).unwrap_or_default(),
                following: u64::try_from(row.following).unwrap_or_default(),
            };
            (row.id, counts)
        })
        .collect())
}

/// One page of the followers (or followed accounts) of `user_id`, newest follow first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: &str,
    which: FollowList,
    window: &CursorWindow<FollowCursor>,
) -> AppResult<CursorSlice<user::Model>> {
    let rows = page_query(user_id, which, window).all(db).await?;
    let listed_id = |row: &follow::Model| match which {
        FollowList::Followers => row.follower_id.clone(),
        FollowList::Following => row.following_id.clone(),
    };
    let slice = CursorSlice::from_probe(rows, window.limit, |row| (row.created_at, listed_id(row)));
    let ids: Vec<String> = slice.rows.iter().map(|(_, row)| listed_id(row)).collect();
    let mut accounts = users::users_by_ids(db, &ids).await?;
    Ok(slice.filter_map(|row| accounts.remove(&listed_id(&row))))
}

/// The statement [`list`] runs: the follows of `user_id` on the `which` side, newest
/// first (the listed id breaks ties), after the cursor, one more than the page.
pub fn page_query(
    user_id: &str,
    which: FollowList,
    window: &CursorWindow<FollowCursor>,
) -> Select<follow::Entity> {
    let (owner, listed) = which.columns();
    let mut query = follow::Entity::find().filter(owner.eq(user_id));
    if let Some((created_at, listed_id)) = &window.after {
        // `(created_at, listed) < (…, …)`: rows after the cursor in the list's order,
        // written as one row comparison so that an index range can start there.
        let key = Expr::tuple([
            Expr::col((follow::Entity, follow::Column::CreatedAt)),
            Expr::col((follow::Entity, listed)),
        ]);
        let cursor = Expr::tuple([Expr::val(*created_at), Expr::val(listed_id.as_str())]);
        query = query.filter(key.lt(cursor));
    }
    query
        .order_by_desc(follow::Column::CreatedAt)
        .order_by_desc(listed)
        .limit(window.probe_limit())
}

/// [`list`] for `username`, as REST shows it.
pub async fn list_page(
    state: &AppState,
    username: &str,
    which: FollowList,
    window: &CursorWindow<FollowCursor>,
) -> AppResult<CursorPage<AuthorSummary>> {
    let owner = users::find_by_username(&state.db, username).await?;
    let slice = list(&state.db, &owner.id, which, window).await?;
    Ok(slice.into_page(|account| AuthorSummary::from(&account)))
}

/// Which of `ids` `follower_id` follows, in one statement.
pub async fn followed_among(
    db: &impl ConnectionTrait,
    follower_id: &str,
    ids: &[String],
) -> AppResult<HashSet<String>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let followed: Vec<String> = follow::Entity::find()
        .select_only()
        .column(follow::Column::FollowingId)
        .filter(follow::Column::FollowerId.eq(follower_id))
        .filter(follow::Column::FollowingId.is_in(ids.iter().cloned()))
        .into_tuple()
        .all(db)
        .await?;
    Ok(followed.into_iter().collect())
}
