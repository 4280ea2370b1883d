"""Idle memory of managed databases: see databases.sh."""

import os
import subprocess
import sys
import tempfile
import time

from serve import Api, Server

TARGET_MB = 40.0


def processes_of(database):
    """Pids of the database's processes: `postgres` in a limit group named after it."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/comm") as f:
                comm = f.read().strip()
            with open(f"/proc/{entry}/cgroup") as f:
                groups = f.read()
        except OSError:
            continue
        if comm == "postgres" and f"/{database}-" in groups:
            found.append(int(entry))
    return found


def memory_kib(pids):
    """(PSS, RSS) of `pids` together, KiB."""
    pss = rss = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        pss += int(line.split()[1])
                    elif line.startswith("Rss:"):
                        rss += int(line.split()[1])
        except OSError:
            continue
    return pss, rss


def wait_running(ids):
    deadline = time.monotonic() + 300
    for api, tenant, db in ids:
        while (view := api.call("GET", f"/tenants/{tenant}/databases/{db}"))["status"] != "running":
            if view["status"] == "failed" or time.monotonic() > deadline:
                raise SystemExit(f"database {db}: {view['status']} {view.get('error')}")
            time.sleep(0.2)


def measure(ids):
    time.sleep(5)  # idle: start-up work (the first checkpoint, autovacuum's launch) is done
    per = [memory_kib(processes_of(db)) for db in ids]
    return sum(p for p, _ in per) / len(per) / 1024, sum(r for _, r in per) / len(per) / 1024


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="bench-databases-") as tmp:
        server = Server(binary, os.path.join(tmp, "data"), args=["--allow-signup"])
        try:
            # A workspace holds five by default: ten go into two workspaces.
            token = subprocess.run([binary, "admin", "bootstrap", "--data-dir", os.path.join(tmp, "data"),
                                    "--email", "bench2@example.com", "--workspace", "Bench 2"],
                                   capture_output=True, text=True, check=True).stdout.strip()
            second = Api(server.base, token)
            workspaces = [(server.api, server.tenant),
                          (second, second.call("GET", "/auth/me")["memberships"][0]["tenantId"])]
            rows, ids = [], []
            for count in (1, 10):
                while len(ids) < count:
                    api, tenant = workspaces[len(ids) % 2]
                    made = api.call("POST", f"/tenants/{tenant}/databases",
                                    {"name": f"bench-{len(ids)}", "engine": "postgres"})
                    ids.append((api, tenant, made["id"]))
                wait_running(ids)
                pss, rss = measure([db for _, _, db in ids])
                rows.append((count, pss, rss))
        finally:
            server.stop()
    print(f"{'databases':>9}  {'PSS MB each':>11}  {'RSS MB each':>11}  {'target MB':>9}  {'ratio':>5}")
    missed = False
    for count, pss, rss in rows:
        ratio = pss / TARGET_MB
        missed |= ratio > 1.0
        print(f"{count:>9}  {pss:>11.1f}  {rss:>11.1f}  {TARGET_MB:>9.0f}  {ratio:>5.2f}")
    print("PSS counts each shared page once (the shared buffers a server's processes share); RSS counts it per process.")
    sys.exit(1 if missed else 0)


if __name__ == "__main__":
    main()
