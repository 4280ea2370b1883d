#!/usr/bin/env bash
# Deploy benchmark: wall time from POST …/deployments to ready for a static site, an Express app
# and a Vite app, cold (empty cache) and warm, beside the same clone + install + build run by
# hand; and for the static site, POST deploy → the live URL serves the new body, and POST
# rollback → the old body again. Prints a table, the platform overhead and the warm/cold
# install ratio, and exits non-zero when a target is missed. Traffic: loopback, plus the npm registry for installs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/shipyard-target}"
cargo build --release --locked --quiet --bin shipyard
exec python3 bench/deploy.py "$CARGO_TARGET_DIR/release/shipyard" "${RUNS:-3}"
