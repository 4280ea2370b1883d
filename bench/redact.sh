#!/usr/bin/env bash
# Redaction throughput: lines/s of the log redactor on a workspace with 100 secrets, beside a
# naive reference. Prints a table and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/shipyard-target}"
cargo bench --locked --quiet -p shipyard-core --bench redact
