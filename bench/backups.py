"""Backup and proof of a 100 MB database against dump and restore by hand: see backups.sh."""

import os
import subprocess
import sys
import tempfile
import time
import urllib.parse
from datetime import datetime

from serve import Server

BOUND = 3.0
BY_HAND_WITHIN = 300
ROWS = 220_000  # about 100 MB of table and index


def running(api, tenant, body):
    made = api.call("POST", f"/tenants/{tenant}/databases", body)
    deadline = time.monotonic() + 300
    while (view := api.call("GET", f"/tenants/{tenant}/databases/{made['id']}"))["status"] != "running":
        if view["status"] == "failed" or time.monotonic() > deadline:
            raise SystemExit(f"database {made['id']}: {view['status']} {view.get('error')}")
        time.sleep(0.2)
    url = api.call("GET", f"/tenants/{tenant}/databases/{made['id']}/connection")["url"]
    for _ in range(300):
        if subprocess.run(["psql", url, "-Atc", "SELECT 1"], capture_output=True).returncode == 0:
            return made["id"], url
        time.sleep(0.2)
    raise SystemExit(f"database {made['id']} never answered")


def over_socket(url, data, database_id):
    """`url`'s role and database, reached over the database's unix socket (as the platform's
    own tools reach it) instead of its forwarded TCP port: libpq keyword settings."""
    parsed = urllib.parse.urlparse(url)
    socket_dir = os.path.join(data, "database-control", database_id, "socket")
    return (f"host={socket_dir} port=5432 user={parsed.username} password={parsed.password} "
            f"dbname={parsed.path.lstrip('/')}")


def psql(url, sql):
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-Atc", sql], check=True, capture_output=True)


def main():
    binary = sys.argv[1]
    limits = {"memoryMb": 256, "diskMb": 1024}
    # A short directory: the by-hand run reaches the databases' sockets by their paths (107 bytes
    # at most).
    with tempfile.TemporaryDirectory(prefix="bk", dir="/tmp") as tmp:
        data = os.path.join(tmp, "data")
        # Sandbox users pass through to the data directory, so the server keeps its work there.
        os.chmod(tmp, 0o711)
        server = Server(binary, data)
        try:
            api, tenant = server.api, server.tenant
            source, source_url = running(api, tenant, {"name": "source", "engine": "postgres", "limits": limits})
            target, target_url = running(api, tenant, {"name": "by-hand", "engine": "postgres", "limits": limits})
            psql(source_url, "CREATE TABLE orders (id int PRIMARY KEY, customer text, note text, at timestamptz); "
                             f"INSERT INTO orders SELECT g, md5(g::text), repeat(md5((g * 7)::text), 12), now() "
                             f"FROM generate_series(1, {ROWS}) g; CREATE TABLE lines (order_id int, qty int); "
                             f"INSERT INTO lines SELECT g % {ROWS}, g % 9 FROM generate_series(1, {ROWS}) g")
            size = subprocess.run(["psql", source_url, "-Atc", "SELECT pg_database_size(current_database())"],
                                  capture_output=True, text=True, check=True).stdout.strip()

            began = time.monotonic()
            made = api.call("POST", f"/tenants/{tenant}/databases/{source}/backups")
            path = f"/tenants/{tenant}/databases/{source}/backups/{made['id']}"
            while (backup := api.call("GET", path))["status"] not in ("completed", "failed"):
                if time.monotonic() - began > 1800:
                    raise SystemExit("the backup took over 30 minutes")
                time.sleep(0.1)
            platform = time.monotonic() - began
            if backup["status"] != "completed":
                raise SystemExit(f"the backup failed: {backup['error']}")
            taken = (datetime.fromisoformat(backup["completedAt"].replace("Z", "+00:00"))
                     - datetime.fromisoformat(backup["startedAt"].replace("Z", "+00:00"))).total_seconds()

            print(f"platform: backup+proof {platform:.1f} s (worker {taken:.1f} s), {int(size) / 1e6:.0f} MB, "
                  f"{backup['verification']['rows']} rows", flush=True)
            dump = os.path.join(tmp, "by-hand.dump")
            began = time.monotonic()
            try:
                # Over the databases' unix sockets, as the platform's own tools: their forwarded
                # TCP ports stall on this host's pasta when a reader falls behind (see the note).
                subprocess.run(["pg_dump", "-Fc", "-f", dump, over_socket(source_url, data, source)],
                               check=True, timeout=BY_HAND_WITHIN)
                subprocess.run(["pg_restore", "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error",
                                "-d", over_socket(target_url, data, target), dump], check=True, timeout=BY_HAND_WITHIN)
            except subprocess.TimeoutExpired as e:
                print(f"by hand: `{e.cmd[0]}` stalled past {BY_HAND_WITHIN} s; no comparison", flush=True)
                sys.exit(2)
            by_hand = time.monotonic() - began
        finally:
            server.stop()
    ratio = platform / by_hand
    print(f"{'database MB':>11}  {'rows':>7}  {'backup+proof s':>14}  {'(worker s)':>10}  {'by hand s':>9}  {'ratio':>5}  {'bound':>5}")
    print(f"{int(size) / 1e6:>11.0f}  {backup['verification']['rows']:>7}  {platform:>14.1f}  {taken:>10.1f}  "
          f"{by_hand:>9.1f}  {ratio:>5.2f}  {BOUND:>5.1f}")
    print("By hand: pg_dump -Fc to a file, then pg_restore into another database (no comparison). "
          "The platform also seals the file and compares every table's rows with the source's snapshot.")
    sys.exit(1 if ratio > BOUND else 0)


if __name__ == "__main__":
    main()
