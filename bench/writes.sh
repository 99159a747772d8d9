#!/usr/bin/env bash
# Write benchmark for the sparkle server (run by hand; not part of CI): comments/s and
# reactions/s with 1, 4, 16 and 64 concurrent clients, with every error counted.
#
# Usage:
#   bench/writes.sh                                   # SQLite (a fresh temporary DATA_DIR)
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/test bench/writes.sh
#                                                     # PostgreSQL (a fresh schema, dropped after)
#   DURATION=10 CLIENTS="1 4 16 64" ACCOUNTS=64 bench/writes.sh
#
# What it does:
#   1. cargo build --release, then starts `sparkle serve` on a free local port with every
#      rate limit lifted, and polls /ready
#   2. registers ACCOUNTS accounts (default 64) and one published post
#   3. for each number of clients: wrk -t1 -cN for DURATION seconds (default 5) of
#        POST /api/posts/{id}/comments                  (comments, all on the one post)
#        PUT / DELETE /api/posts/{id}/reactions in turn (reactions given and taken back)
#      spreading requests over the accounts (bench/write.lua)
#   4. prints writes/s and the errors (non-2xx answers and socket errors) of each run
#
# Requires: cargo, curl, wrk, and psql for PostgreSQL.

set -euo pipefail

DURATION="${DURATION:-5}"
CLIENTS="${CLIENTS:-1 4 16 64}"
ACCOUNTS="${ACCOUNTS:-64}"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$(dirname "$BENCH_DIR")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sparkle-target}"
BIN="$CARGO_TARGET_DIR/release/sparkle"

die() {
    echo "error: $*" >&2
    exit 1
}
for tool in cargo curl wrk; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done

echo "==> cargo build --release (target dir: $CARGO_TARGET_DIR)"
(cd "$PROJECT_DIR" && cargo build --release --bin sparkle)

DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/sparkle-writes.XXXXXX")"
export DATA_DIR
SERVER_PID=""
SCHEMA=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ -n "$SCHEMA" ]]; then
        psql "$BENCH_DATABASE_URL" -qc "DROP SCHEMA IF EXISTS $SCHEMA CASCADE" || true
    fi
    rm -rf "$DATA_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n "${BENCH_DATABASE_URL:-}" ]]; then
    command -v psql >/dev/null 2>&1 || die "psql is not installed"
    SCHEMA="sparkle_bench_$RANDOM$RANDOM"
    psql "$BENCH_DATABASE_URL" -qc "CREATE SCHEMA $SCHEMA"
    separator='?'
    [[ "$BENCH_DATABASE_URL" == *'?'* ]] && separator='&'
    export DATABASE_URL="$BENCH_DATABASE_URL${separator}options[search_path]=$SCHEMA"
    BACKEND="PostgreSQL"
else
    unset DATABASE_URL
    BACKEND="SQLite"
fi
export HOST=127.0.0.1
export RUST_LOG="${BENCH_RUST_LOG:-warn}"
for limit in API AUTH POST_CREATE COMMENT_CREATE REACTION FOLLOW; do
    export "RATE_LIMIT_$limit=1000000000/1s"
done

PORT=$((20000 + RANDOM % 40000))
export PORT
BASE="http://127.0.0.1:$PORT"
(cd "$DATA_DIR" && exec "$BIN" serve) >"$DATA_DIR/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 300); do
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$DATA_DIR/server.log" >&2; die "the server exited"; }
    curl -fsS -o /dev/null "$BASE/ready" 2>/dev/null && break
    sleep 0.1
done

json_field() { sed -n "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/p"; }

echo "==> $BACKEND: registering $ACCOUNTS accounts"
TOKENS=""
for i in $(seq 1 "$ACCOUNTS"); do
    token="$(curl -fsS -H 'Content-Type: application/json' \
        --data "{\"email\":\"writer$i@example.com\",\"password\":\"Sparkle123\",\"username\":\"writer$i\"}" \
        "$BASE/api/auth/register" | json_field token)"
    TOKENS="${TOKENS:+$TOKENS,}$token"
done
first_token="${TOKENS%%,*}"
POST_ID="$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $first_token" \
    --data '{"title":"Benchmark post","content":"Everyone writes here.","published":true}' \
    "$BASE/api/posts" | sed -n 's/.*"data":{[^}]*"id":"\([^"]*\)".*/\1/p')"
[[ -n "$POST_ID" ]] || die "could not create the post"
export BENCH_TOKENS="$TOKENS" BENCH_POST="$POST_ID"

printf '\n%-10s %8s %12s %8s\n' "kind" "clients" "writes/s" "errors"
for mode in comment reaction; do
    for clients in $CLIENTS; do
        out="$(BENCH_MODE="$mode" wrk -t1 -c"$clients" -d"${DURATION}s" -s "$BENCH_DIR/write.lua" "$BASE")"
        rps="$(awk '/^Requests\/sec:/ { print $2 }' <<<"$out")"
        non_2xx="$(awk '/Non-2xx or 3xx responses:/ { print $NF }' <<<"$out")"
        socket="$(awk -F'[ ,]+' '/Socket errors:/ { print $5 + $7 + $9 + $11 }' <<<"$out")"
        printf '%-10s %8s %12s %8s\n' "$mode" "$clients" "$rps" "$(( ${non_2xx:-0} + ${socket:-0} ))"
    done
done
echo
echo "machine load (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
