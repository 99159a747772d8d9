#!/usr/bin/env bash
# Server CPU per request, for the REST list and for any GraphQL queries given as
# arguments, against a server that is already running (run by hand; not part of CI).
#
# Usage:
#   bench/query-cost.sh '{ posts(first: 20) { edges { node { id } } } }' '{ categories { name } }'
#
# Environment knobs:
#   BASE         the server (default http://127.0.0.1:8080)
#   SERVER_PID   its process id (default: the only `sparkle serve` process)
#   DURATION     seconds of measured load per line (default 5), after 1 s of warm-up
#
# For each line it prints wrk's req/s (wrk -t1 -c32) and the CPU time the server process
# used (user + system, from /proc/PID/stat) divided by the requests served. CPU per
# request moves less with the machine's other load than req/s does, so it is the
# figure to compare between builds. Requires wrk and a server with the rate limits lifted
# (bench/run.sh's settings).

set -euo pipefail

BASE="${BASE:-http://127.0.0.1:8080}"
DURATION="${DURATION:-5}"
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SERVER_PID="${SERVER_PID:-$(pgrep -f 'sparkle serve' | head -n 1)}"
[[ -n "$SERVER_PID" ]] || { echo "error: no sparkle serve process; set SERVER_PID" >&2; exit 1; }
TICKS_PER_SECOND="$(getconf CLK_TCK)"

server_ticks() { awk '{ print $14 + $15 }' "/proc/$SERVER_PID/stat"; }

# measure LABEL [wrk args...]
measure() {
    local label="$1" before after output
    shift
    wrk -t1 -c32 -d1s "$@" >/dev/null
    before="$(server_ticks)"
    output="$(wrk -t1 -c32 -d"${DURATION}s" "$@")"
    after="$(server_ticks)"
    printf '%s\n' "$output" | awk -v before="$before" -v after="$after" -v hz="$TICKS_PER_SECOND" -v label="$label" '
        /requests in/ { requests = $1 }
        /^Requests\/sec:/ { rps = $2 }
        END { printf "%9.0f req/s %8.1f us CPU/request  %s\n", rps, (after - before) / hz * 1e6 / requests, label }'
}

measure "GET /api/posts?limit=20" "$BASE/api/posts?limit=20"
for query in "$@"; do
    # Read by bench/post.lua inside wrk.
    export BENCH_BODY="{\"query\":\"$query\"}"
    measure "$query" -s "$BENCH_DIR/post.lua" "$BASE/graphql"
done
