#!/usr/bin/env bash
# Managed databases' idle memory: one database, then ten, each made through the API and left
# idle; the memory of each database's processes together (PSS, which counts shared pages once,
# and RSS) against the 40 MB target. Prints a table and exits non-zero on a miss. Traffic:
# loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/shipyard-target}"
cargo build --release --locked --quiet --bin shipyard
exec python3 bench/databases.py "$CARGO_TARGET_DIR/release/shipyard"
