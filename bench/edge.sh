#!/usr/bin/env bash
# Edge benchmark: Shipyard's edge against nginx as a reverse proxy (to one nginx upstream
# serving a 1 KB and a 64 KB file) and as a static file server (a deployed site against nginx
# with sendfile and open_file_cache on the same files): throughput (wrk, fixed connections)
# and open-loop latency (oha at a fixed rate, half of nginx's throughput, corrected for
# coordinated omission), 5 alternating pairs, the server under test on core 0 and the load
# and upstream on core 1; informative rows for no client keep-alive and for a sandboxed node
# instance. Prints a table; exits 1 on a missed target (CPU per request and p99 always count;
# requests per second only when the upstream keeps up), 2 when nothing missed but the upstream
# was the bottleneck (requests per second not compared). Installs nginx, wrk and oha when
# missing. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/var/tmp/shipyard-target}"
missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v taskset >/dev/null 2>&1 || missing+=(util-linux)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
if ! command -v oha >/dev/null 2>&1; then
  cargo install --locked --quiet oha
  export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
fi
if [ "$(nproc)" -lt 2 ]; then
  echo "error: the edge bench pins the server and the load to two different cores; this machine has $(nproc)" >&2
  exit 2
fi
cargo build --release --locked --quiet --bin shipyard
exec python3 bench/edge.py "$CARGO_TARGET_DIR/release/shipyard"
