#!/usr/bin/env bash
# WebSocket fan-out benchmark for the sparkle server (run by hand; not part of CI).
#
# Usage:
#   bench/fanout.sh                        # 10,000 subscribers, 3 events
#   SUBSCRIBERS=1000 bench/fanout.sh       # fewer subscribers
#
# What it does, in one run:
#   1. cargo build --release the server (into $CARGO_TARGET_DIR, or $HOME/.cache/sparkle-target)
#      and the load generator bench/fanout/ (its own crate, outside the workspace, into
#      $BENCH_TARGET_DIR, or $HOME/.cache/sparkle-bench-target)
#   2. raises the open-file limit (65536 when allowed, else the hard limit, which must
#      leave room for SUBSCRIBERS sockets in the server and in the generator)
#   3. starts `sparkle` on a free local port with a fresh temporary DATA_DIR and the
#      rate limits lifted, and polls /ready
#   4. registers a user and creates a published post with curl
#   5. runs the generator: SUBSCRIBERS anonymous graphql-transport-ws connections, each
#      subscribed to commentAdded on the post (connection concurrency CONCURRENCY);
#      once all are subscribed and the server is idle, EVENTS times: post one comment
#      and measure, per subscriber, the time from just before the request to the `next`
#      message. Prints delivered count, p50/p99/max per event, and the server's VmRSS
#      (from /proc/PID/status) before and after connecting, per connection.
#
# Environment knobs:
#   SUBSCRIBERS   connections (default 10000)
#   CONCURRENCY   connections being opened at once (default 100: the server listens with
#                 tokio's backlog of 128, whatever net.core.somaxconn says; more at once
#                 overflows the accept queue and those connections retry a second later)
#   EVENTS        comments posted, one after another (default 3)
#   SOURCE_IPS    0 = connect from 127.0.0.1 (default); K > 0 = bind client sockets to
#                 127.0.0.2 … 127.0.0.(K+1), for when the ephemeral port range is short.
#                 Chosen automatically when SUBSCRIBERS is more than 3/4 of the range.
#   SETTLE_MS     pause after every socket is subscribed, before waiting for the server's
#                 CPU to go idle and reading its memory (default 1000)
#   STAGE         subscribe (default: the whole benchmark); connect or init = memory only:
#                 every connection stops after the WebSocket handshake or after
#                 connection_ack, no event is sent (splits the memory per connection into
#                 socket, session and subscription; connect sets WS_INIT_TIMEOUT_SECS=600)
#   OTHER_POST=1  comment on a second post that nobody subscribes to: nothing is delivered
#                 (each event waits 3 s), and the server CPU per event is what an unrelated
#                 event costs with SUBSCRIBERS sockets open
#   SPARKLE_BIN   benchmark this server binary instead of building one (e.g. a copy of a
#                 release build, so that edits under src/ during the run don't matter)
#   KEEP_DATA=1   keep the temporary DATA_DIR (and server.log) afterwards
#
# Requires: cargo, curl. Everything runs on 127.0.0.1; the generator and the server share
# the machine's cores, so the latencies include the generator's own scheduling.
# The server is stopped when the script exits, whatever the reason.

set -euo pipefail

SUBSCRIBERS="${SUBSCRIBERS:-10000}"
CONCURRENCY="${CONCURRENCY:-100}"
EVENTS="${EVENTS:-3}"
SETTLE_MS="${SETTLE_MS:-1000}"
STAGE="${STAGE:-subscribe}"

BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PROJECT_DIR="$(dirname "$BENCH_DIR")"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/sparkle-target}"
BENCH_TARGET_DIR="${BENCH_TARGET_DIR:-$HOME/.cache/sparkle-bench-target}"
BIN="$CARGO_TARGET_DIR/release/sparkle"
GEN="$BENCH_TARGET_DIR/release/sparkle-fanout"

die() {
    echo "error: $*" >&2
    exit 1
}

command -v curl >/dev/null 2>&1 || die "curl is not installed (apt-get install -y curl)"
command -v cargo >/dev/null 2>&1 || die "cargo is not installed"
[[ "$SUBSCRIBERS" =~ ^[0-9]+$ && "$SUBSCRIBERS" -gt 0 ]] || die "SUBSCRIBERS must be a positive number"
case "$STAGE" in
    subscribe | init) ;;
    connect) export WS_INIT_TIMEOUT_SECS="${WS_INIT_TIMEOUT_SECS:-600}" ;;
    *) die "STAGE must be connect, init or subscribe" ;;
esac

# --- open files ------------------------------------------------------------------

# The server holds one descriptor per connection (plus the database and the listener),
# the generator one per connection too; each is its own process with this limit.
NEEDED_FDS=$((SUBSCRIBERS + 512))
if ! ulimit -n 65536 2>/dev/null; then
    hard="$(ulimit -Hn)"
    if [[ "$hard" == "unlimited" ]] || ((hard >= NEEDED_FDS)); then
        ulimit -n "$hard"
        echo "note: cannot raise the open-file limit to 65536; using the hard limit $hard"
    else
        die "the open-file limit cannot be raised to $NEEDED_FDS (hard limit $hard) for $SUBSCRIBERS subscribers; raise it (e.g. as root: ulimit -Hn 65536, or LimitNOFILE) or lower SUBSCRIBERS"
    fi
fi
(($(ulimit -n) >= NEEDED_FDS)) || die "open-file limit $(ulimit -n) < $NEEDED_FDS needed"

# --- kernel limits on this many local connections ----------------------------------

read -r port_low port_high </proc/sys/net/ipv4/ip_local_port_range
EPHEMERAL=$((port_high - port_low + 1))
SOMAXCONN="$(cat /proc/sys/net/core/somaxconn 2>/dev/null || echo '?')"
if [[ -z "${SOURCE_IPS:-}" ]]; then
    if ((SUBSCRIBERS * 4 > EPHEMERAL * 3)); then
        # Each source address has its own set of ephemeral ports.
        SOURCE_IPS=$(((SUBSCRIBERS + EPHEMERAL / 2 - 1) / (EPHEMERAL / 2)))
        echo "note: $SUBSCRIBERS connections against $EPHEMERAL ephemeral ports; binding to $SOURCE_IPS source addresses"
    else
        SOURCE_IPS=0
    fi
fi

# --- build -----------------------------------------------------------------------

if [[ -n "${SPARKLE_BIN:-}" ]]; then
    BIN="$SPARKLE_BIN"
    [[ -x "$BIN" ]] || die "SPARKLE_BIN=$BIN is not an executable"
    echo "==> using the server binary $BIN (not building)"
else
    echo "==> cargo build --release (target dir: $CARGO_TARGET_DIR)"
    (cd "$PROJECT_DIR" && cargo build --release --bin sparkle)
    [[ -x "$BIN" ]] || die "no binary at $BIN after the build"
fi
echo "==> building the load generator (target dir: $BENCH_TARGET_DIR)"
(cd "$BENCH_DIR/fanout" && CARGO_TARGET_DIR="$BENCH_TARGET_DIR" cargo build --release)
[[ -x "$GEN" ]] || die "no binary at $GEN after the build"

# --- fresh data directory and cleanup ----------------------------------------------

DATA_DIR="$(mktemp -d "${TMPDIR:-/tmp}/sparkle-fanout.XXXXXX")"
export DATA_DIR
SERVER_LOG="$DATA_DIR/server.log"
SERVER_PID=""

cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        # Graceful shutdown closes every socket; don't wait forever for it.
        for _ in $(seq 1 100); do
            kill -0 "$SERVER_PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -9 "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    if [[ "${KEEP_DATA:-0}" == "1" ]]; then
        echo "kept $DATA_DIR"
    else
        rm -rf "$DATA_DIR"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Always SQLite in DATA_DIR; the server runs from DATA_DIR so no project .env is read.
unset DATABASE_URL REDIS_URL
export HOST=127.0.0.1
export RATE_LIMIT_API="1000000000/1s"
export RATE_LIMIT_AUTH="1000000/1s"
export RATE_LIMIT_COMMENT_CREATE="1000000/1s"
export RUST_LOG="${BENCH_RUST_LOG:-warn}"

find_free_port() {
    local port
    for _ in $(seq 1 100); do
        port=$((20000 + RANDOM % 12000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return 0
        fi
    done
    return 1
}
# Below the ephemeral range (32768+ by default), so the generator's own sockets never
# hold the port.
PORT="$(find_free_port)" || die "no free port found"
export PORT
BASE="http://127.0.0.1:$PORT"

# Run a copy, so that a rebuild into the shared target directory during the run
# cannot swap the binary under us.
cp "$BIN" "$DATA_DIR/sparkle"
echo "==> starting sparkle on $BASE (data and log: $DATA_DIR)"
(cd "$DATA_DIR" && exec ./sparkle serve) >"$SERVER_LOG" 2>&1 &
SERVER_PID=$!

ready=0
for _ in $(seq 1 300); do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
        cat "$SERVER_LOG" >&2
        die "the server exited before it was ready"
    fi
    if curl -fsS -o /dev/null "$BASE/ready" 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
[[ "$ready" == "1" ]] || { cat "$SERVER_LOG" >&2; die "the server was not ready after 30 s"; }

# --- a user and a published post ------------------------------------------------------

json_field() { # json_field NAME: the first "NAME":"value" string in stdin
    grep -o "\"$1\":\"[^\"]*\"" | head -n 1 | cut -d'"' -f4
}

register="$(curl -fsS -H 'Content-Type: application/json' \
    --data '{"email":"fanout@example.com","password":"Sparkle123","username":"fanout"}' \
    "$BASE/api/auth/register")" || die "POST /api/auth/register failed"
TOKEN="$(printf '%s' "$register" | json_field token)"
[[ -n "$TOKEN" ]] || die "no token in the register answer: $register"

post="$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
    --data '{"title":"Fan-out","content":"The post every subscriber follows.","published":true}' \
    "$BASE/api/posts")" || die "POST /api/posts failed"
POST_ID="$(printf '%s' "$post" | json_field id)"
[[ -n "$POST_ID" ]] || die "no id in the post answer: $post"

EXTRA_ARGS=()
if [[ "${OTHER_POST:-0}" == "1" ]]; then
    other="$(curl -fsS -H 'Content-Type: application/json' -H "Authorization: Bearer $TOKEN" \
        --data '{"title":"Elsewhere","content":"Nobody follows this one.","published":true}' \
        "$BASE/api/posts")" || die "POST /api/posts failed"
    OTHER_ID="$(printf '%s' "$other" | json_field id)"
    [[ -n "$OTHER_ID" ]] || die "no id in the post answer: $other"
    EXTRA_ARGS+=(--trigger-post-id "$OTHER_ID" --event-timeout-s 3)
fi

# --- run -----------------------------------------------------------------------------

echo "==> machine: $(nproc) cores, $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)"
echo "    open-file limit $(ulimit -n); ephemeral ports $port_low-$port_high ($EPHEMERAL); somaxconn $SOMAXCONN"
echo "    load average before the run: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "    server VmRSS once ready: $(awk '/^VmRSS/ { print $2, $3 }' "/proc/$SERVER_PID/status")"
echo "==> $GEN --subscribers $SUBSCRIBERS --concurrency $CONCURRENCY --events $EVENTS"
echo

"$GEN" \
    --server "127.0.0.1:$PORT" \
    --post-id "$POST_ID" \
    --token "$TOKEN" \
    --subscribers "$SUBSCRIBERS" \
    --concurrency "$CONCURRENCY" \
    --events "$EVENTS" \
    --server-pid "$SERVER_PID" \
    --settle-ms "$SETTLE_MS" \
    --source-ips "$SOURCE_IPS" \
    --stop-after "$STAGE" \
    --clk-tck "$(getconf CLK_TCK 2>/dev/null || echo 100)" \
    "${EXTRA_ARGS[@]}"

echo
echo "load average after the run: $(cut -d' ' -f1-3 /proc/loadavg)"
if grep -qiE 'error|panic' "$SERVER_LOG"; then
    echo "server log (errors):"
    grep -iE 'error|panic' "$SERVER_LOG" | head -n 20
fi
