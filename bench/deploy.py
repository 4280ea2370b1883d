"""Measures deploys (and rollbacks) through Shipyard against the same work done by hand. See deploy.sh."""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN, RUNS = sys.argv[1], int(sys.argv[2])
WORK = tempfile.mkdtemp(prefix="shipyard-bench-")
os.chmod(WORK, 0o755)

APPS = {
    "static": {
        "type": "static",
        "files": {"index.html": "<h1>bench</h1>\n"},
        "config": {"build": {"outputDirectory": "."}},
        "hand": [],
    },
    "express": {
        "type": "node",
        "files": {
            "package.json": json.dumps({"name": "api", "version": "1.0.0", "private": True,
                                        "scripts": {"start": "node server.js"}, "dependencies": {"express": "4.21.2"}}),
            "server.js": "require('express')().listen(process.env.PORT || 3000);\n",
        },
        "config": None,
        "hand": ["npm ci"],
    },
    "vite": {
        "type": "react",
        "files": {
            "package.json": json.dumps({"name": "web", "private": True, "type": "module", "scripts": {"build": "vite build"},
                                        "dependencies": {"react": "18.3.1", "react-dom": "18.3.1"},
                                        "devDependencies": {"vite": "5.4.11"}}),
            "index.html": '<!doctype html><div id="root"></div><script type="module" src="/src/main.jsx"></script>\n',
            "src/main.jsx": "import React from 'react';\nimport { createRoot } from 'react-dom/client';\n"
                            "createRoot(document.getElementById('root')).render(<h1>bench</h1>);\n",
        },
        "config": None,
        "hand": ["npm ci", "npm run build"],
    },
}


def sh(cmd, cwd=None, env=None):
    subprocess.run(cmd, cwd=cwd, env=env, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_repo(name, app):
    path = os.path.join(WORK, "repos", name)
    for rel, text in app["files"].items():
        full = os.path.join(path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    if "package.json" in app["files"]:
        sh("npm install --package-lock-only --no-audit --no-fund", cwd=path)
    sh("git init -q -b main && git add -A && git -c user.name=b -c user.email=b@e commit -qm bench", cwd=path)
    return path


def by_hand(repo, app, cache):
    """Clone + install + build in a fresh directory with `cache` as npm's cache."""
    target = tempfile.mkdtemp(dir=WORK)
    env = dict(os.environ, npm_config_cache=cache, CI="true")
    start = time.monotonic()
    sh(f"git clone -q file://{repo} {target}/app", env=env)
    for command in app["hand"]:
        sh(command, cwd=f"{target}/app", env=env)
    elapsed = time.monotonic() - start
    shutil.rmtree(target, ignore_errors=True)
    return elapsed


class Api:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.token}", "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")


def platform_deploy(api, tenant, project, env):
    start = time.monotonic()
    dep = api.call("POST", f"/tenants/{tenant}/projects/{project}/environments/{env}/deployments", {})
    deadline = start + 600
    while True:
        view = api.call("GET", f"/tenants/{tenant}/deployments/{dep['id']}")
        if view["status"] in ("ready", "failed", "canceled"):
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"deployment {dep['id']} did not finish in 600 s")
        time.sleep(0.05)
    elapsed = time.monotonic() - start
    if view["status"] != "ready":
        raise SystemExit(f"deployment failed: {view['error']}")
    lines = api.call("GET", f"/tenants/{tenant}/deployments/{dep['id']}/logs?limit=10000")["items"]
    return elapsed, install_seconds(lines)


def wait_for_snapshot(data, project, node):
    """node_modules is copied into the cache just after ready; a warm build wants it there."""
    target = os.path.join(data, "cache", project, "files", "node_modules")
    for _ in range(100 if node else 0):
        if os.path.isdir(target):
            return
        time.sleep(0.1)


def install_seconds(lines):
    """Time from the install command's line to the next system line after its output."""
    stamps = [(l["at"], l["line"]) for l in lines if l["stream"] == "system"]
    for i, (at, line) in enumerate(stamps):
        if line.startswith("$ npm") and "run build" not in line:
            end = stamps[i + 1][0] if i + 1 < len(stamps) else at
            return parse(end) - parse(at)
    return 0.0


def parse(stamp):
    whole, frac = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z", stamp).groups()
    return time.mktime(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


def fetch_live(base, host):
    req = urllib.request.Request(base + "/", headers={"Host": host})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.read().decode()
    except OSError:
        return ""


def wait_live(base, host, text, start):
    """Seconds from `start` until the live URL serves `text` (bounded: 60 s)."""
    while text not in fetch_live(base, host):
        if time.monotonic() - start > 60:
            raise SystemExit(f"{host} did not serve {text!r} within 60 s")
        time.sleep(0.005)
    return time.monotonic() - start


def live_rows(api, tenant, base, conn, repo):
    """POST deploy → the live URL serves the new body, and POST rollback → the old one, for the
    static site; beside the same by hand (clone + copy into a served directory, and a symlink
    swap)."""
    body = {"name": "live", "type": "static", "repositoryConnectionId": conn,
            "config": {"build": {"outputDirectory": "."}}}
    project = api.call("POST", f"/tenants/{tenant}/projects", body)
    env = project["environments"][0]["id"]
    host = re.match(r"http://([^:/]+)", project["environments"][0]["url"]).group(1)
    deploys, rollbacks, hand_deploys, hand_swaps = [], [], [], []
    served = os.path.join(WORK, "served")

    def publish(text):
        with open(os.path.join(repo, "index.html"), "w") as f:
            f.write(f"<h1>{text}</h1>\n")
        sh(f"git add -A && git -c user.name=b -c user.email=b@e commit -qm '{text}'", cwd=repo)

    def active_release():
        path = f"/tenants/{tenant}/projects/{project['id']}/releases?environmentId={env}"
        return next(r["id"] for r in api.call("GET", path)["items"] if r["status"] == "active")

    publish("live-0")
    platform_deploy(api, tenant, project["id"], env)
    previous = active_release()
    for run in range(1, RUNS + 1):
        publish(f"live-{run}")
        start = time.monotonic()
        dep = api.call("POST", f"/tenants/{tenant}/projects/{project['id']}/environments/{env}/deployments", {})
        deploys.append(wait_live(base, host, f"live-{run}", start))
        # Its release is the next run's rollback target (ready follows the route by a commit).
        current = None
        while not current:
            current = api.call("GET", f"/tenants/{tenant}/deployments/{dep['id']}")["releaseId"]
            time.sleep(0.01)
        start = time.monotonic()
        api.call("POST", f"/tenants/{tenant}/rollback", {"releaseId": previous, "reason": "bench"})
        rollbacks.append(wait_live(base, host, f"live-{run - 1}", start))
        previous = current
        # By hand: clone and copy into a fresh directory, then swap a `current` link to it.
        target = tempfile.mkdtemp(dir=WORK)
        start = time.monotonic()
        sh(f"git clone -q file://{repo} {target}/app && cp -r {target}/app/. {target}/site")
        hand_deploys.append(time.monotonic() - start)
        start = time.monotonic()
        sh(f"ln -sfn {target}/site {served}.new && mv -T {served}.new {served}")
        hand_swaps.append(time.monotonic() - start)
    m = statistics.median
    return m(deploys), m(rollbacks), m(hand_deploys), m(hand_swaps)


def main():
    data = os.path.join(WORK, "data")
    server = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--data-dir", data],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        line = server.stdout.readline()
        base = re.search(r"http://[\d.:]+", line).group(0)
        token = subprocess.run([BIN, "admin", "bootstrap", "--data-dir", data, "--email", "bench@example.com",
                                "--workspace", "Bench"], capture_output=True, text=True, check=True).stdout.strip()
        api = Api(base, token)
        tenant = api.call("GET", "/auth/me")["memberships"][0]["tenantId"]
        rows, failures = [], []
        for name, app in APPS.items():
            repo = make_repo(name, app)
            conn = api.call("POST", f"/tenants/{tenant}/repository-connections", {"provider": "git", "url": f"file://{repo}"})
            cold, warm, cold_install, warm_install, hand_cold, hand_warm = [], [], [], [], [], []
            for run in range(RUNS):
                body = {"name": f"{name}-{run}", "type": app["type"], "repositoryConnectionId": conn["id"]}
                if app["config"]:
                    body["config"] = app["config"]
                project = api.call("POST", f"/tenants/{tenant}/projects", body)
                env = project["environments"][0]["id"]
                cache = tempfile.mkdtemp(dir=WORK)

                def platform_pair():
                    t, i = platform_deploy(api, tenant, project["id"], env)
                    cold.append(t); cold_install.append(i)
                    wait_for_snapshot(data, project["id"], "package.json" in app["files"])
                    t, i = platform_deploy(api, tenant, project["id"], env)
                    warm.append(t); warm_install.append(i)

                def hand_pair():
                    hand_cold.append(by_hand(repo, app, cache))
                    hand_warm.append(by_hand(repo, app, cache))

                # Whoever goes first pays for the registry's (and its proxy's) cold caches:
                # alternate, so neither side always gets the warm one.
                for measure in ((platform_pair, hand_pair) if run % 2 == 0 else (hand_pair, platform_pair)):
                    measure()
            m = statistics.median
            row = {
                "app": name, "hand_cold": m(hand_cold), "platform_cold": m(cold), "hand_warm": m(hand_warm),
                "platform_warm": m(warm), "install_cold": m(cold_install), "install_warm": m(warm_install),
            }
            rows.append(row)
            if name == "static":
                if row["platform_cold"] - row["hand_cold"] > 1.0:
                    failures.append(f"static: platform adds {row['platform_cold'] - row['hand_cold']:.2f} s (target ≤ 1 s)")
            else:
                for phase in ("cold", "warm"):
                    overhead = row[f"platform_{phase}"] / row[f"hand_{phase}"]
                    row[f"overhead_{phase}"] = overhead
                    if overhead > 1.10:
                        failures.append(f"{name}: platform/hand ({phase}) {overhead:.2f}x (target ≤ 1.10x)")
                ratio = row["install_cold"] / row["install_warm"] if row["install_warm"] else float("inf")
                row["install_ratio"] = ratio
                if ratio < 3.0:
                    failures.append(f"{name}: install warm/cold speed-up {ratio:.1f}x (target ≥ 3x)")
        static_repo = os.path.join(WORK, "repos", "static")
        static_conn = api.call("POST", f"/tenants/{tenant}/repository-connections",
                               {"provider": "git", "url": f"file://{static_repo}"})
        live_deploy, live_rollback, hand_deploy, hand_swap = live_rows(api, tenant, base, static_conn["id"], static_repo)
        if live_deploy > 1.0:
            failures.append(f"static: deploy → live {live_deploy:.2f} s (target ≤ 1 s)")
        if live_rollback > 0.5:
            failures.append(f"static: rollback → live {live_rollback:.2f} s (target ≤ 0.5 s)")
        print(f"deploy benchmark, median of {RUNS} runs, seconds (POST → ready vs clone+install+build by hand)")
        print(f"{'app':<9}{'hand cold':>10}{'ship cold':>10}{'ratio':>7}{'hand warm':>10}{'ship warm':>10}{'ratio':>7}"
              f"{'inst cold':>10}{'inst warm':>10}{'inst x':>8}")
        for r in rows:
            print(f"{r['app']:<9}{r['hand_cold']:>10.2f}{r['platform_cold']:>10.2f}"
                  f"{r['platform_cold'] / max(r['hand_cold'], 1e-3):>6.2f}x"
                  f"{r['hand_warm']:>10.2f}{r['platform_warm']:>10.2f}{r['platform_warm'] / max(r['hand_warm'], 1e-3):>6.2f}x"
                  f"{r['install_cold']:>10.2f}{r['install_warm']:>10.2f}{r.get('install_ratio', 0):>7.1f}x")
        print(f"{'static':<9}{'deploy → live':>20}{live_deploy:>8.2f}   (by hand: clone + copy {hand_deploy:.2f}; target ≤ 1 s)")
        print(f"{'static':<9}{'rollback → live':>20}{live_rollback:>8.2f}   (by hand: symlink swap {hand_swap:.3f}; target ≤ 0.5 s)")
        for failure in failures:
            print(f"MISSED: {failure}")
        return 1 if failures else 0
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(WORK, ignore_errors=True)


sys.exit(main())
