//! Resumable feeds: a stream that first replays from the database every row after
//! the client's last seen id — exactly once, in id order — then continues with live
//! events, skipping any it already sent. Ids are UUIDv7 strings, so their order is
//! the order rows were created in. A subscriber that falls behind the bus replays
//! what it missed the same way.

use entity::{comment, notification};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Select};
use tokio::sync::{broadcast::error::RecvError, mpsc};

use super::Event;
use crate::{error::AppResult, state::AppState};

/// Rows read per replay statement.
const REPLAY_BATCH: u64 = 100;

/// A kind of row a client can follow live and resume.
pub trait Feed: Send + Sync + 'static {
    type Row: Clone + Send + 'static;

    /// The row's id.
    fn id(row: &Self::Row) -> &str;

    /// The row an event carries, when it belongs to this feed.
    fn carried_by(&self, event: &Event) -> Option<Self::Row>;

    /// Up to `limit` rows with an id greater than `after`, in id order.
    fn after(
        &self,
        state: &AppState,
        after: &str,
        limit: u64,
    ) -> impl Future<Output = AppResult<Vec<Self::Row>>> + Send;
}

/// The notifications of one user.
pub struct NotificationFeed {
    pub user_id: String,
}

impl Feed for NotificationFeed {
    type Row = notification::Model;

    fn id(row: &Self::Row) -> &str {
        &row.id
    }

    fn carried_by(&self, event: &Event) -> Option<Self::Row> {
        match event {
            Event::NotificationAdded { notification } if notification.user_id == self.user_id => {
                Some(notification.clone())
            }
            _ => None,
        }
    }

    async fn after(&self, state: &AppState, after: &str, limit: u64) -> AppResult<Vec<Self::Row>> {
        Ok(self.replay_query(after, limit).all(&state.db).await?)
    }
}

impl NotificationFeed {
    /// The statement [`Feed::after`] runs.
    pub fn replay_query(&self, after: &str, limit: u64) -> Select<notification::Entity> {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(&self.user_id))
            .filter(notification::Column::Id.gt(after))
            .order_by_asc(notification::Column::Id)
            .limit(limit)
    }
}

/// The comments (and replies) of one post.
pub struct CommentFeed {
    pub post_id: String,
}

impl Feed for CommentFeed {
    type Row = comment::Model;

    fn id(row: &Self::Row) -> &str {
        &row.id
    }

    fn carried_by(&self, event: &Event) -> Option<Self::Row> {
        match event {
            Event::CommentAdded { comment } if comment.post_id == self.post_id => {
                Some(comment.clone())
            }
            _ => None,
        }
    }

    async fn after(&self, state: &AppState, after: &str, limit: u64) -> AppResult<Vec<Self::Row>> {
        Ok(self.replay_query(after, limit).all(&state.db).await?)
    }
}

impl CommentFeed {
    /// The statement [`Feed::after`] runs.
    pub fn replay_query(&self, after: &str, limit: u64) -> Select<comment::Entity> {
        comment::Entity::find()
            .filter(comment::Column::PostId.eq(&self.post_id))
            .filter(comment::Column::Id.gt(after))
            .order_by_asc(comment::Column::Id)
            .limit(limit)
    }
}

/// Sends `feed`'s rows after `after` (if given), then live ones, to `sender`, until
/// the receiver goes away.
pub async fn follow<F: Feed>(
    state: AppState,
    feed: F,
    after: Option<String>,
    sender: mpsc::Sender<F::Row>,
) {
    // Listen first, so nothing created during the replay is lost.
    let mut events = state.events.subscribe();
    let mut last_sent = after;
    if replay(&state, &feed, &mut last_sent, &sender)
        .await
        .is_err()
    {
        return;
    }
    loop {
        match events.recv().await {
            Ok(event) if *event == Event::Resync => {
                if replay(&state, &feed, &mut last_sent, &sender)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Ok(event) => {
                let Some(row) = feed.carried_by(&event) else {
                    continue;
                };
                if last_sent.as_deref().is_some_and(|last| F::id(&row) <= last) {
                    continue;
                }
                last_sent = Some(F::id(&row).to_owned());
                if sender.send(row).await.is_err() {
                    return;
                }
            }
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(
                    missed,
                    "a subscriber fell behind; replaying from the database"
                );
                if replay(&state, &feed, &mut last_sent, &sender)
                    .await
                    .is_err()
                {
                    return;
                }
            }
            Err(RecvError::Closed) => return,
        }
    }
}

/// Sends every stored row after `last_sent`, advancing it. Errs when the receiver
/// is gone or the database fails (the stream then ends; the client resumes later).
async fn replay<F: Feed>(
    state: &AppState,
    feed: &F,
    last_sent: &mut Option<String>,
    sender: &mpsc::Sender<F::Row>,
) -> Result<(), ()> {
    let Some(mut cursor) = last_sent.clone() else {
        return Ok(());
    };
    loop {
        let rows = feed
            .after(state, &cursor, REPLAY_BATCH)
            .await
            .map_err(|err| err.log())?;
        let complete = (rows.len() as u64) < REPLAY_BATCH;
        for row in rows {
            cursor = F::id(&row).to_owned();
            sender.send(row).await.map_err(|_| ())?;
        }
        *last_sent = Some(cursor.clone());
        if complete {
            return Ok(());
        }
    }
}
