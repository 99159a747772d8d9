#!/usr/bin/env bash
# Instructions per request, counted by valgrind's callgrind: within a few percent from run
# to run of the same build and data, however busy the machine is (run by hand; not part of CI).
#
# Usage:
#   DATA_DIR=/path/to/seeded/data bench/instructions.sh '{ posts(first: 20) { edges { node { id } } } }'
#
# It starts the release binary under callgrind on DATA_DIR (seed one first with
# `sparkle seed-demo --users 1000 --posts 10000`), sends 10 unmeasured requests and then
# REQUESTS measured ones (default 40) with curl for the REST list and for each GraphQL
# query given, and prints the instructions the server executed per measured request.
# Kernel time (sockets, thread hand-offs) is not counted; compare builds with this,
# and confirm with bench/run.sh.
#
# Requires: valgrind, curl.

set -euo pipefail

: "${DATA_DIR:?set DATA_DIR to a seeded data directory}"
REQUESTS="${REQUESTS:-40}"
PORT="${PORT:-18081}"
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sparkle-target}"
(cd "$(dirname "$BENCH_DIR")" && cargo build --release --bin sparkle)
OUT_DIR="$(mktemp -d "${TMPDIR:-/tmp}/sparkle-callgrind.XXXXXX")"
BASE="http://127.0.0.1:$PORT"

export PORT DATA_DIR RUST_LOG=warn RATE_LIMIT_API="1000000000/1s" RATE_LIMIT_AUTH="1000000000/1s"
valgrind --tool=callgrind --callgrind-out-file="$OUT_DIR/out.%p" \
    "$CARGO_TARGET_DIR/release/sparkle" serve >"$OUT_DIR/server.log" 2>&1 &
SERVER_PID=$!
trap 'kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true' EXIT
for _ in $(seq 300); do
    curl -sf "$BASE/ready" >/dev/null && break
    sleep 0.5
done

DUMPS=0
# measure LABEL [curl args...]
measure() {
    local label="$1"
    shift
    for _ in $(seq 10); do curl -s "$@" >/dev/null; done
    callgrind_control --zero "$SERVER_PID" >/dev/null 2>&1
    for _ in $(seq "$REQUESTS"); do curl -s "$@" >/dev/null; done
    callgrind_control --dump "$SERVER_PID" >/dev/null 2>&1
    DUMPS=$((DUMPS + 1))
    awk -v n="$REQUESTS" -v label="$label" '/^(summary|totals):/ { printf "%12.0f instructions/request  %s\n", $2 / n, label; exit }' \
        "$OUT_DIR/out.$SERVER_PID.$DUMPS"
}

measure "GET /api/posts?limit=20" "$BASE/api/posts?limit=20"
for query in "$@"; do
    measure "$query" -H 'content-type: application/json' -d "{\"query\":\"$query\"}" "$BASE/graphql"
done
