//! `sparkle`: the server binary. Everything but argument parsing lives in the library.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use sparkle_universe::{AppState, Config, graphql, seed, server};

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
    /// Run the HTTP server (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Write the GraphQL SDL (default `schema.graphql`).
    ExportSchema {
        #[arg(long, default_value = "schema.graphql")]
        out: PathBuf,
    },
    /// Fill the database with demo users, categories, tags and posts.
    SeedDemo {
        #[arg(long, default_value_t = 50)]
        users: usize,
        #[arg(long, default_value_t = 500)]
        posts: usize,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let _ = dotenvy::dotenv();
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "info,sqlx=warn,sea_orm=warn,tower_http=info".into()),
        )
        .init();
    let outcome = match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => server::serve(cli.config).await,
        Command::Migrate => AppState::new(cli.config)
            .await
            .map(|_| tracing::info!("database is up to date")),
        Command::ExportSchema { out } => std::fs::write(&out, graphql::sdl())
            .map(|()| println!("wrote {}", out.display()))
            .map_err(|err| {
                sparkle_universe::error::AppError::Internal(format!("{}: {err}", out.display()))
            }),
        Command::SeedDemo { users, posts } => match AppState::new(cli.config).await {
            Ok(state) => seed::seed_demo(&state, users, posts)
                .await
                .map(|report| println!("seeded {} users and {} posts", report.users, report.posts)),
            Err(err) => Err(err),
        },
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = ?err, "sparkle failed");
            ExitCode::FAILURE
        }
    }
}
