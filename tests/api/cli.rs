//! The `sparkle` command as an operator meets it: flags where they type them, secrets
//! never printed, failures told in sentences.

use std::process::{Command, Output};

/// Runs `sparkle` with `args` and `env`, in a fresh temporary directory, with no
/// project `.env` and no inherited database or Redis settings.
fn sparkle(args: &[&str], env: &[(&str, &str)]) -> (Output, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("sparkle-cli-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).expect("temporary directory");
    let mut command = Command::new(env!("CARGO_BIN_EXE_sparkle"));
    command
        .args(args)
        .current_dir(&dir)
        .env_remove("DATABASE_URL")
        .env_remove("REDIS_URL")
        .env("RUST_LOG", "warn");
    for (key, value) in env {
        command.env(key, value);
    }
    (command.output().expect("sparkle runs"), dir)
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn flags_work_after_the_subcommand_as_before_it() {
    for args in [
        ["migrate", "--data-dir", "after"],
        ["--data-dir", "before", "migrate"],
    ] {
        let (output, dir) = sparkle(&args, &[]);
        assert!(output.status.success(), "{args:?}: {}", text(&output));
        let folder = if args[0] == "migrate" {
            "after"
        } else {
            "before"
        };
        assert!(
            dir.join(folder).join("sparkle.db").exists(),
            "{args:?} did not use its data directory"
        );
        let _ = std::fs::remove_dir_all(dir);
    }
}

#[test]
fn passwords_are_never_printed() {
    let secret_env = [
        ("DATABASE_URL", "postgres://app:hunter2@127.0.0.1:1/sparkle"),
        ("REDIS_URL", "redis://:hunter3@127.0.0.1:1"),
    ];
    let (help, dir) = sparkle(&["serve", "--help"], &secret_env);
    let _ = std::fs::remove_dir_all(dir);
    let help = text(&help);
    assert!(help.contains("--database-url"), "{help}");
    assert!(!help.contains("hunter"), "{help}");

    // Nothing listens on port 1: the connection is refused.
    let (failed, dir) = sparkle(&["migrate"], &secret_env);
    let _ = std::fs::remove_dir_all(dir);
    let message = text(&failed);
    assert!(!failed.status.success());
    assert!(
        message.contains("cannot open the database at postgres://app:***@127.0.0.1:1/sparkle"),
        "{message}"
    );
    assert!(!message.contains("hunter"), "{message}");
    // A sentence, not a Rust structure dump.
    assert!(
        !message.contains("SqlxError") && !message.contains("Conn("),
        "{message}"
    );
}
