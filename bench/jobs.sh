#!/usr/bin/env bash
# The job queue: no-op jobs per second with 1 and 4 workers, and the time from an
# enqueue to the start of its job on an idle queue (p50/p99), on SQLite, and on
# PostgreSQL when BENCH_DATABASE_URL is set. Each run uses a fresh database.
#
#   bench/jobs.sh                                             # SQLite
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/test bench/jobs.sh
# Knobs: JOBS (default 20000), SAMPLES (default 200).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BENCH_DIR/server.sh"
bench_build

echo "==> $BACKEND, $(nproc) cores"
for workers in 1 4; do
    # A fresh database per run: the SQLite file, or a new PostgreSQL schema.
    if [[ -z "${BENCH_DATABASE_URL:-}" ]]; then
        rm -f "$DATA_DIR"/sparkle.db*
    else
        PGOPTIONS="--client-min-messages=warning" psql "$BENCH_DATABASE_URL" -qc \
            "DROP SCHEMA $BENCH_SCHEMA CASCADE; CREATE SCHEMA $BENCH_SCHEMA"
    fi
    echo "--> WORKER_CONCURRENCY=$workers"
    (cd "$DATA_DIR" && RUST_LOG=warn WORKER_CONCURRENCY="$workers" QUEUE_CONCURRENCY="" \
        "$BIN" bench-jobs --jobs "${JOBS:-20000}" --samples "${SAMPLES:-200}")
done
