"""What the benches share: a `shipyard serve` of their own with a bootstrapped admin, the API
client, and fixture git repositories."""

import json
import os
import re
import socket
import subprocess
import time
import urllib.request


def sh(cmd, cwd=None, env=None):
    subprocess.run(cmd, cwd=cwd, env=env, shell=True, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def process_tree(pid):
    """`pid` and every process below it: {pid: CPU clock ticks (user + system) used so far}."""
    parents, ticks = {}, {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents.setdefault(int(fields[1]), []).append(int(entry))
            ticks[int(entry)] = int(fields[11]) + int(fields[12])
    tree, todo = {}, [pid]
    while todo:
        p = todo.pop()
        tree[p] = ticks.get(p, 0)
        todo.extend(parents.get(p, []))
    return tree


def tree_ticks(pid):
    """CPU clock ticks used so far by `pid` and every process below it."""
    return sum(process_tree(pid).values())


def settle(pid, quiet=0.1, window=0.3, longest=20.0):
    """Waits (at most `longest` s) until `pid`'s process tree uses under `quiet` of a core over
    `window` s: work a measured step left behind (cache snapshots, draining instances, pruning)
    must not run into the next measured step, whichever side that is."""
    deadline = time.monotonic() + longest
    hz = os.sysconf("SC_CLK_TCK")
    while time.monotonic() < deadline:
        before = tree_ticks(pid)
        time.sleep(window)
        if (tree_ticks(pid) - before) / hz < quiet * window:
            return


def make_repo(path, files):
    """A git repository at `path` holding `files` (relative path → text), committed on main;
    a package.json gets its lockfile."""
    for rel, text in files.items():
        full = os.path.join(path, rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "w") as f:
            f.write(text)
    if "package.json" in files:
        sh("npm install --package-lock-only --no-audit --no-fund", cwd=path)
    sh("git init -q -b main && git add -A && git -c user.name=b -c user.email=b@e commit -qm bench", cwd=path)
    # The server reads local repositories as `nobody`: every directory above must let others in.
    above, wanted = os.path.abspath(path), 0o055
    while True:
        mode = os.stat(above).st_mode
        if mode & wanted != wanted:
            os.chmod(above, mode | wanted)
        if above == "/":
            break
        above, wanted = os.path.dirname(above), 0o011
    return path


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """The HTTP API with a bearer token."""

    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.token}", "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            return json.loads(resp.read() or b"null")

    def frames(self, path):
        """The JSON frames of an SSE stream at `path`, as they arrive (a generator)."""
        req = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {self.token}"})
        with urllib.request.urlopen(req, timeout=600) as resp:
            for raw in resp:
                if raw.startswith(b"data:"):
                    yield json.loads(raw[5:])


class Server:
    """`shipyard serve` on a free loopback port over `data` (prefix: e.g. taskset), with an admin
    and their workspace; stop() ends it by its PID."""

    def __init__(self, binary, data, args=(), prefix=()):
        self.proc = subprocess.Popen([*prefix, binary, "serve", "--listen", "127.0.0.1:0", "--data-dir", data, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline()
        found = re.search(r"http://[\d.:]+", line)
        if not found:
            self.stop()
            raise SystemExit(f"shipyard serve did not start: {line!r}")
        self.base = found.group(0)
        token = subprocess.run([binary, "admin", "bootstrap", "--data-dir", data, "--email", "bench@example.com",
                                "--workspace", "Bench"], capture_output=True, text=True, check=True).stdout.strip()
        self.api = Api(self.base, token)
        self.tenant = self.api.call("GET", "/auth/me")["memberships"][0]["tenantId"]

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)

    def deploy(self, name, kind, repo, config=None):
        """A project `name` from `repo`, deployed and ready: (project, its environment's runtime view, host)."""
        t = self.tenant
        conn = self.api.call("POST", f"/tenants/{t}/repository-connections", {"provider": "git", "url": f"file://{repo}"})
        body = {"name": name, "type": kind, "repositoryConnectionId": conn["id"]}
        if config:
            body["config"] = config
        project = self.api.call("POST", f"/tenants/{t}/projects", body)
        env = project["environments"][0]["id"]
        dep = self.api.call("POST", f"/tenants/{t}/projects/{project['id']}/environments/{env}/deployments", {})
        deadline = time.monotonic() + 300
        while (view := self.api.call("GET", f"/tenants/{t}/deployments/{dep['id']}"))["status"] != "ready":
            if view["status"] in ("failed", "canceled") or time.monotonic() > deadline:
                raise SystemExit(f"deploying {name}: {view['status']} {view.get('error')}")
            time.sleep(0.2)
        runtime = self.api.call("GET", f"/tenants/{t}/projects/{project['id']}/environments/{env}/runtime")
        host = re.match(r"http://([^:/]+)", project["environments"][0]["url"]).group(1)
        return project, runtime, host
