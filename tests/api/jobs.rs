//! Background work: the effects seam, the durable queue (transactional enqueue,
//! claims shared by processes, leases, retries, dead jobs, unique keys, delays,
//! timeouts, retention), graceful shutdown, schedules, maintenance handlers and the
//! administrators' view — on SQLite, and on PostgreSQL when `TEST_DATABASE_URL` is set.

use std::{
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use chrono::{TimeDelta, Utc};
use entity::{job, login_throttle, notification, refresh_token, schedule_firing};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, PaginatorTrait,
    QueryFilter,
};
use serde_json::{Value, json};
use sparkle_universe::{
    domain::{effects::Write, notification_copy::Happening, notifications::NewNotification},
    jobs::{self, Job, NewJob, WorkerPool, schedules},
    realtime::Event,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Session, TestApp, free_port};

/// How long a test waits for background work before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// A probe job: waits `sleep_ms`, fails its first `fail_attempts` attempts.
fn probe(sleep_ms: u64, fail_attempts: u32) -> Job {
    Job::Probe {
        sleep_ms,
        fail_attempts,
    }
}

/// Enqueues `jobs` in one transaction and returns their ids.
async fn enqueue_all(app: &TestApp, jobs: impl IntoIterator<Item = NewJob>) -> Vec<String> {
    let mut write = Write::begin(&app.state).await.expect("begin");
    let mut ids = Vec::new();
    for job in jobs {
        ids.push(
            write
                .enqueue(job)
                .await
                .expect("enqueue")
                .expect("enqueued"),
        );
    }
    write.commit().await.expect("commit");
    ids
}

async fn job_row(app: &TestApp, id: &str) -> job::Model {
    job::Entity::find_by_id(id)
        .one(&app.state.db)
        .await
        .expect("read job")
        .expect("job exists")
}

async fn job_count(app: &TestApp) -> u64 {
    job::Entity::find()
        .count(&app.state.db)
        .await
        .expect("count jobs")
}

/// Waits until `done(app)` holds, or fails after [`PATIENCE`].
async fn wait_until<F: AsyncFn(&TestApp) -> bool>(app: &TestApp, what: &str, done: F) {
    let deadline = Instant::now() + PATIENCE;
    while !done(app).await {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Makes the transaction of `write` fail at its commit (a constraint checked only
/// then), after everything else in it succeeded.
async fn fail_at_commit(write: &Write<'_>) {
    let db = write.db();
    let statements: &[&str] = match db.get_database_backend() {
        DbBackend::Postgres => &[
            "CREATE TEMPORARY TABLE commit_guard (id INT UNIQUE DEFERRABLE INITIALLY DEFERRED) ON COMMIT DROP",
            "INSERT INTO commit_guard VALUES (1), (1)",
        ],
        _ => &[
            "PRAGMA defer_foreign_keys = ON",
            "INSERT INTO follows (follower_id, following_id, created_at) VALUES ('nobody', 'nobody-else', '2026-01-01T00:00:00Z')",
        ],
    };
    for statement in statements {
        db.execute_unprepared(statement).await.expect(statement);
    }
}

#[tokio::test]
async fn a_write_dispatches_its_notifications_events_and_jobs_only_when_it_commits() {
    let app = TestApp::new().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let welcome_mails = job_count(&app).await;
    let mut events = app.state.events.subscribe();
    let happening = Happening::Followed { follower: "bob" };
    let stage = async |write: &mut Write<'_>| {
        let note = NewNotification::about(
            &happening,
            &alice.user_id,
            Some(&bob.user_id),
            json!({ "userId": bob.user_id }),
        );
        assert!(write.notify(note).await.expect("notify"));
        write.publish(Event::ReactionsChanged {
            post_id: "p1".to_owned(),
        });
        write.enqueue(probe(0, 0)).await.expect("enqueue");
    };

    // A commit that fails: nothing stored, nothing heard.
    let mut failing = Write::begin(&app.state).await.expect("begin");
    stage(&mut failing).await;
    fail_at_commit(&failing).await;
    assert!(failing.commit().await.is_err(), "the commit must fail");
    // A write abandoned on an error (dropped): the same.
    let mut abandoned = Write::begin(&app.state).await.expect("begin");
    stage(&mut abandoned).await;
    drop(abandoned);
    assert_eq!(
        job_count(&app).await,
        welcome_mails,
        "no job for a rolled-back write"
    );
    let notes = notification::Entity::find()
        .filter(notification::Column::UserId.eq(&alice.user_id))
        .count(&app.state.db)
        .await
        .expect("count");
    assert_eq!(notes, 0, "no notification for a rolled-back write");
    assert!(events.try_recv().is_err(), "nothing published");

    // The same write committed: everything, once.
    let mut committed = Write::begin(&app.state).await.expect("begin");
    stage(&mut committed).await;
    committed.commit().await.expect("commit");
    assert_eq!(
        job_count(&app).await,
        welcome_mails + 2,
        "the probe, and the mail about the notification"
    );
    let mut heard = Vec::new();
    while let Ok(event) = events.try_recv() {
        heard.push(event);
    }
    assert_eq!(heard.len(), 2, "{heard:?}");
    assert!(
        matches!(&*heard[0], Event::NotificationAdded { notification } if notification.user_id == alice.user_id && notification.message == "bob started following you")
    );
    assert_eq!(
        *heard[1],
        Event::ReactionsChanged {
            post_id: "p1".to_owned()
        }
    );
}

#[tokio::test]
async fn unique_keys_delays_timeouts_and_retention() {
    let app = TestApp::new().await;
    // Unique: the second job with a key is not enqueued while the first exists.
    let first = NewJob::from(probe(0, 0)).unique("digest:week-49");
    enqueue_all(&app, [first.clone()]).await;
    let mut write = Write::begin(&app.state).await.expect("begin");
    assert_eq!(write.enqueue(first).await.expect("enqueue"), None);
    write.commit().await.expect("commit");
    assert_eq!(job_count(&app).await, 1);
    assert_eq!(app.run_jobs().await, 1);

    // Delayed: not before its time.
    let delayed = enqueue_all(
        &app,
        [NewJob::from(probe(0, 0)).at(Utc::now() + TimeDelta::milliseconds(400))],
    )
    .await;
    assert_eq!(app.run_jobs().await, 0, "not due yet");
    assert_eq!(job_row(&app, &delayed[0]).await.state, "available");
    tokio::time::sleep(Duration::from_millis(450)).await;
    assert_eq!(app.run_jobs().await, 1);
    assert_eq!(job_row(&app, &delayed[0]).await.state, "done");

    // Timeout: an attempt that runs too long fails and is retried later.
    let slow = enqueue_all(
        &app,
        [NewJob {
            timeout: Some(Duration::from_millis(100)),
            ..NewJob::from(probe(5_000, 0))
        }],
    )
    .await;
    let started = Instant::now();
    assert_eq!(app.run_jobs().await, 1);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "the timeout cut it short"
    );
    let slow = job_row(&app, &slow[0]).await;
    assert_eq!((slow.state.as_str(), slow.attempt), ("available", 1));
    assert_eq!(slow.last_error.as_deref(), Some("timed out after 100 ms"));
    assert!(slow.run_at > Utc::now(), "retried after a backoff");

    // Retention: done jobs after JOB_RETENTION_HOURS, dead ones after theirs.
    let [old_done, recent_done, old_dead, recent_dead] =
        ["done", "done", "dead", "dead"].map(|_| NewJob::from(probe(0, 0)));
    let ids = enqueue_all(&app, [old_done, recent_done, old_dead, recent_dead]).await;
    for (id, state, days_ago) in [
        (&ids[0], "done", 8),
        (&ids[1], "done", 1),
        (&ids[2], "dead", 31),
        (&ids[3], "dead", 8),
    ] {
        job::Entity::update_many()
            .col_expr(job::Column::State, state.into())
            .col_expr(
                job::Column::FinishedAt,
                Some(Utc::now() - TimeDelta::days(days_ago)).into(),
            )
            .filter(job::Column::Id.eq(id.as_str()))
            .exec(&app.state.writer)
            .await
            .expect("age the job");
    }
    let purge = enqueue_all(&app, [NewJob::from(Job::PurgeFinishedJobs)]).await;
    assert_eq!(app.run_jobs().await, 1);
    let left: Vec<String> = job::Entity::find()
        .all(&app.state.db)
        .await
        .expect("jobs")
        .into_iter()
        .map(|row| row.id)
        .collect();
    for gone in [&ids[0], &ids[2]] {
        assert!(!left.contains(gone), "{gone} should be purged");
    }
    for kept in [&ids[1], &ids[3], &purge[0], &slow.id] {
        assert!(left.contains(kept), "{kept} should be kept");
    }
}

/// The counts of `queue` in the data of `GET /api/admin/jobs`.
fn queue_stats(stats: &Value, queue: &str) -> Value {
    stats["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .find(|entry| entry["queue"] == queue)
        .unwrap_or_else(|| panic!("no {queue} queue in {stats}"))
        .clone()
}

#[tokio::test]
async fn the_status_counts_each_state_and_the_oldest_wait() {
    let app = TestApp::new().await;
    let admin = app.register("admin").await;
    app.set_role(&admin.user_id, "ADMIN").await;
    app.run_jobs().await; // the welcome mail
    let now = Utc::now();
    enqueue_all(
        &app,
        [
            NewJob::from(probe(0, 1)),
            NewJob::from(Job::PurgeExpiredSessions).at(now - TimeDelta::seconds(30)),
            NewJob::from(Job::PurgeReadNotifications).at(now - TimeDelta::seconds(5)),
            NewJob::from(Job::PurgeFinishedJobs).at(now + TimeDelta::hours(1)),
        ],
    )
    .await;
    // The oldest due job is claimed (and left running); the probe fails once and
    // waits to be retried; the other due purge runs; one purge is for later.
    let first = jobs::queue::claim(
        &app.state.writer,
        jobs::Queue::Maintenance,
        "status-test",
        1,
        Duration::from_secs(30),
    )
    .await
    .expect("claim");
    assert_eq!(first.len(), 1);
    assert_eq!(app.run_jobs().await, 2, "the probe and a purge ran");
    let stats = app.get("/api/admin/jobs", Some(&admin.token)).await;
    let stats = stats.data(200);
    let maintenance = &queue_stats(stats, "maintenance");
    for (state, count) in [
        ("running", 1),
        ("retrying", 1),
        ("scheduled", 1),
        ("doneLast24h", 1),
        ("pending", 0),
        ("dead", 0),
    ] {
        assert_eq!(maintenance[state], count, "{state}: {stats}");
    }
    assert_eq!(stats["latestFailures"][0]["kind"], "probe", "{stats}");
    let schedules = stats["schedules"].as_array().expect("schedules");
    assert_eq!(schedules.len(), 5, "{stats}");
    assert!(
        schedules
            .iter()
            .all(|schedule| schedule["nextFireAt"].is_string())
    );

    // A pending job's wait is reported.
    enqueue_all(
        &app,
        [NewJob::from(Job::PurgeExpiredSessions).at(now - TimeDelta::seconds(30))],
    )
    .await;
    let stats = app.get("/api/admin/jobs", Some(&admin.token)).await;
    let maintenance = queue_stats(stats.data(200), "maintenance");
    assert_eq!(maintenance["pending"], 1, "{maintenance}");
    let waited = maintenance["oldestPendingSecs"].as_f64().expect("seconds");
    assert!((29.0..120.0).contains(&waited), "{maintenance}");
}

/// Runs due jobs until `id` is dead or done, waiting out its backoffs.
async fn run_until_finished(app: &TestApp, id: &str) -> job::Model {
    let deadline = Instant::now() + PATIENCE;
    loop {
        app.run_jobs().await;
        let row = job_row(app, id).await;
        if row.state == "dead" || row.state == "done" {
            return row;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} never finished: {row:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn failing_jobs_back_off_then_die_and_admins_retry_or_discard_them() {
    let app = TestApp::with_config(|config| config.jobs.job_retry_base_ms = 40).await;
    let admin = app.register("admin").await;
    app.set_role(&admin.user_id, "ADMIN").await;
    let member = app.register("member").await;
    let ids = enqueue_all(
        &app,
        [NewJob::from(probe(0, 3)), NewJob::from(probe(0, 10))],
    )
    .await;
    let dead = run_until_finished(&app, &ids[0]).await;
    assert_eq!((dead.state.as_str(), dead.attempt), ("dead", 3));
    assert_eq!(
        dead.last_error.as_deref(),
        Some("probe fails attempt 3 of its first 3")
    );
    let errors: Vec<Value> = serde_json::from_str(&dead.errors).expect("errors");
    assert_eq!(errors.len(), 3, "every attempt recorded: {errors:?}");
    let delay = |error: &Value| {
        let at = chrono::DateTime::parse_from_rfc3339(error["at"].as_str()?).ok()?;
        let retry = chrono::DateTime::parse_from_rfc3339(error["retryAt"].as_str()?).ok()?;
        Some((retry - at).num_milliseconds())
    };
    let (first, second) = (
        delay(&errors[0]).expect("a retry"),
        delay(&errors[1]).expect("a retry"),
    );
    assert!(
        (36..=44).contains(&first),
        "base delay with jitter: {first} ms"
    );
    assert!((72..=88).contains(&second), "doubled: {second} ms");
    assert!(
        errors[2]["retryAt"].is_null(),
        "no retry after the last attempt"
    );
    let other = run_until_finished(&app, &ids[1]).await;
    assert_eq!(other.state, "dead");

    // The administrators' view, in REST and GraphQL alike.
    app.get("/api/admin/jobs", Some(&member.token))
        .await
        .assert_error(403, "FORBIDDEN");
    app.get("/api/admin/jobs", None)
        .await
        .assert_error(401, "UNAUTHORIZED");
    let stats = app.get("/api/admin/jobs", Some(&admin.token)).await;
    let stats = stats.data(200).clone();
    let maintenance = queue_stats(&stats, "maintenance");
    assert_eq!(maintenance["dead"], 2, "{stats}");
    assert_eq!(maintenance["pending"], 0, "{stats}");
    let failure = stats["latestFailures"]
        .as_array()
        .expect("failures")
        .iter()
        .find(|failure| failure["id"] == ids[0].as_str())
        .expect("the dead job is listed")
        .clone();
    assert_eq!(failure["state"], "DEAD");
    assert_eq!(failure["errors"].as_array().map(Vec::len), Some(3));
    let graphql = app
        .graphql(
            "{ jobStats { queues { queue dead pending } latestFailures { id state lastError } } }",
            json!({}),
            Some(&admin.token),
        )
        .await;
    let graphql_maintenance = graphql.body["data"]["jobStats"]["queues"]
        .as_array()
        .expect("queues")
        .iter()
        .find(|queue| queue["queue"] == "MAINTENANCE")
        .expect("the maintenance queue")
        .clone();
    assert_eq!(graphql_maintenance["dead"], 2, "{}", graphql.body);
    let refused = app
        .graphql(
            "{ jobStats { queues { dead } } }",
            json!({}),
            Some(&member.token),
        )
        .await;
    assert_eq!(refused.body["errors"][0]["extensions"]["code"], "FORBIDDEN");

    // Metrics carry the same counts.
    let metrics = app.get("/metrics", None).await;
    let text = metrics.body.as_str().expect("text");
    assert!(
        text.contains(r#"sparkle_jobs{queue="maintenance",state="dead"} 2"#),
        "{text}"
    );

    // Retry runs it again (with one more attempt); discard removes the other.
    app.post(
        &format!("/api/admin/jobs/{}/retry", ids[0]),
        Some(&member.token),
        json!({}),
    )
    .await
    .assert_error(403, "FORBIDDEN");
    let retried = app
        .post(
            &format!("/api/admin/jobs/{}/retry", ids[0]),
            Some(&admin.token),
            json!({}),
        )
        .await;
    assert_eq!(retried.data(200)["maxAttempts"], 4);
    let done = run_until_finished(&app, &ids[0]).await;
    assert_eq!((done.state.as_str(), done.attempt), ("done", 4));
    app.call(
        axum::http::Method::DELETE,
        &format!("/api/admin/jobs/{}", ids[0]),
        Some(&admin.token),
        None,
    )
    .await
    .assert_error(409, "CONFLICT");
    let discarded = app
        .graphql(
            "mutation($id: ID!) { discardJob(id: $id) }",
            json!({ "id": ids[1] }),
            Some(&admin.token),
        )
        .await;
    assert_eq!(
        discarded.body["data"]["discardJob"],
        ids[1].as_str(),
        "{}",
        discarded.body
    );
    assert!(
        job::Entity::find_by_id(ids[1].as_str())
            .one(&app.state.db)
            .await
            .expect("read")
            .is_none()
    );
    app.post(
        "/api/admin/jobs/no-such-job/retry",
        Some(&admin.token),
        json!({}),
    )
    .await
    .assert_error(404, "NOT_FOUND");
}

#[tokio::test]
async fn shutdown_lets_running_jobs_finish_within_a_bound_and_hands_back_the_rest() {
    let app = TestApp::with_file_database_and_config(|config| {
        config.jobs.worker_concurrency = 4;
        config.jobs.job_poll_interval_ms = 50;
    })
    .await;
    // Three jobs finish within the grace period; one cannot.
    let ids = enqueue_all(
        &app,
        [300, 300, 300, 4_000].map(|sleep_ms| NewJob::from(probe(sleep_ms, 0))),
    )
    .await;
    let pool = WorkerPool::start(&app.state);
    wait_until(&app, "all four run", async |app| {
        job::Entity::find()
            .filter(job::Column::State.eq("running"))
            .count(&app.state.db)
            .await
            .expect("count")
            == 4
    })
    .await;
    let started = Instant::now();
    let report = pool
        .shutdown(Duration::from_secs(1))
        .await
        .expect("shutdown");
    assert!(started.elapsed() < Duration::from_secs(3), "bounded");
    assert!(!report.finished_in_time);
    assert_eq!(report.handed_back, 1);
    for id in &ids[..3] {
        let row = job_row(&app, id).await;
        assert_eq!((row.state.as_str(), row.attempt), ("done", 1));
    }
    let handed_back = job_row(&app, &ids[3]).await;
    assert_eq!(
        (
            handed_back.state.as_str(),
            handed_back.attempt,
            handed_back.locked_by
        ),
        ("available", 0, None),
        "back in the queue, the interrupted attempt not counted"
    );

    // The next worker runs it, once; and a shutdown with nothing running is quick.
    let pool = WorkerPool::start(&app.state);
    wait_until(&app, "the handed-back job is done", async |app| {
        job_row(app, &ids[3]).await.state == "done"
    })
    .await;
    let report = pool
        .shutdown(Duration::from_secs(1))
        .await
        .expect("shutdown");
    assert!(report.finished_in_time);
    assert_eq!(report.handed_back, 0);
    assert_eq!(job_row(&app, &ids[3]).await.attempt, 1);
}

#[tokio::test]
async fn a_schedule_fires_once_across_instances_and_a_missed_firing_runs_once() {
    let app = TestApp::with_file_database().await;
    let twin = app.twin().await;
    let every_minute = schedules::Schedule::new(
        "probe_every_minute",
        "0 * * * * *".parse().expect("cron"),
        |_| Job::PurgeFinishedJobs,
    );
    let start = Utc::now();
    let first = schedules::fire_if_due(&app.state, &every_minute, start)
        .await
        .expect("look");
    assert!(
        matches!(first, schedules::Firing::Baseline { .. }),
        "a new schedule only records where it starts: {first:?}"
    );
    assert_eq!(job_count(&app).await, 0);

    // Both instances look three minutes later: one fires.
    let later = start + TimeDelta::minutes(3);
    let (one, other) = tokio::join!(
        schedules::fire_if_due(&app.state, &every_minute, later),
        schedules::fire_if_due(&twin, &every_minute, later),
    );
    let outcomes = [one.expect("look"), other.expect("look")];
    let fired = outcomes
        .iter()
        .filter(|outcome| matches!(outcome, schedules::Firing::Fired { .. }))
        .count();
    assert_eq!(fired, 1, "{outcomes:?}");
    assert_eq!(job_count(&app).await, 1);

    // Everyone was down for ten minutes: the latest missed firing runs once.
    let much_later = later + TimeDelta::minutes(10);
    for state in [&app.state, &twin, &app.state] {
        schedules::fire_if_due(state, &every_minute, much_later)
            .await
            .expect("look");
    }
    assert_eq!(job_count(&app).await, 2);
    let firings = schedule_firing::Entity::find()
        .filter(schedule_firing::Column::Schedule.eq("probe_every_minute"))
        .count(&app.state.db)
        .await
        .expect("count");
    assert_eq!(firings, 3, "baseline and two firings");
}

#[tokio::test]
async fn maintenance_jobs_purge_expired_sessions_lockouts_and_read_notifications() {
    let app = TestApp::new().await;
    let alice: Session = app.register("alice").await;
    let now = Utc::now();
    let token = |id: &str, expires_in: TimeDelta| refresh_token::ActiveModel {
        id: Set(id.to_owned()),
        user_id: Set(alice.user_id.clone()),
        family_id: Set(id.to_owned()),
        token_hash: Set(format!("hash-{id}")),
        expires_at: Set(now + expires_in),
        created_at: Set(now - TimeDelta::days(40)),
        used_at: Set(None),
        revoked_at: Set(None),
    };
    refresh_token::Entity::insert_many([
        token("expired", -TimeDelta::days(1)),
        token("valid", TimeDelta::days(1)),
    ])
    .exec(&app.state.writer)
    .await
    .expect("tokens");
    let throttle = |email: &str, locked_until: Option<TimeDelta>, updated: TimeDelta| {
        login_throttle::ActiveModel {
            email_lower: Set(email.to_owned()),
            failed_attempts: Set(2),
            locked_until: Set(locked_until.map(|delta| now + delta)),
            updated_at: Set(now - updated),
        }
    };
    login_throttle::Entity::insert_many([
        throttle(
            "ended@example.com",
            Some(-TimeDelta::minutes(1)),
            TimeDelta::minutes(20),
        ),
        throttle(
            "locked@example.com",
            Some(TimeDelta::minutes(10)),
            TimeDelta::minutes(5),
        ),
        throttle("stale@example.com", None, TimeDelta::days(2)),
        throttle("recent@example.com", None, TimeDelta::minutes(5)),
    ])
    .exec(&app.state.writer)
    .await
    .expect("throttles");
    let bob = app.register("bob").await;
    app.run_jobs().await; // the welcome mail
    let read_long_ago = notification::ActiveModel {
        id: Set(uuid::Uuid::now_v7().to_string()),
        user_id: Set(bob.user_id.clone()),
        notification_type: Set("USER_FOLLOWED".to_owned()),
        title: Set("t".to_owned()),
        message: Set("m".to_owned()),
        actor_id: Set(None),
        data: Set("{}".to_owned()),
        dedupe_key: Set(None),
        read: Set(true),
        read_at: Set(Some(now - TimeDelta::days(8))),
        created_at: Set(now - TimeDelta::days(9)),
        feed_position: Set(1),
        emailed_at: Set(None),
    };
    notification::Entity::insert(read_long_ago)
        .exec(&app.state.writer)
        .await
        .expect("notification");

    enqueue_all(
        &app,
        [Job::PurgeExpiredSessions, Job::PurgeReadNotifications].map(NewJob::from),
    )
    .await;
    assert_eq!(app.run_jobs().await, 2);
    let tokens: Vec<String> = refresh_token::Entity::find()
        .filter(refresh_token::Column::Id.is_in(["expired", "valid"]))
        .all(&app.state.db)
        .await
        .expect("tokens")
        .into_iter()
        .map(|row| row.id)
        .collect();
    assert_eq!(tokens, ["valid"]);
    let mut throttles: Vec<String> = login_throttle::Entity::find()
        .all(&app.state.db)
        .await
        .expect("throttles")
        .into_iter()
        .map(|row| row.email_lower)
        .collect();
    throttles.sort();
    assert_eq!(throttles, ["locked@example.com", "recent@example.com"]);
    let notes = notification::Entity::find()
        .filter(notification::Column::UserId.eq(&bob.user_id))
        .count(&app.state.db)
        .await
        .expect("count");
    assert_eq!(notes, 0);
}

/// A `sparkle` process over the test's database, killed (SIGKILL) when dropped.
struct Process {
    child: Child,
    port: u16,
    data_dir: std::path::PathBuf,
}

impl Process {
    /// Starts `sparkle <command>` with `env` over `app`'s database.
    fn start(app: &TestApp, command: &str, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let data_dir =
            std::env::temp_dir().join(format!("sparkle-jobs-{}", uuid::Uuid::new_v4().simple()));
        let mut process = Command::new(env!("CARGO_BIN_EXE_sparkle"));
        process
            .arg(command)
            .env_remove("REDIS_URL")
            .env("DATABASE_URL", &app.database_url)
            .env(
                "JWT_SECRET",
                app.state
                    .config
                    .auth
                    .jwt_secret
                    .as_ref()
                    .expect("a test secret")
                    .expose(),
            )
            .env("PORT", port.to_string())
            .env("DATA_DIR", &data_dir)
            .env("RUST_LOG", "warn")
            .env("JOB_POLL_INTERVAL_MS", "100")
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (name, value) in env {
            process.env(name, value);
        }
        Self {
            child: process.spawn().expect("sparkle starts"),
            port,
            data_dir,
        }
    }

    /// Kills the process at once, as `kill -9` does.
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// A JSON POST to the process's server; the status and the parsed body.
    async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let body = body.to_string();
        let request = format!(
            "POST {path} HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await {
                stream.write_all(request.as_bytes()).await.expect("write");
                let mut answer = String::new();
                stream.read_to_string(&mut answer).await.expect("read");
                let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
                let status = head
                    .split(' ')
                    .nth(1)
                    .and_then(|status| status.parse().ok())
                    .expect("a status");
                return (status, serde_json::from_str(body).unwrap_or(Value::Null));
            }
            assert!(Instant::now() < deadline, "the server never listened");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

#[tokio::test]
async fn a_committed_job_survives_a_killed_server_and_runs_once() {
    let app = TestApp::with_file_database().await;
    let admin = app.register("admin").await;
    app.set_role(&admin.user_id, "ADMIN").await;
    let mut fans = Vec::new();
    for index in 0..3 {
        fans.push(app.register(&format!("fan_{index}")).await);
    }
    // A server without workers takes the broadcast, commits it, and dies.
    let mut server = Process::start(&app, "serve", &[("WORKER_CONCURRENCY", "0")]);
    let (status, body) = server
        .post(
            "/api/admin/notifications",
            &admin.token,
            &json!({ "title": "Hello", "message": "Everyone" }),
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let job_id = body["data"]["jobId"].as_str().expect("job id").to_owned();
    server.kill();
    assert_eq!(job_row(&app, &job_id).await.state, "available");

    // Started again (with workers), it delivers the broadcast once.
    let _server = Process::start(&app, "serve", &[]);
    wait_until(&app, "the broadcast is delivered", async |app| {
        job_row(app, &job_id).await.state == "done"
    })
    .await;
    assert_eq!(job_row(&app, &job_id).await.attempt, 1);
    for fan in &fans {
        let notes = notification::Entity::find()
            .filter(notification::Column::UserId.eq(&fan.user_id))
            .filter(notification::Column::NotificationType.eq("SYSTEM"))
            .count(&app.state.db)
            .await
            .expect("count");
        assert_eq!(notes, 1, "one notice for {}", fan.user_id);
    }
}

#[tokio::test]
async fn two_worker_processes_share_two_thousand_jobs_and_run_each_once() {
    let app = TestApp::with_file_database().await;
    // 2 ms each: long enough that neither process can finish them all alone before
    // the other has started.
    let ids = enqueue_all(&app, (0..2_000).map(|_| NewJob::from(probe(2, 0)))).await;
    let workers = [
        Process::start(&app, "worker", &[("WORKER_CONCURRENCY", "4")]),
        Process::start(&app, "worker", &[("WORKER_CONCURRENCY", "4")]),
    ];
    wait_until(&app, "every job is done", async |app| {
        job::Entity::find()
            .filter(job::Column::State.eq("done"))
            .count(&app.state.db)
            .await
            .expect("count")
            == 2_000
    })
    .await;
    drop(workers);
    let rows = job::Entity::find()
        .filter(job::Column::Id.is_in(ids))
        .all(&app.state.db)
        .await
        .expect("jobs");
    assert_eq!(rows.len(), 2_000);
    assert!(
        rows.iter().all(|row| row.attempt == 1),
        "every job claimed exactly once"
    );
    let mut runners: Vec<&str> = rows
        .iter()
        .filter_map(|row| row.locked_by.as_deref())
        .collect();
    runners.sort_unstable();
    runners.dedup();
    assert_eq!(runners.len(), 2, "both workers ran jobs: {runners:?}");
}

#[tokio::test]
async fn a_job_whose_worker_was_killed_is_claimed_again_after_its_lease_and_completes_once() {
    let app = TestApp::with_file_database().await;
    let ids = enqueue_all(&app, [NewJob::from(probe(1_500, 0))]).await;
    let lease = [("JOB_LEASE_SECS", "1"), ("WORKER_CONCURRENCY", "1")];
    let mut first = Process::start(&app, "worker", &lease);
    wait_until(&app, "the first worker runs the job", async |app| {
        job_row(app, &ids[0]).await.state == "running"
    })
    .await;
    let first_worker = job_row(&app, &ids[0]).await.locked_by;
    first.kill();
    let _second = Process::start(&app, "worker", &lease);
    wait_until(&app, "the job is done", async |app| {
        job_row(app, &ids[0]).await.state == "done"
    })
    .await;
    let row = job_row(&app, &ids[0]).await;
    assert_eq!(row.attempt, 2, "claimed again once");
    assert_ne!(row.locked_by, first_worker, "by the second worker");
    assert_eq!(row.errors, "[]", "the lost attempt is no failure");
}

/// Enqueues a no-op job and asserts that an idle worker, whose poll interval is a
/// minute, ran it within seconds: `waker` woke it.
async fn assert_an_enqueue_wakes_a_worker(app: &TestApp, waker: &str) {
    let started = Instant::now();
    let ids = enqueue_all(app, [NewJob::from(probe(0, 0))]).await;
    wait_until(app, "the job is done", async |app| {
        job_row(app, &ids[0]).await.state == "done"
    })
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "woken by {waker}, not by the minute-long poll"
    );
}

#[tokio::test]
async fn idle_workers_wake_when_a_job_is_enqueued_not_at_the_next_poll() {
    let app = TestApp::with_file_database_and_config(|config| {
        config.jobs.job_poll_interval_ms = 60_000;
    })
    .await;
    let pool = WorkerPool::start(&app.state);
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_an_enqueue_wakes_a_worker(&app, "the enqueue's signal").await;
    pool.shutdown(Duration::from_secs(1))
        .await
        .expect("shutdown");
}

#[tokio::test]
async fn sigterm_stops_a_worker_within_its_grace_and_hands_back_what_still_runs() {
    let app = TestApp::with_file_database().await;
    let ids = enqueue_all(&app, [NewJob::from(probe(20_000, 0))]).await;
    let mut worker = Process::start(
        &app,
        "worker",
        &[
            ("JOB_SHUTDOWN_GRACE_SECS", "1"),
            ("WORKER_CONCURRENCY", "1"),
        ],
    );
    wait_until(&app, "the worker runs the job", async |app| {
        job_row(app, &ids[0]).await.state == "running"
    })
    .await;
    let signalled = Instant::now();
    let sent = Command::new("kill")
        .args(["-TERM", &worker.child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(sent.success());
    let status = loop {
        if let Some(status) = worker.child.try_wait().expect("wait") {
            break status;
        }
        assert!(
            signalled.elapsed() < Duration::from_secs(10),
            "the worker did not stop within its grace"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "a clean exit: {status}");
    let row = job_row(&app, &ids[0]).await;
    assert_eq!(
        (row.state.as_str(), row.attempt, row.locked_by),
        ("available", 0, None),
        "handed back, ready for the next worker"
    );
}

#[tokio::test]
#[ignore = "needs PostgreSQL (TEST_DATABASE_URL): only there do other processes' enqueues wake a worker"]
async fn a_worker_process_wakes_on_another_process_enqueue() {
    if !std::env::var("TEST_DATABASE_URL").is_ok_and(|url| url.starts_with("postgres")) {
        eprintln!("skipped: TEST_DATABASE_URL is not a PostgreSQL URL");
        return;
    }
    let app = TestApp::new().await;
    let _worker = Process::start(&app, "worker", &[("JOB_POLL_INTERVAL_MS", "60000")]);
    // The worker's scheduler records its baselines once it runs.
    wait_until(&app, "the worker is up", async |app| {
        schedule_firing::Entity::find()
            .count(&app.state.db)
            .await
            .expect("count")
            > 0
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_an_enqueue_wakes_a_worker(&app, "NOTIFY").await;
}

#[tokio::test]
async fn an_interrupted_broadcast_resumes_after_its_checkpoint_and_notifies_nobody_twice() {
    // The mail about the notice waits for its window: only the delivery job runs.
    let app = TestApp::with_config(|config| config.mail.mail_coalesce_secs = 3600).await;
    let admin = app.register("admin").await;
    let mut fans = Vec::new();
    for index in 0..4 {
        fans.push(app.register(&format!("fan_{index}")).await);
    }
    app.run_jobs().await; // the welcome mails
    let mut recipients: Vec<String> = fans.iter().map(|fan| fan.user_id.clone()).collect();
    recipients.sort();
    let ids = enqueue_all(
        &app,
        [NewJob::from(Job::BroadcastSystemNotice {
            actor_id: admin.user_id.clone(),
            title: "Hello".to_owned(),
            message: "Everyone".to_owned(),
        })],
    )
    .await;
    // An earlier attempt stored the batch that ended with the second recipient, then
    // its worker died.
    job::Entity::update_many()
        .col_expr(
            job::Column::Progress,
            json!({ "after": recipients[1] }).to_string().into(),
        )
        .filter(job::Column::Id.eq(&ids[0]))
        .exec(&app.state.writer)
        .await
        .expect("checkpoint");
    assert_eq!(app.run_jobs().await, 1);
    let notified = async |user_id: &str| {
        notification::Entity::find()
            .filter(notification::Column::UserId.eq(user_id))
            .filter(notification::Column::NotificationType.eq("SYSTEM"))
            .count(&app.state.db)
            .await
            .expect("count")
    };
    for (index, user_id) in recipients.iter().enumerate() {
        let expected = u64::from(index >= 2);
        assert_eq!(notified(user_id).await, expected, "recipient {index}");
    }
    assert_eq!(notified(&admin.user_id).await, 0, "not the sender");
    let row = job_row(&app, &ids[0]).await;
    assert_eq!(row.state, "done");
    assert_eq!(
        row.progress
            .as_deref()
            .map(serde_json::from_str::<Value>)
            .and_then(Result::ok),
        Some(json!({ "after": recipients[3] }))
    );
}
