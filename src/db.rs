//! Database connection (SQLite by default, PostgreSQL by URL), migrations, and the
//! per-request SQL statement counter behind the `Server-Timing` header.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};
use tokio::task::futures::TaskLocalFuture;

tokio::task_local! {
    static STATEMENTS: SqlCounter;
}

/// Counts the SQL statements run by the task it is scoped to.
#[derive(Clone, Default)]
pub struct SqlCounter(Arc<AtomicU32>);

impl SqlCounter {
    /// Runs `future` with every SQL statement it executes counted here.
    pub fn scope<F: Future>(self, future: F) -> TaskLocalFuture<SqlCounter, F> {
        STATEMENTS.scope(self, future)
    }

    /// Statements counted so far.
    pub fn count(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }

    /// The counter of the current task, if it runs inside [`SqlCounter::scope`].
    pub fn current() -> Option<Self> {
        STATEMENTS.try_with(Clone::clone).ok()
    }
}

fn record_statement() {
    let _ = STATEMENTS.try_with(|counter| counter.0.fetch_add(1, Ordering::Relaxed));
}

/// Connects, tunes the connection for its backend and applies pending migrations.
pub async fn connect(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let is_sqlite = url.starts_with("sqlite:");
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if in_memory { 1 } else { max_connections })
        .min_connections(if in_memory { 1 } else { 0 })
        .acquire_timeout(Duration::from_secs(10))
        .sqlx_logging(false);
    // sqlx pings a pooled connection before every statement unless told otherwise; that
    // doubles the round trips. A local SQLite file cannot go stale, and a server
    // connection is worth checking only after it sat idle for a while.
    if is_sqlite {
        options.test_before_acquire(false);
    } else {
        options.test_before_acquire_if_idle_for(Duration::from_secs(30));
    }
    if in_memory {
        // An in-memory SQLite database lives exactly as long as its one connection.
        options
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>);
    }
    if is_sqlite {
        options.map_sqlx_sqlite_opts(|opts| {
            opts.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .pragma("cache_size", "-16384")
                .pragma("mmap_size", "268435456")
                .pragma("temp_store", "memory")
                .foreign_keys(true)
        });
    }
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(|_| record_statement());
    Migrator::up(&db, None).await?;
    Ok(db)
}

/// True when the database answers a trivial query.
pub async fn is_reachable(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
