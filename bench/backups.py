"""Backup and proof of a 100 MB database against dump and restore by hand: see backups.sh."""

import os
import subprocess
import sys
import tempfile
import time
from datetime import datetime

from serve import Server

BOUND = 3.0
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


def psql(url, sql):
    subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-Atc", sql], check=True, capture_output=True)


def main():
    binary = sys.argv[1]
    limits = {"memoryMb": 256, "diskMb": 1024}
    with tempfile.TemporaryDirectory(prefix="bench-backups-") as tmp:
        server = Server(binary, os.path.join(tmp, "data"))
        try:
            api, tenant = server.api, server.tenant
            source, source_url = running(api, tenant, {"name": "source", "engine": "postgres", "limits": limits})
            _, target_url = running(api, tenant, {"name": "by-hand", "engine": "postgres", "limits": limits})
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

            dump = os.path.join(tmp, "by-hand.dump")
            began = time.monotonic()
            subprocess.run(["pg_dump", "-Fc", "-f", dump, source_url], check=True)
            subprocess.run(["pg_restore", "--no-owner", "--no-acl", "--single-transaction", "--exit-on-error",
                            "-d", target_url, dump], check=True)
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
