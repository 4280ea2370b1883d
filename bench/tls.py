"""Twenty domains verified at once → each served over HTTPS: see tls.sh."""

import json
import os
import re
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

from serve import Server, free_port, make_repo

DOMAINS = 20
TARGET_P95 = 5.0


def openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def test_ca(work):
    """A CA of the bench's own and a certificate it signs for `localhost` (pebble's HTTPS)."""
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "2", "-subj", "/CN=bench CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign", cwd=work)
    openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "leaf.key",
            "-out", "leaf.csr", "-subj", "/CN=localhost", cwd=work)
    with open(os.path.join(work, "san.ext"), "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    openssl("x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out",
            "leaf.pem", "-days", "2", "-extfile", "san.ext", cwd=work)


def post(url, body, context=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                 headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=10, context=context) as resp:
        return resp.read()


def wait_answering(url, context, longest=20):
    deadline = time.monotonic() + longest
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2, context=context):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not answer in {longest} s")
            time.sleep(0.05)


def https_answers(port, host, context):
    """Whether `host` is answered over HTTPS at 127.0.0.1:`port` with a chain `context` trusts."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                tls.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
                return tls.recv(64).startswith(b"HTTP/1.1 200")
    except (OSError, ssl.SSLError):
        return False


def main():
    binary = sys.argv[1]
    work = tempfile.mkdtemp(prefix="shipyard-bench-tls-")
    test_ca(work)
    children, server = [], None
    try:
        dns_port, dns_mgmt = free_port(), free_port()
        children.append(subprocess.Popen(
            ["pebble-challtestsrv", "-dns01", f"127.0.0.1:{dns_port}", "-management", f"127.0.0.1:{dns_mgmt}",
             "-http01", "", "-https01", "", "-tlsalpn01", "", "-defaultIPv4", "", "-defaultIPv6", ""],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        acme_port, acme_mgmt = free_port(), free_port()
        directory = f"https://localhost:{acme_port}/dir"
        server = Server(binary, os.path.join(work, "data"), args=[
            "--dns-resolver", f"127.0.0.1:{dns_port}", "--public-address", "127.0.0.1",
            "--listen-tls", "127.0.0.1:0", "--acme-directory", directory,
            "--acme-ca-root", os.path.join(work, "ca.pem")])
        tls_port = None
        while tls_port is None:
            line = server.proc.stdout.readline()
            if not line:
                raise SystemExit("shipyard serve printed no HTTPS listener")
            found = re.search(r"listening for HTTPS on https://[\d.]+:(\d+)", line)
            tls_port = int(found.group(1)) if found else None
        plain_port = int(server.base.rsplit(":", 1)[1])
        with open(os.path.join(work, "pebble.json"), "w") as f:
            json.dump({"pebble": {
                "listenAddress": f"127.0.0.1:{acme_port}", "managementListenAddress": f"127.0.0.1:{acme_mgmt}",
                "certificate": os.path.join(work, "leaf.pem"), "privateKey": os.path.join(work, "leaf.key"),
                "httpPort": plain_port, "tlsPort": free_port(), "ocspResponderURL": "",
                "externalAccountBindingRequired": False}}, f)
        env = dict(os.environ, PEBBLE_VA_NOSLEEP="1", PEBBLE_WFE_NONCEREJECT="0", PEBBLE_AUTHZREUSE="0")
        children.append(subprocess.Popen(
            ["pebble", "-config", os.path.join(work, "pebble.json"), "-dnsserver", f"127.0.0.1:{dns_port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        ours = ssl.create_default_context(cafile=os.path.join(work, "ca.pem"))
        wait_answering(directory, ours)
        root = urllib.request.urlopen(f"https://localhost:{acme_mgmt}/roots/0", context=ours, timeout=10).read()
        with open(os.path.join(work, "root.pem"), "wb") as f:
            f.write(root)
        trusting = ssl.create_default_context(cafile=os.path.join(work, "root.pem"))

        repo = os.path.join(work, "site")
        make_repo(repo, {"index.html": "<h1>bench</h1>\n"})
        project, _, _ = server.deploy("site", "static", repo, {"build": {"outputDirectory": "."}})
        api, t = server.api, server.tenant
        hosts = [f"d{i}.bench.example" for i in range(DOMAINS)]
        domains = []
        for host in hosts:
            domain = api.call("POST", f"/tenants/{t}/projects/{project['id']}/domains", {"hostname": host})
            proof = domain["verification"]
            post(f"http://127.0.0.1:{dns_mgmt}/set-txt", {"host": proof["name"] + ".", "value": proof["value"]})
            post(f"http://127.0.0.1:{dns_mgmt}/add-a", {"host": host + ".", "addresses": ["127.0.0.1"]})
            domains.append(domain)

        verified_at, served_at = {}, {}

        def verify(domain):
            view = api.call("POST", f"/tenants/{t}/projects/{project['id']}/domains/{domain['id']}/verify", {})
            if view["status"] != "verified":
                raise SystemExit(f"{domain['hostname']} not verified: {view['error']}")
            verified_at[domain["hostname"]] = time.monotonic()

        threads = [threading.Thread(target=verify, args=(d,)) for d in domains]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        deadline = time.monotonic() + 120
        while len(served_at) < DOMAINS and time.monotonic() < deadline:
            for host in hosts:
                if host not in served_at and host in verified_at and https_answers(tls_port, host, trusting):
                    served_at[host] = time.monotonic()
            time.sleep(0.05)
        missing = [h for h in hosts if h not in served_at]
        if missing:
            raise SystemExit(f"not served over HTTPS within 120 s: {', '.join(missing)}")
        waits = sorted(served_at[h] - verified_at[h] for h in hosts)
        p50 = waits[len(waits) // 2]
        p95 = waits[min(len(waits) - 1, int(round(0.95 * len(waits))) - 1)]
        print(f"{'what':<44}{'seconds':>10}")
        print(f"{'verify → first HTTPS answer, p50':<44}{p50:>10.2f}")
        print(f"{'verify → first HTTPS answer, p95':<44}{p95:>10.2f}   (target ≤ {TARGET_P95:.0f} s, {DOMAINS} domains at once, pebble)")
        print(f"{'verify → first HTTPS answer, slowest':<44}{waits[-1]:>10.2f}")
        if p95 > TARGET_P95:
            print(f"MISSED: p95 {p95:.2f} s (target ≤ {TARGET_P95:.0f} s)")
            return 1
        return 0
    finally:
        if server:
            server.stop()
        for child in children:
            child.terminate()
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    sys.exit(main())
