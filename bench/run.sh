#!/usr/bin/env bash
# Throughput benchmark for the sparkle server (run by hand; not part of CI).
#
# Usage:
#   bench/run.sh                              # 3 rounds of 5 s per list endpoint, 32 connections
#   ROUNDS=5 DURATION=10 CONNECTIONS=64 bench/run.sh
#
# What it does, in one run:
#   1. cargo build --release   (into $CARGO_TARGET_DIR, or $HOME/.cache/sparkle-target)
#   2. a fresh temporary DATA_DIR (SQLite), or a fresh PostgreSQL schema with
#      BENCH_DATABASE_URL, seeded with 1,000 users and 10,000 posts
#   3. starts `sparkle` on a free local port, with the rate limits lifted, and polls /ready
#   4. wrk -t1 --latency against
#        GET  /health                  (the floor: no database), once
#        GET  /api/posts?limit=20      (REST list)            } in ROUNDS alternating rounds,
#        POST /graphql                 (the same page through   } so both lists see the same
#                                       GraphQL, with author/     } machine load
#                                       category/tags)
#   5. prints, per endpoint, the round with the median req/s (its req/s, p50 and p99), the
#      median of the rounds' GraphQL/REST req/s ratios, and the SQL statements one request
#      of each list runs (Server-Timing / extensions.sqlStatements)
#
# Environment knobs:
#   DURATION                  seconds per endpoint and round (default 5)
#   ROUNDS                    alternating REST/GraphQL rounds (default 3)
#   CONNECTIONS               open connections wrk keeps (default 32)
#   WARMUP                    seconds of unmeasured load before each endpoint (default 2; 0 = none)
#   USERS, POSTS              seed size (default 1000 and 10000)
#   DATABASE_MAX_CONNECTIONS  passed through to the server (server default: 16)
#   BENCH_DATABASE_URL        run on PostgreSQL (a fresh schema, dropped afterwards)
#                             instead of SQLite
#   KEEP_DATA=1               keep the temporary DATA_DIR (and server.log) afterwards
#
# Requires: cargo, curl, wrk (Debian/Ubuntu: apt-get install -y wrk).
# wrk uses one thread because on a 2-core machine wrk and the server share the CPU.
# The server is stopped when the script exits, whatever the reason.

set -euo pipefail

DURATION="${DURATION:-5}"
ROUNDS="${ROUNDS:-3}"
CONNECTIONS="${CONNECTIONS:-32}"
WARMUP="${WARMUP:-2}"
USERS="${USERS:-1000}"
POSTS="${POSTS:-10000}"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=bench/server.sh
source "$BENCH_DIR/server.sh"

GRAPHQL_QUERY='{ posts(first: 20) { edges { node { id title author { username } category { name } tags { name } } } } }'
# Read by bench/post.lua inside wrk.
export BENCH_BODY="{\"query\":\"$GRAPHQL_QUERY\"}"

# --- prerequisites ---------------------------------------------------------------

if ! command -v wrk >/dev/null 2>&1; then
    echo "wrk is not installed. On Debian/Ubuntu install it with:" >&2
    echo "    sudo apt-get install -y wrk" >&2
    exit 1
fi
command -v curl >/dev/null 2>&1 || die "curl is not installed (apt-get install -y curl)"
command -v cargo >/dev/null 2>&1 || die "cargo is not installed"

# --- build, seed, start ---------------------------------------------------------

bench_build
echo "==> seeding $USERS users and $POSTS posts ($BACKEND)"
(cd "$DATA_DIR" && "$BIN" seed-demo --users "$USERS" --posts "$POSTS" | tail -n 1)
bench_start

# --- sanity checks and SQL statements per request ----------------------------------

REST_URL="$BASE/api/posts?limit=20"
GRAPHQL_URL="$BASE/graphql"

rest_headers="$(curl -fsS -D - -o /dev/null "$REST_URL")" || die "GET $REST_URL failed"
rest_sql="$(printf '%s\n' "$rest_headers" | tr -d '\r' \
    | sed -n 's/^[Ss]erver-[Tt]iming:.*sql;desc="SQL statements";count=\([0-9]*\).*/\1/p')" || true

graphql_body="$(curl -fsS -H 'Content-Type: application/json' --data "$BENCH_BODY" "$GRAPHQL_URL")" \
    || die "POST $GRAPHQL_URL failed"
case "$graphql_body" in
    *'"errors"'*) die "the GraphQL query returned errors: $graphql_body" ;;
esac
graphql_sql="$(printf '%s' "$graphql_body" \
    | grep -o '"sqlStatements":[0-9]*' | head -n 1 | cut -d: -f2)" || true

# --- load --------------------------------------------------------------------------

# run_wrk NAME URL [wrk args...]: a warm-up (discarded), then the measured run,
# whose output is saved to $DATA_DIR/wrk-NAME.txt.
run_wrk() {
    local name="$1" url="$2"
    shift 2
    if [[ "$WARMUP" != "0" ]]; then
        wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" "$@" "$url" >/dev/null
    fi
    echo "==> $name: wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency ${*:+$* }$url"
    wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$@" "$url" | tee "$DATA_DIR/wrk-$name.txt"
    # wrk counts any HTTP answer as a request; a run that got errors is not a result.
    if grep -q 'Non-2xx or 3xx responses' "$DATA_DIR/wrk-$name.txt"; then
        die "$name: some responses were not 2xx/3xx (rate limit? see above)"
    fi
}

# Fields of a saved wrk --latency output.
wrk_rps() { awk '/^Requests\/sec:/ { print $2 }' "$DATA_DIR/wrk-$1.txt"; }
wrk_pct() { awk -v p="$2%" '$1 == p { print $2; exit }' "$DATA_DIR/wrk-$1.txt"; }

# Other work on the machine skews the figures; record how busy it was going in.
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"

run_wrk health "$BASE/health"
for round in $(seq 1 "$ROUNDS"); do
    run_wrk "rest-$round" "$REST_URL"
    run_wrk "graphql-$round" "$GRAPHQL_URL" -s "$BENCH_DIR/post.lua"
done

# --- report ------------------------------------------------------------------------

# median_round NAME: the round of NAME whose req/s is the median (the lower middle one).
median_round() {
    for round in $(seq 1 "$ROUNDS"); do
        echo "$(wrk_rps "$1-$round") $round"
    done | sort -g | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) { print $2 }'
}
ratios="$(for round in $(seq 1 "$ROUNDS"); do
    awk -v g="$(wrk_rps "graphql-$round")" -v r="$(wrk_rps "rest-$round")" \
        'BEGIN { if (r > 0) printf "%.1f\n", 100 * g / r }'
done)"
median_ratio="$(printf '%s\n' "$ratios" | sort -g | awk -v n="$ROUNDS" 'NR == int((n + 1) / 2) { print $1 "%" }')"

echo
echo "sparkle benchmark: $BACKEND, $USERS users / $POSTS posts, wrk -t1 -c$CONNECTIONS, ${DURATION}s per endpoint and round, $ROUNDS rounds"
echo "machine: $(nproc) cores, Linux $(uname -r); load average before the runs: $LOAD_BEFORE"
echo
printf '%-32s %12s %10s %10s\n' "endpoint (median round)" "req/s" "p50" "p99"
printf '%-32s %12s %10s %10s\n' "--------------------------------" "------------" "----------" "----------"
for row in "health|GET /health" "rest-$(median_round rest)|GET /api/posts?limit=20" \
    "graphql-$(median_round graphql)|POST /graphql (posts first:20)"; do
    name="${row%%|*}"
    label="${row#*|}"
    printf '%-32s %12s %10s %10s\n' "$label" "$(wrk_rps "$name")" "$(wrk_pct "$name" 50)" "$(wrk_pct "$name" 99)"
done
echo
echo "GraphQL / REST req/s, per round: $(printf '%s%% ' $ratios)"
echo "GraphQL / REST req/s, median round: $median_ratio"
echo "SQL statements per request: REST list ${rest_sql:-?} (Server-Timing), GraphQL ${graphql_sql:-?} (extensions.sqlStatements)"
