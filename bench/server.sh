# Shared by the benchmark scripts (sourced, not run): build the release binary, pick
# the database, start the server on a free local port and stop everything on exit.
#
# Before sourcing, a script sets BENCH_DIR. Knob:
#   BENCH_DATABASE_URL   PostgreSQL server to run against (a fresh schema, dropped
#                        afterwards); unset: SQLite in a fresh temporary DATA_DIR
#
# After sourcing: BIN, DATA_DIR, BACKEND ("SQLite" or "PostgreSQL"), and the
# functions bench_build, bench_start (sets BASE and SERVER_PID) and die.

PROJECT_DIR="$(dirname "$BENCH_DIR")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sparkle-target}"
BIN="$CARGO_TARGET_DIR/release/sparkle"

die() {
    echo "error: $*" >&2
    exit 1
}

bench_build() {
    echo "==> cargo build --release (target dir: $CARGO_TARGET_DIR)"
    (cd "$PROJECT_DIR" && cargo build --release --bin sparkle)
    [[ -x "$BIN" ]] || die "no binary at $BIN after the build"
}

DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/sparkle-bench.XXXXXX")"
export DATA_DIR
SERVER_PID=""
BENCH_SCHEMA=""

bench_cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$BENCH_SCHEMA" ]]; then
        PGOPTIONS="--client-min-messages=warning" psql "$BENCH_DATABASE_URL" -qc \
            "DROP SCHEMA IF EXISTS $BENCH_SCHEMA CASCADE" || true
    fi
    if [[ "${KEEP_DATA:-0}" == "1" ]]; then
        echo "kept $DATA_DIR"
    else
        rm -rf "$DATA_DIR"
    fi
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# The commands run from DATA_DIR, so no project .env (a DATABASE_URL, say) is read.
if [[ -n "${BENCH_DATABASE_URL:-}" ]]; then
    command -v psql >/dev/null 2>&1 || die "psql is not installed"
    BENCH_SCHEMA="sparkle_bench_$RANDOM$RANDOM"
    psql "$BENCH_DATABASE_URL" -qc "CREATE SCHEMA $BENCH_SCHEMA"
    separator='?'
    [[ "$BENCH_DATABASE_URL" == *'?'* ]] && separator='&'
    export DATABASE_URL="$BENCH_DATABASE_URL${separator}options[search_path]=$BENCH_SCHEMA"
    BACKEND="PostgreSQL"
else
    unset DATABASE_URL
    BACKEND="SQLite"
fi
export HOST=127.0.0.1
export RUST_LOG="${BENCH_RUST_LOG:-warn}"
# Benchmarks measure the server, not its rate limits.
for limit in API AUTH POST_CREATE COMMENT_CREATE REACTION FOLLOW; do
    export "RATE_LIMIT_$limit=1000000000/1s"
done

# A port nobody answers on. (Another process could take it before the server binds;
# the readiness loop notices if the server exits.)
bench_free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}

# Starts `sparkle serve` and polls /ready for up to 30 s.
bench_start() {
    PORT="$(bench_free_port)" || die "no free port found"
    export PORT
    BASE="http://127.0.0.1:$PORT"
    echo "==> starting sparkle on $BASE ($BACKEND; log: $DATA_DIR/server.log)"
    (cd "$DATA_DIR" && exec "$BIN" serve) >"$DATA_DIR/server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 1 300); do
        if ! kill -0 "$SERVER_PID" 2>/dev/null; then
            cat "$DATA_DIR/server.log" >&2
            die "the server exited before it was ready"
        fi
        if curl -fsS -o /dev/null "$BASE/ready" 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    cat "$DATA_DIR/server.log" >&2
    die "the server was not ready after 30 s"
}
