//! Database connections (SQLite by default, PostgreSQL by URL), migrations, write
//! transactions, and the per-request SQL statement counter behind the `Server-Timing`
//! header.
//!
//! # Writes on SQLite
//!
//! SQLite has one writer at a time. A deferred transaction that reads and then writes
//! cannot upgrade its lock once another connection has written: it fails at once with
//! `database is locked`, which the busy timeout does not cover. So every write goes
//! through [`Databases::writer`]: on SQLite a pool of exactly one connection whose
//! transactions begin `IMMEDIATE` (taking the write lock when they begin, so another
//! process writing to the same file makes them wait, never fail), beside the pool of
//! readers, which WAL lets read while the writer writes. Concurrent writers of this
//! process queue for the writer connection instead of sleeping in SQLite's busy
//! handler. On PostgreSQL the writer is the same pool as the readers.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DatabaseTransaction, DbErr,
    SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
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

/// The connections of one database: readers, the connection every write goes
/// through (see the module documentation), and the job queue's own.
#[derive(Clone)]
pub struct Databases {
    /// Reads (and, on PostgreSQL, writes too: the same pool as `writer`).
    pub reader: DatabaseConnection,
    /// Writes: on SQLite one connection, so writers queue instead of failing.
    pub writer: DatabaseConnection,
    /// The job queue's bookkeeping (claims, leases, outcomes). On PostgreSQL a small
    /// pool whose commits do not wait for the disk (`synchronous_commit = off`): a
    /// claim or an outcome lost in a crash only lets an idempotent job run again, and
    /// not waiting for a flush per claim and per outcome is what lets a worker run
    /// thousands of short jobs a second. Enqueues and a job's own writes stay
    /// durable: they go through `writer`. On SQLite, the writer.
    pub queue: DatabaseConnection,
}

/// Connections of the job queue's pool on PostgreSQL.
const QUEUE_CONNECTIONS: u32 = 8;

/// Begins a write transaction on `writer` (a [`Databases::writer`]); on SQLite it
/// takes the write lock at once (`BEGIN IMMEDIATE`).
pub async fn begin_write(writer: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    writer
        .begin_with_options(TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..TransactionOptions::default()
        })
        .await
}

/// Connects (readers and writer) and tunes the connections for their backend.
/// Migrations are applied separately ([`migrate`]), by the commands that need them.
pub async fn connect(url: &str, max_connections: u32) -> Result<Databases, DbErr> {
    let is_sqlite = url.starts_with("sqlite:");
    let in_memory = url.contains(":memory:") || url.contains("mode=memory");
    if in_memory {
        // An in-memory SQLite database lives exactly as long as its one connection,
        // which therefore reads and writes.
        let only = open(url, 1, true).await?;
        return Ok(Databases {
            reader: only.clone(),
            writer: only.clone(),
            queue: only,
        });
    }
    let reader = open(url, max_connections, false).await?;
    let (writer, queue) = if is_sqlite {
        let writer = open(url, 1, false).await?;
        (writer.clone(), writer)
    } else {
        (reader.clone(), open_queue(url).await?)
    };
    Ok(Databases {
        reader,
        writer,
        queue,
    })
}

/// Applies pending migrations through the writer.
pub async fn migrate(databases: &Databases) -> Result<(), DbErr> {
    Migrator::up(&databases.writer, None).await
}

/// One pool of up to `max_connections` connections to `url`.
async fn open(
    url: &str,
    max_connections: u32,
    in_memory: bool,
) -> Result<DatabaseConnection, DbErr> {
    connect_counted(options(url, max_connections, in_memory)).await
}

/// The options of a pool of up to `max_connections` connections to `url`, tuned for
/// its backend.
fn options(url: &str, max_connections: u32, in_memory: bool) -> ConnectOptions {
    let is_sqlite = url.starts_with("sqlite:");
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(u32::from(in_memory))
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
    options
}

/// The job queue's pool on PostgreSQL (see [`Databases::queue`]).
async fn open_queue(url: &str) -> Result<DatabaseConnection, DbErr> {
    let mut options = options(url, QUEUE_CONNECTIONS, false);
    options.map_sqlx_postgres_opts(|opts| opts.options([("synchronous_commit", "off")]));
    connect_counted(options).await
}

/// Connects a pool whose statements the per-request counter sees.
async fn connect_counted(options: ConnectOptions) -> Result<DatabaseConnection, DbErr> {
    let mut db = Database::connect(options).await?;
    db.set_metric_callback(|_| record_statement());
    Ok(db)
}

/// True when the database answers a trivial query.
pub async fn is_reachable(db: &DatabaseConnection) -> bool {
    db.ping().await.is_ok()
}
