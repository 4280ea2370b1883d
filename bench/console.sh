#!/usr/bin/env bash
# The console: server time to answer its pages with 200 projects in the workspace (dashboard,
# a project, a deployment; target p95 ≤ 20 ms each) and the bytes the dashboard transfers
# (HTML + CSS + JS, uncompressed; target ≤ 60 KB). Prints a table and exits non-zero on a miss.
# Traffic: loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/shipyard-target}"
cargo build --release --locked --quiet --bin shipyard
exec python3 bench/console.py "$CARGO_TARGET_DIR/release/shipyard"
