//! Wakes this process's idle workers when a job is enqueued: directly after a commit
//! here, and on PostgreSQL also through `LISTEN/NOTIFY`, for jobs enqueued by other
//! processes.

use std::sync::Arc;

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use tokio::sync::Notify;

use super::Queue;
use crate::error::AppResult;

/// The PostgreSQL channel announcing enqueued jobs; the payload is the queue's name.
pub const CHANNEL: &str = "sparkle_jobs";

/// One signal per queue. A wake with no worker waiting is kept until one waits, so
/// no wake is ever missed.
#[derive(Clone, Default)]
pub struct JobSignals(Arc<[Notify; Queue::ALL.len()]>);

impl JobSignals {
    /// Wakes a worker of `queue` (now, or when it next waits).
    pub fn wake(&self, queue: Queue) {
        self.signal(queue).notify_one();
    }

    /// The signal of `queue`.
    pub fn signal(&self, queue: Queue) -> &Notify {
        let index = Queue::ALL
            .iter()
            .position(|candidate| *candidate == queue)
            .unwrap_or_default();
        &self.0[index]
    }
}

/// On PostgreSQL, announces a job of `queue` to every listening process when the
/// transaction of `db` commits (`NOTIFY` is transactional); nothing on SQLite.
pub async fn announce(db: &impl ConnectionTrait, queue: Queue) -> AppResult<()> {
    if db.get_database_backend() == DbBackend::Postgres {
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [CHANNEL.into(), queue.as_str().into()],
        ))
        .await?;
    }
    Ok(())
}
