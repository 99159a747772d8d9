//! The workers of one process: a loop per queue claiming jobs into free slots, a
//! lease kept alive while each job runs, wake-ups from [`super::JobSignals`] (and
//! `LISTEN` on PostgreSQL), the scheduler, and a graceful shutdown that lets running
//! jobs finish within a bound and hands back the rest.

use std::{panic::AssertUnwindSafe, sync::Arc, time::Duration};

use entity::job;
use futures_util::FutureExt;
use sea_orm::DbBackend;
use tokio::{
    sync::{Semaphore, mpsc, oneshot},
    task::JoinSet,
};
use tokio_util::{sync::CancellationToken, task::TaskTracker};

use super::{
    Job, JobContext, Queue, handlers, queue, schedules,
    signals::{self, JobSignals},
};
use crate::{domain::new_id, error::AppResult, state::AppState};

/// The running workers of this process.
pub struct WorkerPool {
    shared: Arc<Shared>,
    /// Queue loops, the listener and the scheduler.
    loops: JoinSet<()>,
}

/// What the queue loops and running jobs share.
struct Shared {
    state: AppState,
    worker_id: String,
    /// Stops claiming.
    stop: CancellationToken,
    /// Interrupts running jobs (after the shutdown grace).
    interrupt: CancellationToken,
    running: TaskTracker,
    /// Done jobs, recorded in batches by [`record_completions`].
    completions: mpsc::UnboundedSender<Completion>,
}

/// A message to [`record_completions`].
enum Completion {
    /// This job (held by this pool's worker id) is done.
    Done(String),
    /// Answer once everything sent before is recorded.
    Flush(oneshot::Sender<()>),
}

/// Where an attempt's success is recorded.
#[derive(Clone, Copy)]
enum Recorder<'a> {
    /// At once, one statement per job (a drain).
    Each,
    /// By the pool's batching recorder.
    Batched(&'a mpsc::UnboundedSender<Completion>),
}

/// How a shutdown went.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ShutdownReport {
    /// Every running job finished within the grace period.
    pub finished_in_time: bool,
    /// Jobs interrupted and handed back (available again, the attempt not counted).
    pub handed_back: u64,
}

impl WorkerPool {
    /// Starts the scheduler and, unless `WORKER_CONCURRENCY` is 0, a worker loop per
    /// queue (and on PostgreSQL the `LISTEN` that wakes them).
    pub fn start(state: &AppState) -> Self {
        let worker_id = format!("{}-{}", std::process::id(), &new_id()[24..]);
        let (completions, completed) = mpsc::unbounded_channel();
        let mut loops = JoinSet::new();
        // Not among `loops`: it outlives them, until the shutdown's flush.
        tokio::spawn(record_completions(
            state.queue_db.clone(),
            worker_id.clone(),
            completed,
        ));
        let shared = Arc::new(Shared {
            state: state.clone(),
            worker_id,
            stop: CancellationToken::new(),
            interrupt: CancellationToken::new(),
            running: TaskTracker::new(),
            completions,
        });
        loops.spawn(schedules::run(state.clone(), shared.stop.clone()));
        let jobs = &state.config.jobs;
        let mut any = false;
        for queue in Queue::ALL {
            let concurrency = jobs.concurrency(queue);
            if concurrency > 0 {
                any = true;
                loops.spawn(serve_queue(shared.clone(), queue, concurrency));
            }
        }
        if any {
            loops.spawn(rescue(shared.clone()));
            if state.queue_db.get_database_backend() == DbBackend::Postgres {
                loops.spawn(listen(shared.clone()));
            }
            tracing::info!(worker = %shared.worker_id, "job workers started");
        }
        Self { shared, loops }
    }

    /// Stops claiming, lets running jobs finish for up to `grace`, then interrupts
    /// the rest and hands them back to the queue.
    pub async fn shutdown(mut self, grace: Duration) -> AppResult<ShutdownReport> {
        let shared = &self.shared;
        shared.stop.cancel();
        while self.loops.join_next().await.is_some() {}
        shared.running.close();
        let finished_in_time = tokio::time::timeout(grace, shared.running.wait())
            .await
            .is_ok();
        if !finished_in_time {
            shared.interrupt.cancel();
            shared.running.wait().await;
        }
        let (flushed, recorded) = oneshot::channel();
        if shared.completions.send(Completion::Flush(flushed)).is_ok() {
            let _ = recorded.await;
        }
        let handed_back = queue::hand_back(&shared.state.queue_db, &shared.worker_id).await?;
        tracing::info!(
            worker = %shared.worker_id,
            finished_in_time,
            handed_back,
            "job workers stopped"
        );
        Ok(ShutdownReport {
            finished_in_time,
            handed_back,
        })
    }
}

/// Claims jobs of `queue` into free slots until told to stop; idle, it waits for a
/// wake-up or the poll interval.
async fn serve_queue(shared: Arc<Shared>, queue: Queue, concurrency: usize) {
    let jobs = &shared.state.config.jobs;
    let poll = Duration::from_millis(jobs.job_poll_interval_ms.max(1));
    let lease = jobs.lease();
    let signals = shared.state.job_signals.clone();
    let slots = Arc::new(Semaphore::new(concurrency));
    loop {
        let first = tokio::select! {
            permit = slots.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => return,
            },
            () = shared.stop.cancelled() => return,
        };
        // Jobs that end together free their slots together: one claim fills them all.
        tokio::task::yield_now().await;
        let mut permits = vec![first];
        while let Ok(permit) = slots.clone().try_acquire_owned() {
            permits.push(permit);
        }
        let wanted = permits.len();
        let claimed = queue::claim(
            &shared.state.queue_db,
            queue,
            &shared.worker_id,
            u64::try_from(wanted).unwrap_or(1),
            lease,
        )
        .await;
        let idle = match claimed {
            Ok(rows) => {
                let idle = rows.len() < wanted;
                for (row, permit) in rows.into_iter().zip(permits) {
                    let shared = shared.clone();
                    shared.running.clone().spawn(async move {
                        let recorder = Recorder::Batched(&shared.completions);
                        run_one(
                            &shared.state,
                            &shared.worker_id,
                            row,
                            &shared.interrupt,
                            recorder,
                        )
                        .await;
                        drop(permit);
                    });
                }
                idle
            }
            Err(err) => {
                tracing::warn!(queue = queue.as_str(), error = %err.detail(), "cannot claim jobs");
                true
            }
        };
        if idle {
            tokio::select! {
                () = signals.signal(queue).notified() => {}
                () = tokio::time::sleep(poll) => {}
                () = shared.stop.cancelled() => return,
            }
        }
    }
}

/// Records done jobs: everything that finished while the previous statement ran goes
/// in the next one, so a busy queue pays one statement for many jobs and an idle one
/// records each job at once.
async fn record_completions(
    queue_db: sea_orm::DatabaseConnection,
    worker_id: String,
    mut completed: mpsc::UnboundedReceiver<Completion>,
) {
    const MOST_PER_STATEMENT: usize = 500;
    let mut done = Vec::new();
    let mut flushes = Vec::new();
    while let Some(first) = completed.recv().await {
        let mut next = Some(first);
        while let Some(message) = next.take() {
            match message {
                Completion::Done(id) => done.push(id),
                Completion::Flush(answer) => flushes.push(answer),
            }
            if done.len() < MOST_PER_STATEMENT {
                next = completed.try_recv().ok();
            }
        }
        if !done.is_empty()
            && let Err(err) = queue::complete_many(&queue_db, &worker_id, &done).await
        {
            tracing::error!(jobs = done.len(), error = %err.detail(), "cannot record done jobs");
        }
        done.clear();
        for answer in flushes.drain(..) {
            let _ = answer.send(());
        }
    }
}

/// Every half lease, returns the jobs of dead workers to their queues (and wakes
/// them).
async fn rescue(shared: Arc<Shared>) {
    let every = shared.state.config.jobs.lease() / 2;
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = shared.stop.cancelled() => return,
        }
        match queue::rescue_expired(&shared.state.queue_db).await {
            Ok(queues) => {
                for queue in queues {
                    tracing::warn!(
                        queue = queue.as_str(),
                        "jobs of a lost worker are back in the queue"
                    );
                    shared.state.job_signals.wake(queue);
                }
            }
            Err(err) => tracing::warn!(error = %err.detail(), "cannot rescue jobs of lost workers"),
        }
    }
}

/// Wakes this process's workers when another process enqueues a job (PostgreSQL).
async fn listen(shared: Arc<Shared>) {
    let pool = shared.state.queue_db.get_postgres_connection_pool().clone();
    let signals = &shared.state.job_signals;
    loop {
        let listener = async {
            let mut listener = sea_orm::sqlx::postgres::PgListener::connect_with(&pool).await?;
            listener.listen(signals::CHANNEL).await?;
            loop {
                let notification = listener.recv().await?;
                if let Some(queue) = Queue::parse(notification.payload()) {
                    signals.wake(queue);
                }
            }
            #[allow(unreachable_code)]
            Ok::<(), sea_orm::sqlx::Error>(())
        };
        tokio::select! {
            result = listener => {
                if let Err(err) = result {
                    tracing::warn!(error = %err, "job notifications interrupted; listening again");
                }
            }
            () = shared.stop.cancelled() => return,
        }
        // Notifications may have been missed meanwhile: every queue looks once.
        wake_all(signals);
        tokio::select! {
            () = tokio::time::sleep(Duration::from_secs(1)) => {}
            () = shared.stop.cancelled() => return,
        }
    }
}

fn wake_all(signals: &JobSignals) {
    for queue in Queue::ALL {
        signals.wake(queue);
    }
}

/// Runs one claimed job and records how it went; returns early (recording nothing)
/// when `interrupt` fires, for the shutdown to hand the job back.
async fn run_one(
    state: &AppState,
    worker_id: &str,
    row: job::Model,
    interrupt: &CancellationToken,
    recorder: Recorder<'_>,
) {
    let context = JobContext {
        id: row.id.clone(),
        attempt: row.attempt,
        worker_id: worker_id.to_owned(),
        progress: row
            .progress
            .as_deref()
            .and_then(|progress| serde_json::from_str(progress).ok()),
    };
    let outcome = if row.attempt > row.max_attempts {
        Err(format!(
            "attempt {} of {}: the worker running the job stopped before it finished",
            row.attempt - 1,
            row.max_attempts
        ))
    } else {
        let timeout = Duration::from_millis(u64::try_from(row.timeout_ms).unwrap_or_default());
        let attempt = attempt(state, &context, &row, timeout);
        tokio::select! {
            outcome = attempt => outcome,
            () = keep_lease(state, &context) => {
                tracing::warn!(job = %row.id, "job lease lost to another worker");
                return;
            }
            () = interrupt.cancelled() => return,
        }
    };
    let recorded = match (&outcome, recorder) {
        (Ok(()), Recorder::Batched(completions)) => {
            match completions.send(Completion::Done(row.id.clone())) {
                Ok(()) => Ok(()),
                // The recorder is gone (never while the pool runs): record it here.
                Err(_) => queue::complete(&state.queue_db, &context).await,
            }
        }
        (Ok(()), Recorder::Each) => queue::complete(&state.queue_db, &context).await,
        (Err(error), _) => {
            tracing::warn!(job = %row.id, kind = %row.kind, attempt = row.attempt, %error, "job failed");
            let base = Duration::from_millis(state.config.jobs.job_retry_base_ms);
            queue::fail(&state.queue_db, &context, &row, error, base).await
        }
    };
    if let Err(err) = recorded {
        tracing::error!(job = %row.id, error = %err.detail(), "cannot record a job's outcome");
    }
}

/// One attempt of a job, bounded by its timeout; a panic is a failure.
async fn attempt(
    state: &AppState,
    context: &JobContext,
    row: &job::Model,
    timeout: Duration,
) -> Result<(), String> {
    let job = Job::from_stored(&row.kind, &row.args).map_err(|err| err.detail())?;
    let work = AssertUnwindSafe(handlers::run(state, context, job)).catch_unwind();
    match tokio::time::timeout(timeout, work).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(err))) => Err(err.detail()),
        Ok(Err(panic)) => Err(format!(
            "the handler panicked: {}",
            panic
                .downcast_ref::<&str>()
                .map(ToString::to_string)
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default()
        )),
        Err(_) => Err(format!("timed out after {} ms", timeout.as_millis())),
    }
}

/// Renews the job's lease every third of it; returns only when the lease is lost.
async fn keep_lease(state: &AppState, context: &JobContext) {
    let lease = state.config.jobs.lease();
    loop {
        tokio::time::sleep(lease / 3).await;
        match queue::renew(&state.queue_db, context, lease).await {
            Ok(true) => {}
            Ok(false) => return,
            Err(err) => {
                tracing::warn!(job = %context.id, error = %err.detail(), "cannot renew a job's lease")
            }
        }
    }
}

/// Runs every due job of every queue here and now, one at a time, until none is
/// due; returns how many ran. For tests, and for one-off runs (`sparkle worker
/// --drain`).
pub async fn drain(state: &AppState) -> AppResult<u64> {
    let worker_id = format!("drain-{}", &new_id()[24..]);
    let lease = state.config.jobs.lease();
    let never = CancellationToken::new();
    let mut ran = 0;
    queue::rescue_expired(&state.queue_db).await?;
    loop {
        let mut ran_now = 0;
        for queue in Queue::ALL {
            for row in queue::claim(&state.queue_db, queue, &worker_id, 16, lease).await? {
                run_one(state, &worker_id, row, &never, Recorder::Each).await;
                ran_now += 1;
            }
        }
        if ran_now == 0 {
            return Ok(ran);
        }
        ran += ran_now;
    }
}
