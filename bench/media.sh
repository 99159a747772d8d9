#!/usr/bin/env bash
# Image processing: the time to make every variant (150, 320, 640, 1280 px) and the
# blurhash of a 12-megapixel JPEG, and the growth of the process's peak memory while
# doing it (release build, no server, no database).
#
#   bench/media.sh            # Knob: RUNS (default 5)
set -euo pipefail
BENCH_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$BENCH_DIR/server.sh"
bench_build
echo "==> $(nproc) cores"
(cd "$DATA_DIR" && RUST_LOG=warn "$BIN" bench-media --runs "${RUNS:-5}")
