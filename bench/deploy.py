"""Measures deploys (and rollbacks) through Shipyard against the same work done by hand. See deploy.sh."""

import calendar
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from serve import Server, free_port, make_repo, settle, sh

BIN, RUNS = sys.argv[1], int(sys.argv[2])
# The phases of a cold deploy the table compares (see `phases`).
PHASES = ("fetch", "install", "build", "artifact", "live")
# Warm deploy → live against the same work by hand (#38).
WARM_TARGETS = {"express": 0.30, "vite": 0.50}
WORK = tempfile.mkdtemp(prefix="shipyard-bench-")
os.chmod(WORK, 0o755)

APPS = {
    "static": {
        "type": "static",
        "files": {"index.html": "<h1>bench</h1>\n"},
        "marker": ("index.html", "<h1>{}</h1>\n"),
        "config": {"build": {"outputDirectory": "."}},
        "hand": [],
    },
    "express": {
        "type": "node",
        "files": {
            "package.json": json.dumps({"name": "api", "version": "1.0.0", "private": True,
                                        "scripts": {"start": "node server.js"}, "dependencies": {"express": "4.21.2"}}),
            "server.js": "const body = require('fs').readFileSync('body.txt', 'utf8');\n"
                         "require('express')().get('/', (q, r) => r.send(body)).listen(process.env.PORT || 3000);\n",
            "body.txt": "bench\n",
        },
        "marker": ("body.txt", "{}\n"),
        "config": None,
        "hand": ["npm ci"],
        # By hand it starts with the command the platform runs (the project's startCommand,
        # filled in below from detection), so both sides start the same way.
        "start": None,
    },
    "vite": {
        "type": "react",
        "files": {
            "package.json": json.dumps({"name": "web", "private": True, "type": "module", "scripts": {"build": "vite build"},
                                        "dependencies": {"react": "18.3.1", "react-dom": "18.3.1"},
                                        "devDependencies": {"vite": "5.4.11"}}),
            "index.html": '<!doctype html><title>bench</title><div id="root"></div><script type="module" src="/src/main.jsx"></script>\n',
            "src/main.jsx": "import React from 'react';\nimport { createRoot } from 'react-dom/client';\n"
                            "createRoot(document.getElementById('root')).render(<h1>bench</h1>);\n",
        },
        "marker": ("index.html", '<!doctype html><title>{}</title><div id="root"></div>'
                                 '<script type="module" src="/src/main.jsx"></script>\n'),
        "config": None,
        "hand": ["npm ci", "npm run build"],
    },
}


def publish(repo, app, text):
    """Commits `text` as the app's visible content (its marker file)."""
    name, template = app["marker"]
    with open(os.path.join(repo, name), "w") as f:
        f.write(template.format(text))
    sh(f"git add -A && git -c user.name=b -c user.email=b@e commit -qm '{text}'", cwd=repo)


def stop(proc):
    """Stops a server started by `start_and_wait` and everything it started."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def start_and_wait(cwd, command, text, env):
    """Starts a server the way the platform does and waits until it answers `text`; returns
    the seconds that took and the process (to stop)."""
    port = free_port()
    start = time.monotonic()
    # A session of its own: stopped as a group (npm's child node with it) by its leader's PID.
    proc = subprocess.Popen(f"exec {command}", cwd=cwd, shell=True, env=dict(env, PORT=str(port)),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    while text not in fetch_url(f"http://127.0.0.1:{port}/"):
        if time.monotonic() - start > 60 or proc.poll() is not None:
            stop(proc)
            raise SystemExit(f"`{command}` did not answer {text!r}")
        time.sleep(0.005)
    return time.monotonic() - start, proc


def by_hand(repo, app, cache, text):
    """Clone + install + build in a fresh directory with `cache` as npm's cache, then (for a
    server) start it and wait until it answers `text`. Returns the total seconds, the server's
    own start-to-answer seconds (0 for sites), the install's seconds and each phase's."""
    target = tempfile.mkdtemp(dir=WORK)
    env = dict(os.environ, npm_config_cache=cache, CI="true")
    start = time.monotonic()
    sh(f"git clone -q file://{repo} {target}/app", env=env)
    phases = {"fetch": time.monotonic() - start}
    install = 0.0
    for command in app["hand"]:
        began = time.monotonic()
        sh(command, cwd=f"{target}/app", env=env)
        phases["install" if command == "npm ci" else "build"] = time.monotonic() - began
        if command == "npm ci":
            install = time.monotonic() - began
    boot = 0.0
    if "start" in app:
        boot, proc = start_and_wait(f"{target}/app", app["start"], text, env)
        phases["live"] = boot
    elapsed = time.monotonic() - start
    if "start" in app:
        stop(proc)
    shutil.rmtree(target, ignore_errors=True)
    return elapsed, boot, install, phases


# What the platform runs beside an app's own processes: the sandbox's supervisors and, on
# pasta's path, its relay.
HELPERS = ("bwrap", "pasta", "passt", "passt.avx2")


def helper_memory(server_pid):
    """(PSS in MB of the platform's helper processes, how many instances they serve): every
    descendant of the server whose command is one of HELPERS. An instance is a helper's child
    that is not a helper itself (the app's own process tree hangs below it)."""
    parents, names = {}, {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        names[int(entry)] = stat[stat.index("(") + 1:stat.rindex(")")]
        parents[int(entry)] = int(stat[stat.rindex(")") + 2:].split()[1])
    def descends(pid):
        while pid > 1:
            pid = parents.get(pid, 0)
            if pid == server_pid:
                return True
        return False
    helpers = [p for p in names if names[p] in HELPERS and descends(p)]
    apps = [p for p in names if names[p] not in HELPERS and parents.get(p) in helpers]
    pss = 0
    for pid in helpers:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                pss += next(int(l.split()[1]) for l in f if l.startswith("Pss:"))
        except (OSError, StopIteration):
            pass
    return pss / 1024, len(apps)


def platform_deploy(api, base, tenant, project, text):
    """POST deploy → the live URL serves `text`; returns those seconds, the install's seconds
    and the release."""
    env = project["environments"][0]["id"]
    host = re.match(r"http://([^:/]+)", project["environments"][0]["url"]).group(1)
    start, posted = time.monotonic(), time.time()
    dep = api.call("POST", f"/tenants/{tenant}/projects/{project['id']}/environments/{env}/deployments", {})
    # The deployment's status comes from its SSE stream, as the CLI follows it, so that nothing
    # polls the API during the build; the live URL is polled (every 5 ms, like the by-hand
    # side) only once the app is being started (`deploying`).
    starting, ended = threading.Event(), []

    def follow():
        try:
            for frame in api.frames(f"/tenants/{tenant}/deployments/{dep['id']}/stream"):
                if frame["type"] == "status" and frame["status"] in ("deploying", "ready"):
                    starting.set()
                if frame["type"] == "done":
                    ended.append(frame["status"])
                    break
        except OSError as err:
            ended.append(f"stream broke: {err}")
        starting.set()

    watcher = threading.Thread(target=follow, daemon=True)
    watcher.start()
    if not starting.wait(timeout=600):
        raise SystemExit(f"deployment {dep['id']} was not deploying in 600 s")
    deadline = start + 600
    while text not in fetch_live(base, host):
        if ended and ended[0] != "ready":
            view = api.call("GET", f"/tenants/{tenant}/deployments/{dep['id']}")
            raise SystemExit(f"deployment {dep['id']} {ended[0]}: {view['error']}")
        if time.monotonic() > deadline:
            raise SystemExit(f"deployment {dep['id']} was not live in 600 s")
        time.sleep(0.005)
    elapsed = time.monotonic() - start
    # The new content is served a moment before the deployment is `ready` (its activation
    # ends after the route swap); a rollback in that moment is 409, as the API says.
    watcher.join(timeout=60)
    if ended != ["ready"]:
        raise SystemExit(f"deployment {dep['id']} served its content but ended {ended}")
    view = api.call("GET", f"/tenants/{tenant}/deployments/{dep['id']}")
    lines = api.call("GET", f"/tenants/{tenant}/deployments/{dep['id']}/logs?limit=10000")["items"]
    return elapsed, install_seconds(lines), view["releaseId"], phases(lines, posted, posted + elapsed)


def phases(lines, posted, live):
    """Each phase of a deploy, in seconds, from its system lines' times (the server's clock, as
    `posted` and `live` are this machine's): fetch (POST → the commit line), install and build
    (their command's line → the next system line), artifact (the last step's end → the release
    stored), live (→ the URL serves the new content)."""
    stamps = [(parse(l["at"]), l["line"]) for l in lines if l["stream"] == "system"]
    found = {}
    for i, (at, line) in enumerate(stamps):
        following = stamps[i + 1][0] if i + 1 < len(stamps) else at
        if line.startswith("Commit ") and "fetch" not in found:
            found["fetch"] = at - posted
        elif line.startswith("$ npm") and "run build" not in line:
            found["install"] = following - at
            found["steps_end"] = following
        elif line.startswith("$ npm run build"):
            found["build"] = following - at
            found["steps_end"] = following
        elif line.startswith("Artifact stored"):
            found["artifact"] = at - found.pop("steps_end", at)
            found["live"] = live - at
    found.pop("steps_end", None)
    return found


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
    """Seconds since the epoch of an RFC 3339 UTC time (`…Z`)."""
    whole, frac = re.match(r"(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?Z", stamp).groups()
    return calendar.timegm(time.strptime(whole, "%Y-%m-%dT%H:%M:%S")) + float("0." + (frac or "0"))


def fetch_url(url, host=None):
    req = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.read().decode()
    except OSError:
        return ""


def fetch_live(base, host):
    return fetch_url(base + "/", host)


def wait_live(base, host, text, start):
    """Seconds from `start` until the live URL serves `text` (bounded: 60 s)."""
    while text not in fetch_live(base, host):
        if time.monotonic() - start > 60:
            raise SystemExit(f"{host} did not serve {text!r} within 60 s")
        time.sleep(0.005)
    return time.monotonic() - start


def live_rows(api, tenant, base, conn, repo, app, name):
    """POST deploy → the live URL serves the new body, and POST rollback → the old one; for a
    static site also the same by hand (clone + copy into a served directory, and a symlink
    swap)."""
    body = {"name": f"live-{name}", "type": app["type"], "repositoryConnectionId": conn}
    if app["config"]:
        body["config"] = app["config"]
    project = api.call("POST", f"/tenants/{tenant}/projects", body)
    host = re.match(r"http://([^:/]+)", project["environments"][0]["url"]).group(1)
    deploys, rollbacks, hand_deploys, hand_swaps = [], [], [], []
    served = os.path.join(WORK, f"served-{name}")
    publish(repo, app, f"{name}-live-0")
    _, _, previous, _ = platform_deploy(api, base, tenant, project, f"{name}-live-0")
    for run in range(1, RUNS + 1):
        publish(repo, app, f"{name}-live-{run}")
        elapsed, _, current, _ = platform_deploy(api, base, tenant, project, f"{name}-live-{run}")
        deploys.append(elapsed)
        start = time.monotonic()
        api.call("POST", f"/tenants/{tenant}/rollback", {"releaseId": previous, "reason": "bench"})
        rollbacks.append(wait_live(base, host, f"{name}-live-{run - 1}", start))
        previous = current
        if name == "static":
            # By hand: clone and copy into a fresh directory, then swap a `current` link to it.
            target = tempfile.mkdtemp(dir=WORK)
            start = time.monotonic()
            sh(f"git clone -q file://{repo} {target}/app && cp -r {target}/app/. {target}/site")
            hand_deploys.append(time.monotonic() - start)
            start = time.monotonic()
            sh(f"ln -sfn {target}/site {served}.new && mv -T {served}.new {served}")
            hand_swaps.append(time.monotonic() - start)
    m = statistics.median
    return m(deploys), m(rollbacks), m(hand_deploys) if hand_deploys else 0.0, m(hand_swaps) if hand_swaps else 0.0


def main():
    data = os.path.join(WORK, "data")
    # SERVE_ARGS adds flags to `serve`, e.g. `--insecure-no-sandbox` to see what confinement costs.
    server = Server(BIN, data, os.environ.get("SERVE_ARGS", "").split())
    try:
        api, base, tenant = server.api, server.base, server.tenant
        rows, failures, conns, boots, paired = [], [], {}, [], {}
        for name, app in APPS.items():
            repo = make_repo(os.path.join(WORK, "repos", name), app["files"])
            conn = api.call("POST", f"/tenants/{tenant}/repository-connections", {"provider": "git", "url": f"file://{repo}"})
            conns[name] = (conn["id"], repo)
            cold, warm, cold_install, warm_install, hand_cold, hand_warm = [], [], [], [], [], []
            hand_install_cold, cold_phases, hand_phases = [], [], []
            for run in range(RUNS):
                body = {"name": f"{name}-{run}", "type": app["type"], "repositoryConnectionId": conn["id"]}
                if app["config"]:
                    body["config"] = app["config"]
                project = api.call("POST", f"/tenants/{tenant}/projects", body)
                if "start" in app:
                    app["start"] = project["config"]["runtime"]["startCommand"]
                cache = tempfile.mkdtemp(dir=WORK)

                def platform_cold():
                    publish(repo, app, f"{name}-{run}-ship-cold")
                    t, i, _, ph = platform_deploy(api, base, tenant, project, f"{name}-{run}-ship-cold")
                    cold.append(t); cold_install.append(i); cold_phases.append(ph)
                    wait_for_snapshot(data, project["id"], "package.json" in app["files"])

                def platform_warm():
                    publish(repo, app, f"{name}-{run}-ship-warm")
                    t, i, _, _ = platform_deploy(api, base, tenant, project, f"{name}-{run}-ship-warm")
                    warm.append(t); warm_install.append(i)

                def hand(phase, out):
                    def measure():
                        publish(repo, app, f"{name}-{run}-hand-{phase}")
                        elapsed, boot, install, ph = by_hand(repo, app, cache, f"{name}-{run}-hand-{phase}")
                        out.append(elapsed)
                        if phase == "cold":
                            hand_install_cold.append(install)
                            hand_phases.append(ph)
                        if boot:
                            boots.append(boot)
                    return measure

                # The two sides' cold deploys run back to back, then their warm ones, so that
                # each compared pair meets the registry (and this machine's neighbours) in about
                # the same state. Whoever goes first pays for the registry's (and its proxy's)
                # cold caches: alternate, so neither side always gets the warm one.
                sides = [(platform_cold, platform_warm), (hand("cold", hand_cold), hand("warm", hand_warm))]
                if run % 2:
                    sides.reverse()
                for phase in (0, 1):
                    for side in sides:
                        settle(server.proc.pid)
                        side[phase]()
            if name != "static":
                paired[name] = list(zip(cold, hand_cold))
            m = statistics.median
            row = {
                "app": name, "hand_cold": m(hand_cold), "platform_cold": m(cold), "hand_warm": m(hand_warm),
                "platform_warm": m(warm), "install_cold": m(cold_install), "install_warm": m(warm_install),
                "hand_install_cold": m(hand_install_cold),
                "phases": {k: m(p.get(k, 0.0) for p in cold_phases) for k in PHASES},
                "hand_phases": {k: m(p.get(k, 0.0) for p in hand_phases) for k in PHASES},
            }
            rows.append(row)
            if name == "static":
                if row["platform_cold"] - row["hand_cold"] > 1.0:
                    failures.append(f"static: platform adds {row['platform_cold'] - row['hand_cold']:.2f} s (target ≤ 1 s)")
            else:
                # Cold: the ratio of the medians and the median of each round's ratio both.
                limits = {"cold": 1.05, "warm": WARM_TARGETS[name]}
                for phase, limit in limits.items():
                    overhead = row[f"platform_{phase}"] / row[f"hand_{phase}"]
                    if overhead > limit:
                        failures.append(f"{name}: deploy → live / by hand ({phase}) {overhead:.2f}x (target ≤ {limit:.2f}x)")
                rounds = statistics.median(p / h for p, h in zip(cold, hand_cold))
                if rounds > limits["cold"]:
                    failures.append(f"{name}: cold, median of the rounds' ratios {rounds:.2f}x (target ≤ 1.05x)")
                install = row["install_cold"] / row["hand_install_cold"]
                if install > 1.03:
                    failures.append(f"{name}: cold install / npm ci by hand {install:.2f}x (target ≤ 1.03x)")
                ratio = row["install_cold"] / row["install_warm"] if row["install_warm"] else float("inf")
                row["install_ratio"] = ratio
                if ratio < 3.0:
                    failures.append(f"{name}: install warm/cold speed-up {ratio:.1f}x (target ≥ 3x)")
        # Every project's last deploy is live now: RUNS static sites, RUNS Express apps (one
        # instance each) and RUNS Vite sites.
        helpers_mb, instances = helper_memory(server.proc.pid)
        per_app = helpers_mb / max(instances, 1)
        if instances == 0 or per_app > 2.0:
            failures.append(f"platform memory per running app {per_app:.2f} MB over {instances} instances (target ≤ 2 MB)")
        live_deploy, live_rollback, hand_deploy, hand_swap = live_rows(api, tenant, base, *conns["static"], APPS["static"], "static")
        if live_deploy > 1.0:
            failures.append(f"static: deploy → live {live_deploy:.2f} s (target ≤ 1 s)")
        if live_rollback > 0.5:
            failures.append(f"static: rollback → live {live_rollback:.2f} s (target ≤ 0.5 s)")
        _, server_rollback, _, _ = live_rows(api, tenant, base, *conns["express"], APPS["express"], "express")
        boot = statistics.median(boots)
        if server_rollback > boot + 0.5:
            failures.append(f"express: rollback → live {server_rollback:.2f} s (target ≤ its start-to-answer {boot:.2f} + 0.5 s)")
        print(f"deploy benchmark, median of {RUNS} runs, seconds: POST deploy → the live URL serves the new content,"
              " vs clone + install + build (+ start until it answers) by hand")
        print(f"{'app':<9}{'hand cold':>10}{'ship cold':>10}{'ratio':>7}{'hand warm':>10}{'ship warm':>10}{'ratio':>7}"
              f"{'inst cold':>10}{'inst warm':>10}{'inst x':>8}")
        for r in rows:
            print(f"{r['app']:<9}{r['hand_cold']:>10.2f}{r['platform_cold']:>10.2f}"
                  f"{r['platform_cold'] / max(r['hand_cold'], 1e-3):>6.2f}x"
                  f"{r['hand_warm']:>10.2f}{r['platform_warm']:>10.2f}{r['platform_warm'] / max(r['hand_warm'], 1e-3):>6.2f}x"
                  f"{r['install_cold']:>10.2f}{r['install_warm']:>10.2f}{r.get('install_ratio', 0):>7.1f}x")
        print(f"{'static':<9}{'deploy → live':>20}{live_deploy:>8.2f}   (by hand: clone + copy {hand_deploy:.2f}; target ≤ 1 s)")
        print(f"{'static':<9}{'rollback → live':>20}{live_rollback:>8.2f}   (by hand: symlink swap {hand_swap:.3f}; target ≤ 0.5 s)")
        print(f"{'express':<9}{'rollback → live':>20}{server_rollback:>8.2f}   (the app's own start-to-answer {boot:.2f}; "
              f"target ≤ {boot + 0.5:.2f} s)")
        # Where a cold deploy's time goes, beside the same parts by hand (install = `npm ci`).
        for r in rows:
            if r["app"] != "static":
                print(f"{r['app']:<9}{'cold, install':>20}{r['install_cold']:>8.2f}   (by hand {r['hand_install_cold']:.2f}); "
                      f"the rest {r['platform_cold'] - r['install_cold']:.2f} (by hand {r['hand_cold'] - r['hand_install_cold']:.2f})")
        # Each phase of a cold deploy beside the same phase by hand (medians; by hand has no
        # artifact to store, and its "live" is a server's start-to-answer).
        print(f"{'app':<9}{'cold phase':>20}{'ship':>8}{'hand':>8}")
        for r in rows:
            if r["app"] != "static":
                for k in PHASES:
                    ship, hand = r["phases"][k], r["hand_phases"][k]
                    if ship or hand:
                        print(f"{r['app']:<9}{k:>20}{ship:>8.2f}{hand:>8.2f}")
        # Each round's pair ran back to back: their ratios show how much of a median's gap is
        # the registry's speed drifting between rounds.
        for name, pairs in paired.items():
            ratios = [p / h for p, h in pairs]
            print(f"{name:<9}{'cold, each round':>20}  " + " ".join(f"{r:.2f}x" for r in ratios)
                  + f"   (their median {statistics.median(ratios):.2f}x)")
        print(f"{'memory':<9}{'helpers per app':>20}{per_app:>8.2f}   MB of PSS ({helpers_mb:.1f} MB for {instances} running "
              f"instances, with {RUNS} static and {RUNS} Vite sites live too; target ≤ 2 MB)")
        for failure in failures:
            print(f"MISSED: {failure}")
        return 1 if failures else 0
    finally:
        server.stop()
        shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
