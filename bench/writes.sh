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
# Requires: cargo, curl, wrk, python3, and psql for PostgreSQL.

set -euo pipefail

DURATION="${DURATION:-5}"
CLIENTS="${CLIENTS:-1 4 16 64}"
ACCOUNTS="${ACCOUNTS:-64}"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/server.sh
source "$BENCH_DIR/server.sh"
for tool in cargo curl wrk python3; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed"
done
bench_build
bench_start

# json_get KEY...: the value at KEY... of the JSON document on stdin.
json_get() {
    python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1:]:
    value = value[key]
print(value)' "$@"
}

echo "==> $BACKEND: registering $ACCOUNTS accounts"
TOKENS=""
for i in $(seq 1 "$ACCOUNTS"); do
    token="$(curl -fsS -H 'Content-Type: application/json' \
        --data "{\"email\":\"writer$i@example.com\",\"password\":\"Sparkle123\",\"username\":\"writer$i\"}" \
        "$BASE/api/auth/register" | json_get data token)"
    TOKENS="${TOKENS:+$TOKENS,}$token"
done
first_token="${TOKENS%%,*}"
POST_ID="$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $first_token" \
    --data '{"title":"Benchmark post","content":"Everyone writes here.","published":true}' \
    "$BASE/api/posts" | json_get data id)"
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
