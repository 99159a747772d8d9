//! Resumable feeds: a stream that first replays from the database every row after
//! the client's last seen one — exactly once, in order — then continues with live
//! events, skipping any it already sent.
//!
//! Order is the rows' feed position, which follows commit order (see
//! `domain::feed_positions`): ids are made before commit, on several clocks, so a row
//! with a lower id can commit after one with a higher id. Because positions are
//! handed out in commit order, once position `p` is committed every lower one is
//! too. So a live event one past the last position sent is simply sent; an event
//! further ahead means an earlier commit's event is still on its way (or was lost),
//! and the stream reads what it missed from the database instead; an event at or
//! below the last position sent is a duplicate. A subscriber that falls behind the
//! bus, or whose instance's bus was cut off from the others, replays the same way.

use entity::{comment, notification};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use tokio::sync::{broadcast::error::RecvError, mpsc};

use super::Event;
use crate::{domain::feed_positions, error::AppResult, state::AppState};

/// Rows read per replay statement.
const REPLAY_BATCH: u64 = 100;

/// A kind of row a client can follow live and resume.
pub trait Feed: Send + Sync + 'static {
    type Row: Clone + Send + 'static;

    /// The feed's key in `feed_positions`.
    fn key(&self) -> String;

    /// The row's position in the feed.
    fn position(row: &Self::Row) -> i64;

    /// The row an event carries, when it belongs to this feed.
    fn carried_by(&self, event: &Event) -> Option<Self::Row>;

    /// The position of the row `id` of this feed; for an id not in it (a removed
    /// row), that of the last row created before it; 0 when there is none.
    fn position_of(
        &self,
        state: &AppState,
        id: &str,
    ) -> impl Future<Output = AppResult<i64>> + Send;

    /// Up to `limit` rows after position `after`, in position order.
    fn after(
        &self,
        state: &AppState,
        after: i64,
        limit: u64,
    ) -> impl Future<Output = AppResult<Vec<Self::Row>>> + Send;
}

/// The notifications of one user.
pub struct NotificationFeed {
    pub user_id: String,
}

impl Feed for NotificationFeed {
    type Row = notification::Model;

    fn key(&self) -> String {
        feed_positions::notifications_of(&self.user_id)
    }

    fn position(row: &Self::Row) -> i64 {
        row.feed_position
    }

    fn carried_by(&self, event: &Event) -> Option<Self::Row> {
        match event {
            Event::NotificationAdded { notification } if notification.user_id == self.user_id => {
                Some(notification.clone())
            }
            _ => None,
        }
    }

    async fn position_of(&self, state: &AppState, id: &str) -> AppResult<i64> {
        let row = notification::Entity::find()
            .filter(notification::Column::UserId.eq(&self.user_id))
            .filter(notification::Column::Id.lte(id))
            .order_by_desc(notification::Column::Id)
            .one(&state.db)
            .await?;
        Ok(row.map_or(0, |row| row.feed_position))
    }

    async fn after(&self, state: &AppState, after: i64, limit: u64) -> AppResult<Vec<Self::Row>> {
        Ok(self.replay_query(after, limit).all(&state.db).await?)
    }
}

impl NotificationFeed {
    /// The statement [`Feed::after`] runs.
    pub fn replay_query(&self, after: i64, limit: u64) -> Select<notification::Entity> {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(&self.user_id))
            .filter(notification::Column::FeedPosition.gt(after))
            .order_by_asc(notification::Column::FeedPosition)
            .limit(limit)
    }
}

/// The comments (and replies) of one post.
pub struct CommentFeed {
    pub post_id: String,
}

impl Feed for CommentFeed {
    type Row = comment::Model;

    fn key(&self) -> String {
        feed_positions::comments_of(&self.post_id)
    }

    fn position(row: &Self::Row) -> i64 {
        row.feed_position
    }

    fn carried_by(&self, event: &Event) -> Option<Self::Row> {
        match event {
            Event::CommentAdded { comment } if comment.post_id == self.post_id => {
                Some(comment.clone())
            }
            _ => None,
        }
    }

    async fn position_of(&self, state: &AppState, id: &str) -> AppResult<i64> {
        let row = comment::Entity::find()
            .filter(comment::Column::PostId.eq(&self.post_id))
            .filter(comment::Column::Id.lte(id))
            .order_by_desc(comment::Column::Id)
            .one(&state.db)
            .await?;
        Ok(row.map_or(0, |row| row.feed_position))
    }

    async fn after(&self, state: &AppState, after: i64, limit: u64) -> AppResult<Vec<Self::Row>> {
        Ok(self.replay_query(after, limit).all(&state.db).await?)
    }
}

impl CommentFeed {
    /// The statement [`Feed::after`] runs.
    pub fn replay_query(&self, after: i64, limit: u64) -> Select<comment::Entity> {
        comment::Entity::find()
            .filter(comment::Column::PostId.eq(&self.post_id))
            .filter(comment::Column::FeedPosition.gt(after))
            .order_by_asc(comment::Column::FeedPosition)
            .limit(limit)
    }
}

/// Sends `feed`'s rows after the row `after` (if given), then live ones, to
/// `sender`, until the receiver goes away. Without `after`, only rows committed from
/// now on are sent.
pub async fn follow<F: Feed>(
    state: AppState,
    feed: F,
    after: Option<String>,
    sender: mpsc::Sender<F::Row>,
) {
    // Listen first, so nothing committed during the replay is lost.
    let mut events = state.events.subscribe();
    let start = match &after {
        Some(id) => feed.position_of(&state, id).await,
        None => feed_positions::latest(&state.db, &feed.key()).await,
    };
    let mut last_sent = match start {
        Ok(position) => position,
        Err(err) => return err.log(),
    };
    if after.is_some()
        && replay(&state, &feed, &mut last_sent, &sender)
            .await
            .is_err()
    {
        return;
    }
    loop {
        let caught_up = match events.recv().await {
            Ok(event) if *event == Event::Resync => false,
            Ok(event) => match feed.carried_by(&event) {
                Some(row) if F::position(&row) <= last_sent => true,
                Some(row) if F::position(&row) == last_sent + 1 => {
                    last_sent += 1;
                    if sender.send(row).await.is_err() {
                        return;
                    }
                    true
                }
                // An earlier commit's event has not arrived: read it instead.
                Some(_) => false,
                None => true,
            },
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "a subscriber fell behind; replaying from the database"
                );
                false
            }
            Err(RecvError::Closed) => return,
        };
        if !caught_up
            && replay(&state, &feed, &mut last_sent, &sender)
                .await
                .is_err()
        {
            return;
        }
    }
}

/// Sends every stored row after `last_sent`, advancing it. Errs when the receiver
/// is gone or the database fails (the stream then ends; the client resumes later).
async fn replay<F: Feed>(
    state: &AppState,
    feed: &F,
    last_sent: &mut i64,
    sender: &mpsc::Sender<F::Row>,
) -> Result<(), ()> {
    loop {
        let rows = feed
            .after(state, *last_sent, REPLAY_BATCH)
            .await
            .map_err(|err| err.log())?;
        let complete = (rows.len() as u64) < REPLAY_BATCH;
        for row in rows {
            *last_sent = F::position(&row);
            sender.send(row).await.map_err(|_| ())?;
        }
        if complete {
            return Ok(());
        }
    }
}
