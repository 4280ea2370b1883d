"""The console's speed and weight with 200 projects in the workspace: how long the server takes
to answer the dashboard, a project's page and a deployment's page (p50/p95 of 50 requests each,
over loopback, so it bounds the render time from above), and how many bytes the dashboard
transfers with its stylesheet and script. Exit 1 on a missed target."""

import http.cookiejar
import json
import os
import re
import statistics
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from serve import Server, make_repo  # noqa: E402

PROJECTS, DEPLOYED, SAMPLES = 200, 20, 50
RENDER_MS, DASHBOARD_KB = 20.0, 60.0


class Visitor:
    """A browser's session: a cookie jar, and HTML pages fetched as a browser asks for them."""

    def __init__(self, base):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def json(self, method, path, body=None):
        req = urllib.request.Request(self.base + path, data=json.dumps(body).encode() if body is not None else None,
                                     method=method, headers={"content-type": "application/json"})
        with self.opener.open(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    def page(self, path):
        req = urllib.request.Request(self.base + path, headers={"accept": "text/html"})
        with self.opener.open(req, timeout=60) as resp:
            return resp.read()


def timed(visitor, path):
    for _ in range(5):
        visitor.page(path)
    samples = []
    for _ in range(SAMPLES):
        start = time.perf_counter()
        visitor.page(path)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main(binary):
    with tempfile.TemporaryDirectory(prefix="console-bench-") as tmp:
        server = Server(binary, os.path.join(tmp, "data"), args=["--allow-signup"])
        try:
            v = Visitor(server.base)
            me = v.json("POST", "/auth/signup", {"email": "ada@example.com", "password": "correct horse battery",
                                                  "workspaceName": "Console bench"})
            t = me["memberships"][0]["tenantId"]
            repo = make_repo(os.path.join(tmp, "site"), {"index.html": "<h1>hello</h1>"})
            conn = v.json("POST", f"/tenants/{t}/repository-connections", {"provider": "git", "url": f"file://{repo}"})
            projects = [v.json("POST", f"/tenants/{t}/projects",
                               {"name": f"app {i:03}", "type": "static", "repositoryConnectionId": conn["id"]})
                        for i in range(PROJECTS)]
            deployments = []
            for p in projects[:DEPLOYED]:
                env = p["environments"][0]["id"]
                deployments.append(v.json("POST", f"/tenants/{t}/projects/{p['id']}/environments/{env}/deployments", {}))
            deadline = time.monotonic() + 600
            for d in deployments:
                while v.json("GET", f"/tenants/{t}/deployments/{d['id']}")["status"] not in ("ready", "failed", "canceled"):
                    if time.monotonic() > deadline:
                        raise SystemExit("deployments did not finish within 600 s")
                    time.sleep(0.2)

            pages = {
                "dashboard": f"/app/{t}",
                "project": f"/app/{t}/projects/{projects[0]['id']}",
                "deployment": f"/app/{t}/deployments/{deployments[0]['id']}",
            }
            times = {name: timed(v, path) for name, path in pages.items()}
            html = v.page(pages["dashboard"])
            assets = re.findall(rb'(?:href|src)="(/app/static/[^"]+)"', html)
            asset_bytes = sum(len(v.page(a.decode())) for a in assets)
        finally:
            server.stop()

    misses = []
    print(f"{'page (200 projects)':28} {'p50 ms':>8} {'p95 ms':>8}   target")
    for name, (p50, p95) in times.items():
        print(f"{name:28} {p50:8.2f} {p95:8.2f}   p95 <= {RENDER_MS:.0f} ms")
        if p95 > RENDER_MS:
            misses.append(f"{name} p95 {p95:.1f} ms")
    total_kb = (len(html) + asset_bytes) / 1024
    print(f"{'dashboard bytes':28} {len(html) / 1024:8.1f} KB HTML + {asset_bytes / 1024:.1f} KB CSS/JS "
          f"= {total_kb:.1f} KB   target <= {DASHBOARD_KB:.0f} KB")
    if total_kb > DASHBOARD_KB:
        misses.append(f"dashboard {total_kb:.1f} KB")
    if misses:
        print("MISSED: " + "; ".join(misses))
        sys.exit(1)


if __name__ == "__main__":
    main(sys.argv[1])
