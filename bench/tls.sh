#!/usr/bin/env bash
# HTTPS for custom domains: twenty domains verified at once, each ordered from a real ACME CA
# (Debian's pebble, validating through the edge), timed from its verify to the first HTTPS
# answer whose chain validates against the CA's root; p95 against the 5 s target. Prints a table
# and exits non-zero on a miss. Traffic: loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pebble >/dev/null 2>&1 || { echo "bench/tls.sh needs Debian's pebble (./scripts/install-test-deps)"; exit 3; }
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/shipyard-target}"
cargo build --release --locked --quiet --bin shipyard
exec python3 bench/tls.py "$CARGO_TARGET_DIR/release/shipyard"
