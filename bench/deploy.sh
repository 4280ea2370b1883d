#!/usr/bin/env bash
# Deploy benchmark: POST …/deployments → the live URL serves the new content, for a static
# site, an Express app and a Vite app, cold (empty cache) and warm, beside the same clone +
# install + build (+ for Express: start it and wait until it answers) run by hand; and POST
# rollback → the old content again for the static site and the Express app. Prints a table,
# the platform overhead, the warm/cold install ratio, each phase of a cold deploy beside the
# same phase by hand, and the platform's helper memory per running app, and exits non-zero when
# a target is missed. Traffic: loopback, plus the npm
# registry for installs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/shipyard-target}"
cargo build --release --locked --quiet --bin shipyard
exec python3 bench/deploy.py "$CARGO_TARGET_DIR/release/shipyard" "${RUNS:-3}"
