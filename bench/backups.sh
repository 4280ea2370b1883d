#!/usr/bin/env bash
# Backup and proof of a 100 MB managed database against the same work by hand: the platform's
# backup (pg_dump -Fc from a snapshot, sealed, then restored into a scratch database and
# compared table by table) against `pg_dump -Fc` to a file and `pg_restore` of it into a
# second database with the host's own tools. Prints a table and exits non-zero when the
# platform takes more than 3x the time by hand (2 when the reference by hand stalls). Traffic:
# loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/shipyard-target}"
cargo build --release --locked --quiet --bin shipyard
exec python3 bench/backups.py "$CARGO_TARGET_DIR/release/shipyard"
