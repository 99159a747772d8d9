//! The effects seam: one place for what a write causes.
//!
//! A domain write begins a [`Write`], does its statements through [`Write::db`], and
//! records what it causes as it goes: notifications ([`Write::notify`], each also
//! scheduling the mail about it), live events ([`Write::publish`]), cache invalidations ([`Write::post_totals_changed`]) and jobs
//! ([`Write::enqueue`]). It ends with [`Write::commit`], which commits and only then
//! dispatches: announces the notifications, publishes the events, forgets the caches
//! and wakes the workers of the queues that got jobs.
//!
//! The rule: **no domain write commits a transaction or publishes an event any other
//! way.** Notification rows and jobs are written in the transaction, so they commit
//! or roll back with the write; everything that leaves the process happens after the
//! commit, so nobody hears of a write that did not happen. A write that fails (or is
//! dropped without a commit) rolls back and dispatches nothing.

use std::collections::BTreeSet;

use entity::notification;
use sea_orm::{DatabaseTransaction, EntityTrait, IntoActiveModel};

use super::{
    notification_mail,
    notifications::{self, NewNotification},
};
use crate::{
    error::AppResult,
    jobs::{self, NewJob, Queue},
    realtime::Event,
    state::AppState,
};

/// A write in progress: its transaction and what it has caused so far.
pub struct Write<'a> {
    state: &'a AppState,
    txn: DatabaseTransaction,
    notifications: Vec<notification::Model>,
    events: Vec<Event>,
    post_totals_changed: bool,
    queues: BTreeSet<Queue>,
}

impl<'a> Write<'a> {
    /// Begins a write (on SQLite holding the write lock from the start).
    pub async fn begin(state: &'a AppState) -> AppResult<Self> {
        Ok(Self {
            state,
            txn: state.begin_write().await?,
            notifications: Vec::new(),
            events: Vec::new(),
            post_totals_changed: false,
            queues: BTreeSet::new(),
        })
    }

    /// The application the write belongs to.
    pub fn state(&self) -> &'a AppState {
        self.state
    }

    /// The transaction: every statement of the write goes through it.
    pub fn db(&self) -> &DatabaseTransaction {
        &self.txn
    }

    /// Stores a notification (see [`notifications::notify`]), announced after the
    /// commit; returns whether it was stored.
    pub async fn notify(&mut self, new: NewNotification) -> AppResult<bool> {
        let Some(stored) = notifications::notify(&self.txn, new).await? else {
            return Ok(false);
        };
        notification_mail::schedule(self, &stored.user_id, &stored.notification_type).await?;
        self.notifications.push(stored);
        Ok(true)
    }

    /// Stores each of `news`, in recipient order (several feeds' positions are taken
    /// in key order, see [`super::feed_positions`]).
    pub async fn notify_all(&mut self, mut news: Vec<NewNotification>) -> AppResult<()> {
        news.sort_by(|a, b| a.user_id.cmp(&b.user_id));
        for new in news {
            self.notify(new).await?;
        }
        Ok(())
    }

    /// Stores notifications built whole by the caller (a broadcast's batch: no dedupe,
    /// positions already taken), in one statement; announced after the commit.
    pub async fn insert_notifications(&mut self, rows: Vec<notification::Model>) -> AppResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        notification::Entity::insert_many(
            rows.iter().cloned().map(IntoActiveModel::into_active_model),
        )
        .exec_without_returning(&self.txn)
        .await?;
        for row in &rows {
            notification_mail::schedule(self, &row.user_id, &row.notification_type).await?;
        }
        self.notifications.extend(rows);
        Ok(())
    }

    /// Publishes `event` on the bus after the commit.
    pub fn publish(&mut self, event: Event) {
        self.events.push(event);
    }

    /// The public post lists change: their remembered totals are forgotten after the
    /// commit.
    pub fn post_totals_changed(&mut self) {
        self.post_totals_changed = true;
    }

    /// Enqueues a job in the write's transaction (see [`jobs::enqueue`]); its queue's
    /// workers wake after the commit. Returns the job's id, or `None` when a job with
    /// its unique key exists.
    pub async fn enqueue(&mut self, job: impl Into<NewJob>) -> AppResult<Option<String>> {
        let enqueued = jobs::enqueue(&self.txn, job.into()).await?;
        Ok(enqueued.map(|(id, queue)| {
            self.queues.insert(queue);
            id
        }))
    }

    /// Commits, then dispatches what the write caused. When the commit fails nothing
    /// is dispatched.
    pub async fn commit(self) -> AppResult<()> {
        let Self {
            state,
            txn,
            notifications,
            events,
            post_totals_changed,
            queues,
        } = self;
        txn.commit().await?;
        if post_totals_changed {
            state.list_totals.forget();
        }
        for notification in notifications {
            state
                .events
                .publish(Event::NotificationAdded { notification });
        }
        for event in events {
            state.events.publish(event);
        }
        for queue in queues {
            state.job_signals.wake(queue);
        }
        Ok(())
    }
}
