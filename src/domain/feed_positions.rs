//! Positions in commit order for the rows live streams deliver (a post's comments, a
//! user's notifications): why they exist is in the migration that added them.
//!
//! A writing transaction takes the next position of a feed from its counter in
//! `feed_positions`. The counter's row stays locked until the transaction ends (on
//! SQLite the one writer holds everything), so a feed's positions are handed out in
//! commit order, and when a row at position `p` is committed, every position below
//! `p` is committed too. Streams rely on that (`realtime::feeds`).
//!
//! A transaction that takes positions of several feeds takes them in key order, so
//! two transactions never wait on each other's counters in a cycle.

use std::collections::HashMap;

use sea_orm::{
    ConnectionTrait, FromQueryResult,
    sea_query::{Alias, Expr, ExprTrait, OnConflict, Query},
};

use crate::error::{AppError, AppResult};

/// The feed of the comments of `post_id`.
pub fn comments_of(post_id: &str) -> String {
    format!("comments:{post_id}")
}

/// The feed of the notifications of `user_id`.
pub fn notifications_of(user_id: &str) -> String {
    format!("notifications:{user_id}")
}

/// The next position of `feed`. Call inside the transaction that writes the row.
pub async fn take(db: &impl ConnectionTrait, feed: &str) -> AppResult<i64> {
    take_many(db, &[feed.to_owned()])
        .await?
        .pop()
        .ok_or_else(|| AppError::Internal(format!("no position taken for {feed}")))
}

/// The next position of each of `feeds` (distinct keys), in the same order, in one
/// statement that takes them in key order. Call inside the transaction that writes
/// the rows.
pub async fn take_many(db: &impl ConnectionTrait, feeds: &[String]) -> AppResult<Vec<i64>> {
    if feeds.is_empty() {
        return Ok(Vec::new());
    }
    let mut ordered: Vec<&String> = feeds.iter().collect();
    ordered.sort();
    let (table, feed, position) = (
        Alias::new("feed_positions"),
        Alias::new("feed"),
        Alias::new("position"),
    );
    let mut insert = Query::insert();
    insert
        .into_table(table.clone())
        .columns([feed.clone(), position.clone()]);
    for key in ordered {
        insert
            .values([key.as_str().into(), 1i64.into()])
            .map_err(|err| AppError::Internal(format!("feed positions: {err}")))?;
    }
    insert
        .on_conflict(
            OnConflict::column(feed.clone())
                .value(
                    position.clone(),
                    Expr::col((table, position.clone())).add(1),
                )
                .to_owned(),
        )
        .returning(Query::returning().columns([feed, position]));
    let taken: HashMap<String, i64> =
        FeedPosition::find_by_statement(db.get_database_backend().build(&insert))
            .all(db)
            .await?
            .into_iter()
            .map(|row| (row.feed, row.position))
            .collect();
    feeds
        .iter()
        .map(|feed| {
            taken
                .get(feed)
                .copied()
                .ok_or_else(|| AppError::Internal(format!("no position taken for {feed}")))
        })
        .collect()
}

/// The latest committed position of `feed` (0 before its first row).
pub async fn latest(db: &impl ConnectionTrait, feed: &str) -> AppResult<i64> {
    let query = Query::select()
        .column(Alias::new("feed"))
        .column(Alias::new("position"))
        .from(Alias::new("feed_positions"))
        .and_where(Expr::col(Alias::new("feed")).eq(feed))
        .to_owned();
    let row = FeedPosition::find_by_statement(db.get_database_backend().build(&query))
        .one(db)
        .await?;
    Ok(row.map_or(0, |row| row.position))
}

#[derive(FromQueryResult)]
struct FeedPosition {
    feed: String,
    position: i64,
}
