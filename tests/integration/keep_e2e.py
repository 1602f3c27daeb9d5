#!/usr/bin/env python3
"""Keep end to end on real processes: `cairn api` + two `cairn keepstore`s on 127.0.0.1.

  keep_e2e.py BUILD/cairn [--database DSN] [--big-mib N]

Starts the catalog (SQLite in a temp dir unless --database names PostgreSQL) and two
keepstores, registers them, creates users, then checks as users run the CLI: byte-identical
round-trips (empty file, 1 byte, 64 MiB, 64 MiB + 1, a multi-GiB file, 10,000 small files, names
with spaces, colons, backslashes, tabs and UTF-8), permissions and sharing, tokens (missing,
revoked), signatures (forged, expired) straight against a keepstore, a flipped byte in one
replica, `cairn get` refusing a symlink on the way, and `kill -9` of a keepstore during a storm
of PUTs (every acknowledged block reads back intact; no partial block is visible).
Exit status 0 when every check passes.
"""
import argparse
import concurrent.futures
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

PASSED, FAILED = [], []


def check(name, cond, detail=""):
    (PASSED if cond else FAILED).append(name)
    if not cond:
        print(f"FAIL: {name} {detail}", file=sys.stderr)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.1)
    raise SystemExit(f"keep_e2e: {url} did not come up in {timeout} s")


def http(method, url, token=None, data=None):
    req = urllib.request.Request(url, method=method, data=data)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Cluster:
    def __init__(self, cairn, work, database):
        self.cairn, self.work = cairn, work
        self.key_file = os.path.join(work, "blob-signing.key")
        with open(os.open(self.key_file, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write(hashlib.sha256(os.urandom(32)).hexdigest() * 2)
        self.api_port = free_port()
        self.api = f"127.0.0.1:{self.api_port}"
        self.database = database or f"sqlite:{work}/catalog.db"
        self.procs = {}
        self.ks_ports = [free_port(), free_port()]
        self.volumes = [os.path.join(work, f"ks{i}") for i in range(2)]
        for v in self.volumes:
            os.makedirs(v)

    def start_api(self):
        log = open(os.path.join(self.work, "api.log"), "ab")
        self.procs["api"] = subprocess.Popen(
            [self.cairn, "api", "--listen", self.api, "--database", self.database,
             "--blob-signing-key-file", self.key_file,
             "--admin-token-file", os.path.join(self.work, "admin.token")],
            stdout=log, stderr=log)
        wait_http(f"http://{self.api}/_health/ping")
        with open(os.path.join(self.work, "admin.token")) as f:
            self.admin = f.read().strip()

    def start_keepstore(self, i):
        log = open(os.path.join(self.work, f"ks{i}.log"), "ab")
        self.procs[f"ks{i}"] = subprocess.Popen(
            [self.cairn, "keepstore", "--listen", f"127.0.0.1:{self.ks_ports[i]}", "--volume",
             self.volumes[i], "--blob-signing-key-file", self.key_file, "--api-host", self.api,
             "--auth-cache-ttl", "0"],
            stdout=log, stderr=log)
        wait_http(f"http://127.0.0.1:{self.ks_ports[i]}/_health/ping")

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()

    def env(self, token):
        e = dict(os.environ)
        e.update({"CAIRN_API_HOST": self.api, "CAIRN_API_TOKEN": token,
                  "HOME": os.path.join(self.work, "home")})
        return e

    def run(self, token, *args, ok=True, stdin=None):
        p = subprocess.run([self.cairn, *args], env=self.env(token), capture_output=True,
                           stdin=stdin)
        if ok and p.returncode != 0:
            raise SystemExit(f"keep_e2e: cairn {' '.join(args)} failed ({p.returncode}): "
                             f"{p.stderr.decode()[-1000:]}")
        return p


def tree_equal(a, b):
    return subprocess.run(["diff", "-r", "--no-dereference", a, b],
                          capture_output=True).returncode == 0


def make_data(root, big_mib):
    os.makedirs(root)
    open(os.path.join(root, "empty"), "wb").close()
    with open(os.path.join(root, "one"), "wb") as f:
        f.write(b"x")
    sub = os.path.join(root, "blocks")
    os.makedirs(sub)
    chunk = os.urandom(1 << 20)
    with open(os.path.join(sub, "exactly-64MiB"), "wb") as f:
        for _ in range(64):
            f.write(chunk)
    with open(os.path.join(sub, "64MiB+1"), "wb") as f:
        for _ in range(64):
            f.write(chunk[::-1])
        f.write(b"!")
    names = ["with space", "co:lon", "back\\slash", "tab\there", "ünïcødé ✓", "日本語"]
    odd = os.path.join(root, "odd names: ✓")
    os.makedirs(odd)
    for n in names:
        with open(os.path.join(odd, n), "wb") as f:
            f.write(n.encode() * 3)
    os.makedirs(os.path.join(root, "empty dir"))
    big = os.path.join(root, "big")
    os.makedirs(big)
    subprocess.run(f"head -c {big_mib << 20} /dev/urandom > '{big}/big.bin'", shell=True,
                   check=True)


def make_small(root, n):
    os.makedirs(root)
    for i in range(n):
        d = os.path.join(root, f"d{i // 1000:02d}")
        if i % 1000 == 0:
            os.makedirs(d)
        with open(os.path.join(d, f"f{i:05d}.txt"), "wb") as f:
            f.write(f"file {i}\n".encode() * (1 + i % 7))


def put(c, token, path, *extra):
    out = c.run(token, "put", "-q", *extra, path).stdout.decode().split()
    return out[0], out[1]  # uuid, PDH


def test_round_trips(c, alice, work, big_mib):
    data = os.path.join(work, "data")
    make_data(data, big_mib)
    t0 = time.time()
    uuid, pdh = put(c, alice, data, "--name", "mixed")
    put_s = time.time() - t0
    check("put prints a uuid and a PDH", "-4zz18-" in uuid and "+" in pdh, f"{uuid} {pdh}")
    got = os.path.join(work, "got")
    t0 = time.time()
    c.run(alice, "get", "-q", uuid, got)
    get_s = time.time() - t0
    check("get by uuid is byte-identical (empty, 1 B, 64 MiB, 64 MiB+1, big, odd names)",
          tree_equal(data, got))
    print(f"keep_e2e: {big_mib + 128} MiB put in {put_s:.1f} s, get in {get_s:.1f} s",
          file=sys.stderr)
    got2 = os.path.join(work, "got-pdh")
    c.run(alice, "get", "-q", pdh, got2)
    check("get by PDH is byte-identical", tree_equal(data, got2))
    one = c.run(alice, "cat", f"{uuid}/odd names: ✓/tab\there").stdout
    check("cat of a file with a tab in a directory with a colon", one == "tab\there".encode() * 3)
    single = os.path.join(work, "single.bin")
    c.run(alice, "get", "-q", f"{uuid}/blocks/64MiB+1", single)
    check("get of one file", subprocess.run(["cmp", single, os.path.join(data, "blocks/64MiB+1")])
          .returncode == 0)
    ls = c.run(alice, "ls", "-l", f"{uuid}/blocks").stdout.decode()
    check("ls -l shows sizes", "67108864" in ls and "67108865" in ls, ls)
    mine = c.run(alice, "ls").stdout.decode()
    check("ls lists the user's collections", uuid in mine, mine)
    shutil.rmtree(got2)
    os.unlink(single)
    shutil.rmtree(os.path.join(data, "big"))
    shutil.rmtree(os.path.join(got, "big"))
    return uuid, data, got


def test_small_files(c, alice, work, n):
    src = os.path.join(work, "small")
    make_small(src, n)
    t0 = time.time()
    uuid, _ = put(c, alice, src)
    put_s = time.time() - t0
    dst = os.path.join(work, "small-got")
    t0 = time.time()
    c.run(alice, "get", "-q", uuid, dst)
    print(f"keep_e2e: {n} small files put in {put_s:.1f} s, get in {time.time() - t0:.1f} s",
          file=sys.stderr)
    check(f"{n} small files round-trip", tree_equal(src, dst))
    shutil.rmtree(src)
    shutil.rmtree(dst)


def test_permissions(c, alice, bob, uuid, work):
    p = c.run(bob, "get", "-q", uuid, os.path.join(work, "bob"), ok=False)
    check("a stranger cannot get a collection", p.returncode != 0 and
          not os.path.exists(os.path.join(work, "bob", "one")), p.stderr.decode())
    status, body = http("GET", f"http://{c.api}/v1/collections/{uuid}", bob)
    check("the catalog answers a stranger 404", status == 404, f"{status} {body[:200]}")
    c.run(alice, "share", uuid, "--with", "bob", "--level", "read")
    p = c.run(bob, "cat", f"{uuid}/one", ok=False)
    check("after share --level read, bob reads", p.returncode == 0 and p.stdout == b"x",
          p.stderr.decode())
    status, _ = http("PUT", f"http://{c.api}/v1/collections/{uuid}", bob,
                     b'{"name": "taken over"}')
    check("a reader cannot rename", status in (403, 404), str(status))


def signed_locator(c, alice):
    body = os.urandom(1000)
    status, loc = http("PUT", f"http://127.0.0.1:{c.ks_ports[0]}/{hashlib.md5(body).hexdigest()}",
                       alice, body)
    check("keepstore PUT answers a signed locator", status == 200 and b"+A" in loc, str(status))
    return body, loc.decode().strip()


def test_tokens_and_signatures(c, alice, bob):
    body, loc = signed_locator(c, alice)
    ks = f"http://127.0.0.1:{c.ks_ports[0]}"
    status, got = http("GET", f"{ks}/{loc}", alice)
    check("GET with a valid signature", status == 200 and got == body, str(status))
    status, _ = http("GET", f"{ks}/{loc}")
    check("GET without a token is refused", status in (401, 403), str(status))
    status, _ = http("GET", f"{ks}/{loc}", bob)
    check("another user's token does not match the signature", status in (400, 403), str(status))
    sig_at = loc.index("+A") + 2
    forged = loc[:sig_at] + ("0" if loc[sig_at] != "0" else "1") + loc[sig_at + 1:]
    status, _ = http("GET", f"{ks}/{forged}", alice)
    check("a forged signature is refused", status in (400, 403), str(status))
    bare = loc[:loc.index("+A")]
    status, _ = http("GET", f"{ks}/{bare}", alice)
    check("an unsigned locator is refused", status in (400, 401, 403), str(status))
    env = dict(os.environ)
    with open(c.key_file) as f:
        env["CAIRN_BLOB_SIGNING_KEY"] = f.read().strip()
    expired = subprocess.run([c.cairn, "locator", "sign", bare, "--token-file", "-",
                              "--expiry", str(int(time.time()) - 3600), "--ttl", "1209600"], env=env,
                             input=alice.encode(), capture_output=True)
    status, _ = http("GET", f"{ks}/{expired.stdout.decode().strip()}", alice)
    check("an expired signature is refused (401, as Arvados 3.x)",
          expired.returncode == 0 and status in (400, 401, 403),
          f"{status} {expired.stderr.decode()}")
    status, _ = http("PUT", f"{ks}/{hashlib.md5(b'q').hexdigest()}", None, b"q")
    check("PUT without a token is refused with 401", status == 401, str(status))
    status, _ = http("PUT", f"{ks}/{hashlib.md5(b'r').hexdigest()}", alice, b"not r")
    check("PUT of bytes that do not match the hash is refused", status in (400, 422), str(status))
    # A token created, then revoked: refused by the catalog and by the keepstore at once.
    tok = c.run(alice, "token", "create").stdout.decode().split()[-1]
    status, cur = http("GET", f"http://{c.api}/v1/users/current", tok)
    check("a new token works", status == 200, str(status))
    c.run(tok, "token", "revoke", "current")
    status, _ = http("GET", f"http://{c.api}/v1/users/current", tok)
    check("a revoked token is refused by the catalog", status == 401, str(status))
    status, _ = http("PUT", f"{ks}/{hashlib.md5(b's').hexdigest()}", tok, b"s")
    check("a revoked token is refused by the keepstore", status == 401, str(status))
    p = c.run("0" * 50, "ls", ok=False)
    check("the CLI reports an unknown token", p.returncode != 0 and b"0" * 50 not in p.stderr,
          p.stderr.decode())


def block_files(volume):
    for d, _, files in os.walk(volume):
        for f in files:
            if len(f) == 32 and all(ch in "0123456789abcdef" for ch in f):
                yield os.path.join(d, f)


def test_corrupt_replica(c, alice, work):
    src = os.path.join(work, "replicated")
    os.makedirs(src)
    payload = os.urandom(3 << 20)
    with open(os.path.join(src, "r.bin"), "wb") as f:
        f.write(payload)
    uuid, _ = put(c, alice, src, "--replication", "2")
    h = hashlib.md5(payload).hexdigest()
    copies = [p for v in c.volumes for p in block_files(v) if os.path.basename(p) == h]
    check("--replication 2 stores the block on both keepstores", len(copies) == 2, str(copies))
    if copies:
        with open(copies[0], "r+b") as f:
            f.seek(12345)
            b = f.read(1)
            f.seek(12345)
            f.write(bytes([b[0] ^ 0xFF]))
    p = c.run(alice, "cat", f"{uuid}/r.bin", ok=False)
    check("a flipped byte in one replica: the client reads the other", p.returncode == 0 and
          p.stdout == payload, p.stderr.decode()[-300:])


def test_symlink_on_the_way(c, alice, uuid, work):
    dest = os.path.join(work, "dest")
    outside = os.path.join(work, "outside")
    os.makedirs(dest)
    os.makedirs(outside)
    os.symlink(outside, os.path.join(dest, "blocks"))
    p = c.run(alice, "get", "-q", uuid, dest, ok=False)
    check("get refuses to write through a symlink on the way", p.returncode != 0 and
          not os.listdir(outside), p.stderr.decode()[-300:])


def test_kill_during_put_storm(c, alice):
    ks = f"http://127.0.0.1:{c.ks_ports[1]}"
    acked, lock, stop = [], threading.Lock(), threading.Event()

    def worker(seed):
        i = 0
        while not stop.is_set():
            body = hashlib.sha256(f"{seed}-{i}".encode()).digest() * (1 << 17)  # 4 MiB
            i += 1
            try:
                status, loc = http("PUT", f"{ks}/{hashlib.md5(body).hexdigest()}", alice, body)
            except Exception:  # the server died mid-request: not acknowledged
                continue
            if status == 200:
                with lock:
                    acked.append((loc.decode().strip(), hashlib.md5(body).hexdigest()))

    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        for s in range(6):
            pool.submit(worker, s)
        time.sleep(3)
        c.procs["ks1"].send_signal(signal.SIGKILL)
        c.procs["ks1"].wait()
        time.sleep(0.5)
        stop.set()
    c.start_keepstore(1)
    bad = []
    for loc, h in acked:
        status, got = http("GET", f"{ks}/{loc}", alice)
        if status != 200 or hashlib.md5(got).hexdigest() != h:
            bad.append((loc[:40], status))
    check(f"kill -9 in a PUT storm: all {len(acked)} acknowledged blocks read back",
          len(acked) > 0 and not bad, str(bad[:5]))
    partial = [p for p in block_files(c.volumes[1])
               if hashlib.md5(open(p, "rb").read()).hexdigest() != os.path.basename(p)]
    check("kill -9 in a PUT storm: no partial block is visible", not partial, str(partial[:5]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cairn")
    ap.add_argument("--database", default="", help="DSN (default: SQLite in the temp dir)")
    ap.add_argument("--big-mib", type=int, default=int(os.environ.get("CAIRN_IT_BIG_MIB", 2049)))
    ap.add_argument("--small-files", type=int, default=10000)
    ap.add_argument("--quick", action="store_true", help="round-trips and permissions only")
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cairn-keep-e2e.")
    c = Cluster(os.path.abspath(args.cairn), work, args.database)
    try:
        c.start_api()
        for i in range(2):
            c.start_keepstore(i)
            c.run(c.admin, "keep-service", "add", f"127.0.0.1:{c.ks_ports[i]}")
        alice = c.run(c.admin, "user", "add", "alice").stdout.decode().split()[-1]
        bob = c.run(c.admin, "user", "add", "bob").stdout.decode().split()[-1]
        uuid, data, _ = test_round_trips(c, alice, work, args.big_mib)
        test_permissions(c, alice, bob, uuid, work)
        if not args.quick:
            test_small_files(c, alice, work, args.small_files)
            test_tokens_and_signatures(c, alice, bob)
            test_corrupt_replica(c, alice, work)
            test_symlink_on_the_way(c, alice, uuid, work)
            test_kill_during_put_storm(c, alice)
    finally:
        c.stop()
        if FAILED:
            for name in ("api", "ks0", "ks1"):
                log = os.path.join(work, f"{name}.log")
                if os.path.exists(log):
                    print(f"--- {name}.log (tail)", file=sys.stderr)
                    print(open(log, errors="replace").read()[-2000:], file=sys.stderr)
        shutil.rmtree(work, ignore_errors=True)
    print(f"keep_e2e ({'PostgreSQL' if args.database else 'SQLite'}): {len(PASSED)} passed, "
          f"{len(FAILED)} failed")
    return 1 if FAILED else 0


if __name__ == "__main__":
    sys.exit(main())
