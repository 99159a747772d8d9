#!/usr/bin/env bash
# Mail: mails per second from the queue to a local SMTP server (aiosmtpd, from PyPI,
# delivering into a Maildir), with 16 and 32 (the default) email workers, on SQLite, and on PostgreSQL
# when BENCH_DATABASE_URL is set. Each run uses a fresh database.
#
#   bench/mail.sh                                             # SQLite
#   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1/test bench/mail.sh
# Knob: MAILS (default 2000).
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BENCH_DIR/server.sh"
bench_build

python3 -c "import aiosmtpd" 2>/dev/null ||
    python3 -m pip install --quiet --disable-pip-version-check aiosmtpd==1.4.6
smtp_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
maildir="$DATA_DIR/maildir"
mkdir -p "$maildir/tmp" "$maildir/new" "$maildir/cur"
python3 -m aiosmtpd -n -l "127.0.0.1:$smtp_port" -c aiosmtpd.handlers.Mailbox "$maildir" \
    >"$DATA_DIR/aiosmtpd.log" 2>&1 &
smtp_pid=$!
trap 'kill "$smtp_pid" 2>/dev/null || true; bench_cleanup' EXIT
for _ in $(seq 1 100); do
    python3 -c "import socket; socket.create_connection(('127.0.0.1', $smtp_port), 1)" 2>/dev/null && break
    sleep 0.1
done

echo "==> $BACKEND, $(nproc) cores, aiosmtpd on 127.0.0.1:$smtp_port"
for workers in 16 32; do
    if [[ -z "${BENCH_DATABASE_URL:-}" ]]; then
        rm -f "$DATA_DIR"/sparkle.db*
    else
        PGOPTIONS="--client-min-messages=warning" psql "$BENCH_DATABASE_URL" -qc \
            "DROP SCHEMA $BENCH_SCHEMA CASCADE; CREATE SCHEMA $BENCH_SCHEMA"
    fi
    rm -f "$maildir"/new/*
    echo "--> email workers: $workers"
    (cd "$DATA_DIR" && RUST_LOG=warn QUEUE_CONCURRENCY="media=1,email=$workers" \
        MAIL_TRANSPORTS="smtp://127.0.0.1:$smtp_port" MAIL_HOURLY_LIMIT=1000000 \
        "$BIN" bench-mail --mails "${MAILS:-2000}")
    echo "    the SMTP server holds $(find "$maildir/new" -type f | wc -l) mails"
done
