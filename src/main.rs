//! `sparkle`: the server binary. Everything but argument parsing lives in the library.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use clap::{Parser, Subcommand};
use sparkle_universe::{
    AppState, Config, config::LogFormat, error::AppError, graphql, jobs, mail, media, rest, seed,
    server,
};

/// mimalloc instead of the system allocator: a request allocates thousands of small
/// values (rows, strings, response trees), and BENCHMARKS.md shows what this saves.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "sparkle", version, about = "Sparkle Universe API server")]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server with its job workers and schedules (the default).
    Serve,
    /// Run job workers and schedules only, without the HTTP server.
    Worker {
        /// Run every job that is due now, then exit.
        #[arg(long)]
        drain: bool,
    },
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write the GraphQL SDL (default `schema.graphql`) and, if asked, the OpenAPI document.
    ExportSchema {
        #[arg(long, default_value = "schema.graphql")]
        out: PathBuf,
        /// Also write the generated OpenAPI document (JSON) here.
        #[arg(long)]
        openapi: Option<PathBuf>,
    },
    /// Measure the job queue (bench/jobs.sh): no-op jobs per second with
    /// WORKER_CONCURRENCY workers, and enqueue-to-start latency on an idle queue.
    BenchJobs {
        #[arg(long, default_value_t = 20_000)]
        jobs: usize,
        #[arg(long, default_value_t = 200)]
        samples: usize,
    },
    /// Measure mail sending (bench/mail.sh): mails per second from the queue to the
    /// configured transport, with the email queue's workers.
    BenchMail {
        #[arg(long, default_value_t = 2_000)]
        mails: usize,
    },
    /// Measure image processing (bench/media.sh): time and peak memory growth to make
    /// every variant and the blurhash of a 12-megapixel JPEG.
    BenchMedia {
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
    /// Fill the database with demo users, categories, tags and posts.
    SeedDemo {
        #[arg(long, default_value_t = 50)]
        users: usize,
        #[arg(long, default_value_t = 500)]
        posts: usize,
    },
}

/// Writes the SDL to `out` and the OpenAPI document to `openapi`, when given.
fn export_schema(out: &Path, openapi: Option<&Path>) -> Result<(), AppError> {
    let write = |path: &Path, contents: String| {
        std::fs::write(path, contents)
            .map(|()| println!("wrote {}", path.display()))
            .map_err(|err| AppError::Internal(format!("{}: {err}", path.display())))
    };
    write(out, graphql::sdl())?;
    if let Some(path) = openapi {
        let document = serde_json::to_string_pretty(&rest::openapi())
            .map_err(|err| AppError::Internal(format!("openapi: {err}")))?;
        write(path, document)?;
    }
    Ok(())
}

/// The state over the configured database, migrated.
async fn migrated_state(config: Config) -> Result<AppState, AppError> {
    let state = AppState::new(config).await?;
    state.migrate().await?;
    Ok(state)
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match cli.config.observability.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => server::serve(cli.config).await,
        Command::Worker { drain: false } => server::work(cli.config).await,
        Command::Worker { drain: true } => match migrated_state(cli.config).await {
            Ok(state) => jobs::drain(&state)
                .await
                .map(|ran| println!("ran {ran} jobs")),
            Err(err) => Err(err),
        },
        Command::BenchJobs { jobs: count, samples } => match migrated_state(cli.config).await {
            Ok(state) => jobs::bench::run(&state, count, samples).await.map(|report| {
                println!(
                    "{} no-op jobs, {} workers: {:.2} s, {:.0} jobs/s",
                    report.jobs,
                    report.workers,
                    report.elapsed.as_secs_f64(),
                    report.throughput()
                );
                println!(
                    "enqueue to start on an idle queue ({} samples): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                    report.start_latencies.len(),
                    report.latency_percentile(50).as_secs_f64() * 1000.0,
                    report.latency_percentile(99).as_secs_f64() * 1000.0,
                    report.latency_percentile(100).as_secs_f64() * 1000.0,
                );
            }),
            Err(err) => Err(err),
        },
        Command::BenchMail { mails } => match migrated_state(cli.config).await {
            Ok(state) => mail::bench::run(&state, mails).await.map(|report| {
                println!(
                    "{} mails, {} email workers: {:.2} s, {:.0} mails/s",
                    report.mails,
                    report.workers,
                    report.elapsed.as_secs_f64(),
                    report.throughput()
                );
            }),
            Err(err) => Err(err),
        },
        Command::BenchMedia { runs } => media::bench::twelve_megapixel_jpeg()
            .and_then(|jpeg| {
                println!("a 4000×3000 JPEG of {} bytes", jpeg.len());
                media::bench::run(&jpeg, runs)
            })
            .map(|measured| {
                for run in measured {
                    let memory = run
                        .peak_growth_kib
                        .map_or_else(|| "unknown".to_owned(), |kib| format!("{:.1} MiB", kib as f64 / 1024.0));
                    println!(
                        "{} variants and a blurhash: {:.0} ms, peak memory growth {memory}",
                        run.variants,
                        run.elapsed.as_secs_f64() * 1000.0
                    );
                }
            }),
        Command::Migrate => migrated_state(cli.config)
            .await
            .map(|_| tracing::info!("database is up to date")),
        Command::ExportSchema { out, openapi } => export_schema(&out, openapi.as_deref()),
        Command::SeedDemo { users, posts } => match migrated_state(cli.config).await {
            Ok(state) => seed::seed_demo(&state, users, posts).await.map(|report| {
                println!(
                    "seeded {} users, {} posts and {} comments",
                    report.users, report.posts, report.comments
                );
                println!(
                    "sign in with either account, password {}:",
                    seed::DEMO_PASSWORD
                );
                for ((_, email), role) in
                    [(seed::DEMO_ADMIN, "ADMIN"), (seed::DEMO_MEMBER, "member")]
                {
                    println!("  {email}  ({role})");
                }
            }),
            Err(err) => Err(err),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {}", err.detail());
            ExitCode::FAILURE
        }
    }
}
