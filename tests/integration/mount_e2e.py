#!/usr/bin/env python3
"""`cairn mount` end to end on a real FUSE mount and a real `cairn server` (issue 8).

  mount_e2e.py BUILD/cairn [--big-mib N]

Starts `cairn server` on a free port in a temp dir, makes users alice and bob, puts a collection
(a file over one 64 MiB block, many small files, nested directories, odd names) as alice, then
checks through the mount: md5sum, tar, cp -r, find and a Python reader give the same bytes and
names as `cairn get`; 200 random 4 KiB reads at random offsets; sizes, modes, owner and mtime;
the xattrs user.cairn.uuid/pdh; --collection; a new collection appearing after the TTL; bob
seeing nothing of alice's (home/, shared/, by_id/) until she shares, then under shared/;
--exec returning the command's status; SIGTERM and --unmount leaving nothing mounted.
Exit status 0 when every check passes.
"""
import argparse
import calendar
import hashlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

PASSED, FAILED = [], []


def check(name, cond, detail=""):
    (PASSED if cond else FAILED).append(name)
    print(("ok   " if cond else "FAIL ") + name + (f" {detail}" if detail and not cond else ""),
          file=sys.stderr)


def free_port():
    """A free port P with P+1 and P+2 free too: `cairn server` also takes them (keepstore,
    gateway)."""
    for _ in range(100):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        try:
            for p in (port, port + 1, port + 2):
                with socket.socket() as t:
                    t.bind(("127.0.0.1", p))
            return port
        except OSError:
            continue
    raise SystemExit("mount_e2e: no three free ports in a row")


def mounted(path):
    with open("/proc/mounts") as f:
        return any(line.split()[1] == path for line in f)


def wait_for(cond, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return False


def md5_file(path):
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def tree_files(root):
    """relative path -> md5 of every file under root, and the set of directories."""
    files, dirs = {}, set()
    for d, subdirs, names in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs.add(rel)
        for n in names:
            files[os.path.normpath(os.path.join(rel, n))] = md5_file(os.path.join(d, n))
    return files, dirs


class Env:
    def __init__(self, cairn, work):
        self.cairn, self.work = cairn, work
        self.port = free_port()
        self.api = f"127.0.0.1:{self.port}"
        log = open(os.path.join(work, "server.log"), "ab")
        self.server = subprocess.Popen(
            [cairn, "server", "--data", os.path.join(work, "srv"), "--listen", self.api],
            stdout=log, stderr=log)
        token_file = os.path.join(work, "srv", "admin.token")

        def up():
            if not os.path.exists(token_file) or os.path.getsize(token_file) == 0:
                return False
            try:
                with urllib.request.urlopen(f"http://{self.api}/_health/ping", timeout=2):
                    return True
            except OSError:
                return False
        if not wait_for(up, 60):
            raise SystemExit("mount_e2e: cairn server did not come up")
        with open(token_file) as f:
            self.admin = f.read().strip()
        self.mounts = []

    def env(self, token):
        e = dict(os.environ)
        e.pop("XDG_CACHE_HOME", None)  # the mounts' disk block cache stays under work/home
        e.update({"CAIRN_API_HOST": self.api, "CAIRN_API_TOKEN": token,
                  "HOME": os.path.join(self.work, "home")})
        return e

    def run(self, token, *args, ok=True, **kw):
        p = subprocess.run([self.cairn, *args], env=self.env(token), capture_output=True, **kw)
        if ok and p.returncode != 0:
            raise SystemExit(f"mount_e2e: cairn {' '.join(args)} failed: {p.stderr.decode()}")
        return p

    def mount(self, token, name, *extra):
        mnt = os.path.join(self.work, name)
        os.makedirs(mnt, exist_ok=True)
        self.run(token, "mount", mnt, "--ttl", "1", *extra)
        self.mounts.append(mnt)
        return mnt

    def stop(self):
        for m in self.mounts:
            if mounted(m):
                subprocess.run(["fusermount3", "-u", "-z", m], capture_output=True)
        self.server.terminate()
        try:
            self.server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.server.kill()


def make_source(root, big_mib):
    rng = random.Random(8)
    os.makedirs(os.path.join(root, "nested", "deeper", "deepest"))
    os.makedirs(os.path.join(root, "many"))
    with open(os.path.join(root, "big.bin"), "wb") as f:
        left = big_mib * (1 << 20) + 12345  # over one 64 MiB block
        while left > 0:
            n = min(left, 1 << 22)
            f.write(os.urandom(n))
            left -= n
    with open(os.path.join(root, "medium.bin"), "wb") as f:
        f.write(os.urandom(3_000_001))
    open(os.path.join(root, "empty"), "wb").close()
    for i in range(300):
        with open(os.path.join(root, "many", f"f{i:03d}.txt"), "wb") as f:
            f.write(os.urandom(rng.randrange(0, 5000)))
    with open(os.path.join(root, "nested", "deeper", "deepest", "leaf.txt"), "w") as f:
        f.write("leaf\n")
    with open(os.path.join(root, "nested", "with space & colon:x.txt"), "w") as f:
        f.write("odd name\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cairn")
    ap.add_argument("--big-mib", type=int, default=65)
    a = ap.parse_args()
    cairn = os.path.abspath(a.cairn)
    if not os.access("/dev/fuse", os.R_OK | os.W_OK) or shutil.which("fusermount3") is None:
        print("mount_e2e: needs /dev/fuse and fusermount3", file=sys.stderr)
        return 1
    work = tempfile.mkdtemp(prefix="cairn-mount-e2e.")
    os.chmod(work, 0o755)
    env = Env(cairn, work)
    try:
        run_checks(env, work, a.big_mib)
        run_write_checks(env, work)
    finally:
        env.stop()
        if not any(mounted(m) for m in env.mounts):
            shutil.rmtree(work, ignore_errors=True)
    print(f"mount_e2e: {len(PASSED)} passed, {len(FAILED)} failed", file=sys.stderr)
    return 0 if not FAILED else 1


def run_checks(env, work, big_mib):
    alice = env.run(env.admin, "user", "add", "alice").stdout.decode().strip()
    bob = env.run(env.admin, "user", "add", "bob").stdout.decode().strip()
    src = os.path.join(work, "src")
    make_source(src, big_mib)
    out = env.run(alice, "put", "-q", src, "--name", "dataset").stdout.decode().split()
    uuid, pdh = out[0], out[1]
    got = os.path.join(work, "got")
    env.run(alice, "get", "-q", uuid, got)
    want_files, want_dirs = tree_files(got)
    check("cairn get matches the source", tree_files(src) == (want_files, want_dirs))

    m = env.mount(alice, "mnt-alice")
    check("mounted in the background", mounted(m))
    check("top level", sorted(os.listdir(m)) == ["by_id", "home", "shared"], os.listdir(m))
    check("home lists alice's collection", os.listdir(os.path.join(m, "home")) == ["dataset"])
    check("shared is empty for alice", os.listdir(os.path.join(m, "shared")) == [])
    d = os.path.join(m, "home", "dataset")

    # md5sum over every file, as a job would run it.
    p = subprocess.run("find . -type f -print0 | sort -z | xargs -0 md5sum", shell=True, cwd=d,
                       capture_output=True)
    sums = {line[34:]: line[:32] for line in p.stdout.decode().splitlines()}
    sums = {os.path.normpath(k): v for k, v in sums.items()}
    check("md5sum through the mount", p.returncode == 0 and sums == want_files,
          f"{len(sums)} vs {len(want_files)}")
    # find: the same names and kinds.
    p = subprocess.run(["find", ".", "-type", "d"], cwd=d, capture_output=True)
    found_dirs = {os.path.normpath(x) for x in p.stdout.decode().splitlines()}
    check("find lists the same directories", found_dirs == want_dirs)
    # tar c, extracted elsewhere.
    untar = os.path.join(work, "untar")
    os.makedirs(untar)
    p = subprocess.run(f"tar cf - -C '{d}' . | tar xf - -C '{untar}'", shell=True,
                       capture_output=True)
    check("tar c through the mount", p.returncode == 0 and tree_files(untar) == (want_files,
                                                                                want_dirs),
          p.stderr.decode())
    # cp -r
    cp_dest = os.path.join(work, "cp")
    p = subprocess.run(["cp", "-r", d, cp_dest], capture_output=True)
    check("cp -r through the mount", p.returncode == 0 and tree_files(cp_dest) == (want_files,
                                                                                  want_dirs))
    # A Python reader with seeks, and 200 random 4 KiB reads.
    big = os.path.join(d, "big.bin")
    with open(os.path.join(got, "big.bin"), "rb") as f:
        big_bytes = f.read()
    rng = random.Random(42)
    bad = 0
    with open(big, "rb") as f:
        for _ in range(200):
            off = rng.randrange(0, len(big_bytes))
            f.seek(off)
            if f.read(4096) != big_bytes[off:off + 4096]:
                bad += 1
    check("200 random 4 KiB reads", bad == 0, f"{bad} wrong")
    with open(big, "rb") as f:
        f.seek(len(big_bytes) - 10)
        tail = f.read(100)
    check("read at the end is short", tail == big_bytes[-10:])
    start = time.time()
    check("sequential read of the big file", md5_file(big) == want_files["big.bin"])
    rate = len(big_bytes) / (1 << 20) / max(time.time() - start, 1e-6)
    print(f"mount_e2e: sequential read {rate:.0f} MiB/s (cache warm for some blocks)",
          file=sys.stderr)
    # Attributes.
    st = os.stat(big)
    check("size", st.st_size == len(big_bytes))
    check("mode and owner", (st.st_mode & 0o7777) == 0o444 and st.st_uid == os.getuid())
    st_dir = os.stat(os.path.join(d, "nested"))
    check("directory mode and nlink", (st_dir.st_mode & 0o7777) == 0o555 and st_dir.st_nlink == 3,
          f"nlink {st_dir.st_nlink}")
    # `cairn ls -l`: uuid pdh size modified_at name; the mount's mtime is modified_at.
    modified = [line.split()[3] for line in env.run(alice, "ls", "-l").stdout.decode()
                .splitlines() if line.startswith(uuid)][0]
    want_mtime = calendar.timegm(time.strptime(modified[:19], "%Y-%m-%dT%H:%M:%S"))
    check("mtime is the collection's modified_at", int(st.st_mtime) == want_mtime,
          f"{st.st_mtime} vs {modified}")
    check("xattr uuid", os.getxattr(d, "user.cairn.uuid").decode() == uuid)
    check("xattr pdh", os.getxattr(d, "user.cairn.pdh").decode() == pdh)
    check("by_id by uuid", md5_file(os.path.join(m, "by_id", uuid, "nested", "deeper", "deepest",
                                                 "leaf.txt")) == want_files[
                                                     "nested/deeper/deepest/leaf.txt"])
    check("by_id by PDH", os.path.getsize(os.path.join(m, "by_id", pdh, "big.bin")) ==
          len(big_bytes))
    try:
        open(os.path.join(d, "new.txt"), "w")
        check("writes refused", False)
    except OSError:
        check("writes refused", True)

    # A new collection appears after the TTL (1 s here).
    small = os.path.join(work, "small")
    os.makedirs(small)
    with open(os.path.join(small, "s.txt"), "w") as f:
        f.write("small\n")
    out2 = env.run(alice, "put", "-q", small, "--name", "later").stdout.decode().split()
    check("a new collection appears in home/",
          wait_for(lambda: "later" in os.listdir(os.path.join(m, "home")), 10))

    # Bob: nothing of alice's until she shares.
    mb = env.mount(bob, "mnt-bob")
    check("bob's home is empty", os.listdir(os.path.join(mb, "home")) == [])
    check("bob's shared is empty", os.listdir(os.path.join(mb, "shared")) == [])
    try:
        os.stat(os.path.join(mb, "by_id", uuid))
        check("bob cannot reach alice's collection by id", False)
    except OSError as e:
        check("bob cannot reach alice's collection by id", e.errno in (2, 13), str(e))
    env.run(alice, "share", uuid, "--with", "bob", "--level", "read")
    check("after share bob sees it under shared/",
          wait_for(lambda: os.listdir(os.path.join(mb, "shared")) == ["dataset"], 10))
    check("bob reads it", md5_file(os.path.join(mb, "shared", "dataset", "medium.bin")) ==
          want_files["medium.bin"])
    check("bob's home still empty", os.listdir(os.path.join(mb, "home")) == [])

    # --unmount
    env.run(bob, "mount", "--unmount", mb)
    check("--unmount", wait_for(lambda: not mounted(mb), 10))
    env.run(alice, "mount", "--unmount", m)
    check("--unmount of the first mount", wait_for(lambda: not mounted(m), 10))

    # --collection, in the foreground, ended by SIGTERM.
    mc = os.path.join(work, "mnt-one")
    os.makedirs(mc)
    fg = subprocess.Popen([env.cairn, "mount", mc, "--foreground", "--collection", out2[0]],
                          env=env.env(alice), stderr=subprocess.PIPE)
    env.mounts.append(mc)
    check("--collection mounts one collection",
          wait_for(lambda: mounted(mc) and os.listdir(mc) == ["s.txt"], 20))
    fg.send_signal(signal.SIGTERM)
    try:
        rc = fg.wait(timeout=20)
    except subprocess.TimeoutExpired:
        rc = None
    check("SIGTERM unmounts and exits 0", rc == 0 and not mounted(mc),
          f"rc {rc} {fg.stderr.read().decode() if rc is not None else ''}")

    # --exec: the command's status, the mount gone afterwards.
    me = os.path.join(work, "mnt-exec")
    os.makedirs(me)
    env.mounts.append(me)
    p = env.run(alice, "mount", "--exec", me, "--", "md5sum", f"{me}/by_id/{uuid}/medium.bin",
                ok=False)
    check("--exec runs the command on the mount",
          p.returncode == 0 and p.stdout.decode().startswith(want_files["medium.bin"]),
          p.stderr.decode())
    p = env.run(alice, "mount", "--exec", me, "--", "sh", "-c", "ls home >/dev/null; exit 7",
                ok=False)
    check("--exec exits with the command's status", p.returncode == 7, str(p.returncode))
    check("--exec unmounts", not mounted(me))
    p = env.run(alice, "mount", "--exec", me, "--", "no-such-command-xyz", ok=False)
    check("--exec of a missing command exits 127", p.returncode == 127, str(p.returncode))
    p = env.run(bob, "mount", os.path.join(work, "nope"), ok=False)
    check("mounting on a missing directory fails", p.returncode == 1 and b"nope" in p.stderr)
    p = subprocess.run([env.cairn, "mount", me], env=env.env("badtoken"), capture_output=True)
    check("a bad token fails before mounting", p.returncode == 1 and not mounted(me) and
          b"badtoken" not in p.stderr, p.stderr.decode())


def run_write_checks(env, work):
    """`cairn mount --read-write` (issue 8 item 3): carol writes through the mount; dave, who
    may only read her collection, cannot."""
    import errno
    carol = env.run(env.admin, "user", "add", "carol").stdout.decode().strip()
    dave = env.run(env.admin, "user", "add", "dave").stdout.decode().strip()
    seed = os.path.join(work, "rw-seed")
    os.makedirs(os.path.join(seed, "old"))
    with open(os.path.join(seed, "keep.txt"), "w") as f:
        f.write("kept\n")
    with open(os.path.join(seed, "old", "gone.txt"), "w") as f:
        f.write("to be deleted\n")
    uuid, pdh0 = env.run(carol, "put", "-q", seed, "--name", "rw").stdout.decode().split()[:2]
    env.run(carol, "share", uuid, "--with", "dave", "--level", "read")
    m = env.mount(carol, "mnt-rw", "--read-write", "--spool", os.path.join(work, "spool-carol"))
    d = os.path.join(m, "home", "rw")
    big = os.urandom(66 * (1 << 20) + 7)  # two 64 MiB blocks
    ok = True
    try:
        with open(os.path.join(d, "new.txt"), "w") as f:
            f.write("written through the mount\n")
            f.flush()
            with open(os.path.join(d, "new.txt")) as r:
                ok = r.read() == "written through the mount\n"
        check("a file being written reads its bytes", ok)
        with open(os.path.join(d, "big.bin"), "wb") as f:
            f.write(big)
        os.mkdir(os.path.join(d, "newdir"))
        with open(os.path.join(d, "newdir", "inner.txt"), "w") as f:
            f.write("inner\n")
        with open(os.path.join(d, "keep.txt"), "r+b") as f:  # a write at an offset
            f.seek(2)
            f.write(b"EP")
        check("writes through the mount succeed", True)
    except OSError as e:
        check("writes through the mount succeed", False, str(e))
    got = os.path.join(work, "rw-got1")
    env.run(carol, "get", "-q", uuid, got)
    files, _ = tree_files(got)
    pdh1 = [ln.split()[1] for ln in env.run(carol, "ls", "-l").stdout.decode().splitlines()
            if ln.startswith(uuid)][0]
    check("the writes are a new version", pdh1 != pdh0, pdh1)
    check("cairn get shows the new file",
          open(os.path.join(got, "new.txt")).read() == "written through the mount\n"
          if "new.txt" in files else False, str(sorted(files)))
    check("cairn get shows the big file (2 blocks)",
          files.get("big.bin") == hashlib.md5(big).hexdigest())
    check("cairn get shows the new directory", files.get("newdir/inner.txt") ==
          hashlib.md5(b"inner\n").hexdigest())
    check("a write at an offset keeps the other bytes",
          files.get("keep.txt") == hashlib.md5(b"keEP\n").hexdigest())
    check("the mount shows the saved sizes", os.path.getsize(os.path.join(d, "big.bin")) ==
          len(big))
    # Rename, delete, rmdir, cp -r in, mkdir in home/ (a new collection).
    try:
        os.rename(os.path.join(d, "new.txt"), os.path.join(d, "newdir", "renamed.txt"))
        os.unlink(os.path.join(d, "old", "gone.txt"))
        os.rmdir(os.path.join(d, "old"))
        os.unlink(os.path.join(d, "big.bin"))
        p = subprocess.run(["cp", "-r", seed, os.path.join(d, "copied")], capture_output=True)
        check("cp -r into the mount", p.returncode == 0, p.stderr.decode())
        os.mkdir(os.path.join(m, "home", "made-by-mkdir"))
        with open(os.path.join(m, "home", "made-by-mkdir", "x.txt"), "w") as f:
            f.write("x\n")
        check("rename, unlink, rmdir, mkdir succeed", True)
    except OSError as e:
        check("rename, unlink, rmdir, mkdir succeed", False, str(e))
    got2 = os.path.join(work, "rw-got2")
    env.run(carol, "get", "-q", uuid, got2)
    files2, dirs2 = tree_files(got2)
    check("rename and delete show in cairn get",
          sorted(files2) == ["copied/keep.txt", "copied/old/gone.txt", "keep.txt",
                             "newdir/inner.txt", "newdir/renamed.txt"] and "old" not in dirs2,
          str(sorted(files2)))
    listed = env.run(carol, "ls").stdout.decode()
    check("mkdir in home/ makes a collection", "made-by-mkdir" in listed, listed)
    # dave: carol's collection is read-only to him.
    md = env.mount(dave, "mnt-rw-dave", "--read-write",
                   "--spool", os.path.join(work, "spool-dave"))
    target = os.path.join(md, "shared", "rw")
    wait_for(lambda: os.path.isdir(target), 10)
    for what, op in [("create", lambda: open(os.path.join(target, "dave.txt"), "w")),
                     ("open for writing", lambda: open(os.path.join(target, "keep.txt"), "r+")),
                     ("unlink", lambda: os.unlink(os.path.join(target, "keep.txt"))),
                     ("mkdir", lambda: os.mkdir(os.path.join(target, "d")))]:
        try:
            op().close() if what in ("create", "open for writing") else op()
            check(f"a read-only collection refuses {what}", False)
        except OSError as e:
            check(f"a read-only collection refuses {what}", e.errno in (errno.EACCES,
                                                                       errno.EROFS), str(e))
    got3 = os.path.join(work, "rw-got3")
    env.run(carol, "get", "-q", uuid, got3)
    check("dave changed nothing", tree_files(got3) == (files2, dirs2))
    for mnt in (m, md):
        env.run(carol, "mount", "--unmount", mnt)
        check("read-write mount unmounts", wait_for(lambda: not mounted(mnt), 10))
    check("the spool is empty after unmount",
          wait_for(lambda: not os.listdir(os.path.join(work, "spool-carol")), 10),
          str(os.listdir(os.path.join(work, "spool-carol"))))


if __name__ == "__main__":
    sys.exit(main())
