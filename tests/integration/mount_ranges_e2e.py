#!/usr/bin/env python3
"""A mixed collection and external ranges through `cairn mount` (issue 8, items 2 and 5).

  mount_ranges_e2e.py BUILD/cairn [--mib N]

Needs an S3 store in the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
as `scripts/object-store start` prints them); without one it says so and exits 0 (skipped). The
Swift part needs ST_AUTH, ST_USER, ST_KEY (RGW's Swift API: `scripts/object-store start` prints
them too); without them it is skipped with a message.
Starts `cairn server` (mount_e2e.Env), uploads an S3 object over one 64 MiB block with boto3 and
a Swift object with the `swift` command, `cairn remote add` + `cairn import` them by reference as alice,
`cairn put`s local files and `cairn cp`s all three into one collection "mixed". Mounts with no
AWS_* or ST_* variables (reads go through the gateway), then checks: 200 random 4 KiB reads of
the S3 object equal the source and fetch less than 1 MiB per read on average (the mount's
user.cairn.stats xattr: whole-block and ranged bytes received); random 4 KiB reads of the Swift
object; md5sum, find, tar, cp -r and a Python reader over the mixed collection equal `cairn get`.
Then the disk block cache: a second mount on the same --disk-cache-dir reads the local blocks
from disk (disk hits, no block fetched), and after every cache file is corrupted a third mount
still reads the right bytes (the files are detected as corrupt and fetched again).
Exit status 0 when every check passes.
"""
import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mount_e2e  # noqa: E402
from mount_e2e import FAILED, PASSED, Env, check, mounted  # noqa: E402

AWS_VARS = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
            "AWS_PROFILE", "ST_AUTH", "ST_USER", "ST_KEY")


def stats(mnt):
    s = json.loads(os.getxattr(mnt, "user.cairn.stats"))
    return s["block_bytes"] + s["range_bytes"], s


def mount_without_aws(env, token, name, *extra):
    """A background mount whose process has no cloud credentials (reads go through the gateway)."""
    mnt = os.path.join(env.work, name)
    os.makedirs(mnt, exist_ok=True)
    e = env.env(token)
    for k in AWS_VARS:
        e.pop(k, None)
    p = subprocess.run([env.cairn, "mount", mnt, "--ttl", "1", *extra], env=e,
                       capture_output=True)
    if p.returncode != 0:
        raise SystemExit(f"mount_ranges_e2e: mount failed: {p.stderr.decode()}")
    env.mounts.append(mnt)
    return mnt


def unmount(mnt):
    subprocess.run(["fusermount3", "-u", mnt], capture_output=True)
    mount_e2e.wait_for(lambda: not mounted(mnt), 20)


def random_reads(path, data, n, seed):
    """n random 4 KiB preads (never at offset 0); the number that were wrong."""
    rng = random.Random(seed)
    bad = 0
    fd = os.open(path, os.O_RDONLY)
    try:
        for _ in range(n):
            off = rng.randrange(1, len(data))
            if os.pread(fd, 4096, off) != data[off:off + 4096]:
                bad += 1
    finally:
        os.close(fd)
    return bad


def job_checks(d, want, label, work):
    """md5sum, find, tar c, cp -r and a Python reader over directory d equal want."""
    want_files, want_dirs = want
    p = subprocess.run("find . -type f -print0 | sort -z | xargs -0 md5sum", shell=True, cwd=d,
                       capture_output=True)
    sums = {os.path.normpath(line[34:]): line[:32] for line in p.stdout.decode().splitlines()}
    check(f"{label}: md5sum through the mount", p.returncode == 0 and sums == want_files,
          f"{len(sums)} vs {len(want_files)}")
    p = subprocess.run(["find", ".", "-type", "d"], cwd=d, capture_output=True)
    found_dirs = {os.path.normpath(x) for x in p.stdout.decode().splitlines()}
    check(f"{label}: find lists the same directories", found_dirs == want_dirs)
    untar = tempfile.mkdtemp(prefix="untar.", dir=work)
    p = subprocess.run(f"tar cf - -C '{d}' . | tar xf - -C '{untar}'", shell=True,
                       capture_output=True)
    check(f"{label}: tar c through the mount",
          p.returncode == 0 and mount_e2e.tree_files(untar) == want, p.stderr.decode())
    cp_dest = os.path.join(tempfile.mkdtemp(prefix="cp.", dir=work), "c")
    p = subprocess.run(["cp", "-r", d, cp_dest], capture_output=True)
    check(f"{label}: cp -r through the mount",
          p.returncode == 0 and mount_e2e.tree_files(cp_dest) == want)
    # A Python reader in odd-sized pieces.
    bad = []
    for rel, md5 in want_files.items():
        h = hashlib.md5()
        with open(os.path.join(d, rel), "rb") as f:
            for chunk in iter(lambda: f.read(777_777), b""):
                h.update(chunk)
        if h.hexdigest() != md5:
            bad.append(rel)
    check(f"{label}: a Python reader", not bad, bad)


def make_local(root):
    rng = random.Random(11)
    os.makedirs(os.path.join(root, "nested", "deeper"))
    with open(os.path.join(root, "nested", "medium.bin"), "wb") as f:
        f.write(os.urandom(3_000_001))
    with open(os.path.join(root, "nested", "deeper", "leaf.txt"), "w") as f:
        f.write("leaf\n")
    for i in range(20):
        with open(os.path.join(root, f"f{i:02d}.txt"), "wb") as f:
            f.write(os.urandom(rng.randrange(1, 5000)))


def local_md5s(d):
    return {rel: mount_e2e.md5_file(os.path.join(d, rel))
            for rel in mount_e2e.tree_files(d)[0]}


def corrupt_cache(cache_dir):
    """Flips a byte in the middle of every block file; how many files."""
    n = 0
    for name in os.listdir(cache_dir):
        path = os.path.join(cache_dir, name)
        if len(name) != 32 or not os.path.isfile(path) or os.path.getsize(path) == 0:
            continue
        with open(path, "r+b") as f:
            f.seek(os.path.getsize(path) // 2)
            b = f.read(1)
            f.seek(-1, os.SEEK_CUR)
            f.write(bytes([b[0] ^ 0xFF]))
        n += 1
    return n


def swift_env():
    if all(os.environ.get(k) for k in ("ST_AUTH", "ST_USER", "ST_KEY")):
        return os.environ["ST_AUTH"], os.environ["ST_USER"], os.environ["ST_KEY"]
    return None


def run_checks(env, work, mib):
    import boto3  # only when an S3 store is there
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    bucket = f"cairn-ranges-{os.getpid()}"
    container = f"cairn-ranges-swift-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(mib * (1 << 20) + 4097)  # over one 64 MiB block
    s3.put_object(Bucket=bucket, Key="obj/huge.bin", Body=data)
    want = hashlib.md5(data).hexdigest()
    swift = None
    st = swift_env()
    if st is None:
        print("mount_ranges_e2e: no ST_AUTH/ST_USER/ST_KEY: the Swift part is skipped",
              file=sys.stderr)
    else:
        swift = shutil.which("swift")  # python3-swiftclient's command line
        if swift is None:
            raise SystemExit("mount_ranges_e2e: ST_* are set but the swift command is missing")
    swift_data = os.urandom(5_000_017)
    try:
        if swift is not None:
            with open(os.path.join(work, "plain.bin"), "wb") as fh:
                fh.write(swift_data)
            subprocess.run([swift, "upload", "-q", container, "plain.bin"], cwd=work,
                           check=True)
        alice = env.run(env.admin, "user", "add", "alice").stdout.decode().strip()
        env.run(alice, "remote", "add", "store", "--endpoint", os.environ["AWS_ENDPOINT_URL"],
                "--buckets", bucket)
        out = env.run(alice, "import", f"s3://{bucket}/obj/", "--name",
                      "external").stdout.decode().split()
        check("import by reference", len(out) >= 2, out)

        # The mixed collection: local blocks, the S3 object, the Swift object.
        src = os.path.join(work, "local")
        make_local(src)
        loc = env.run(alice, "put", "-q", src).stdout.decode().split()[0]
        mixed = env.run(alice, "cp", loc, "new/local", "--name",
                        "mixed").stdout.decode().split()[0]
        env.run(alice, "cp", f"{out[0]}/huge.bin", f"{mixed}/")
        if swift is not None:
            env.run(alice, "remote", "add", "sw", "--kind", "swift", "--buckets", container)
            sw = env.run(alice, "import", f"swift://{container}/").stdout.decode().split()
            check("import swift://container/", len(sw) >= 2, sw)
            env.run(alice, "cp", sw[0], f"{mixed}/swift")
        got_mixed = os.path.join(work, "got-mixed")
        env.run(alice, "get", "-q", mixed, got_mixed)
        want_mixed = mount_e2e.tree_files(got_mixed)
        expect = {"huge.bin"} | {os.path.join("local", r) for r in local_md5s(src)}
        if swift is not None:
            expect.add(os.path.join("swift", "plain.bin"))
        check("cairn get of the mixed collection has every part",
              set(want_mixed[0]) == expect, sorted(set(want_mixed[0]) ^ expect))
        check("cairn get of the mixed collection: S3 part", want_mixed[0].get("huge.bin") == want)

        cache_dir = os.path.join(work, "disk-cache")
        cache_args = ("--disk-cache-dir", cache_dir, "--disk-cache-mib", "512")
        m = mount_without_aws(env, alice, "mnt-ranges", *cache_args)
        f = os.path.join(m, "home", "external", "huge.bin")
        check("the imported object is in the mount", os.path.getsize(f) == len(data))

        before, _ = stats(m)
        reads = 200
        bad = random_reads(f, data, reads, 7)
        check(f"{reads} random 4 KiB reads of the external object", bad == 0, f"{bad} wrong")
        after, s = stats(m)
        per_read = (after - before) / reads
        print(f"mount_ranges_e2e: {per_read / 1024:.0f} KiB fetched per random 4 KiB read "
              f"({s})", file=sys.stderr)
        check("random reads fetch < 1 MiB per read", per_read < (1 << 20),
              f"{per_read:.0f} bytes per read")
        check("random reads used ranges, no whole block", s["ranges"] > 0 and s["blocks"] == 0, s)

        d = os.path.join(m, "home", "mixed")
        if swift is not None:
            bad = random_reads(os.path.join(d, "swift", "plain.bin"), swift_data, 200, 9)
            check("200 random 4 KiB reads of the Swift object", bad == 0, f"{bad} wrong")
        job_checks(d, want_mixed, "mixed collection", work)
        check("md5sum through the mount equals the source", mount_e2e.md5_file(f) == want)
        _, s = stats(m)
        check("sequential read used whole blocks", s["blocks"] >= 2, s)
        check("local blocks were written to the disk cache", s["disk_writes"] > 0, s)
        mode = os.stat(cache_dir).st_mode & 0o777
        files = [n for n in os.listdir(cache_dir) if len(n) == 32]
        check("disk cache: directory 0700, files 0600, named by MD5",
              mode == 0o700 and files and all(
                  os.stat(os.path.join(cache_dir, n)).st_mode & 0o777 == 0o600 for n in files),
              f"{mode:o} {files}")
        unmount(m)
        check("unmounted", not mounted(m))

        # A second mount on the same cache reads the local blocks from disk.
        want_local = local_md5s(src)
        m = mount_without_aws(env, alice, "mnt-ranges-2", *cache_args)
        local = os.path.join(m, "home", "mixed", "local")
        check("second mount: local files through the disk cache", local_md5s(local) == want_local)
        _, s = stats(m)
        check("second mount: disk hits and no block fetched",
              s["disk_hits"] > 0 and s["disk_hit_bytes"] > 0 and s["blocks"] == 0, s)
        unmount(m)

        # Corrupted cache files are never served: detected, deleted, fetched again.
        n = corrupt_cache(cache_dir)
        check("corrupted the cache files", n > 0, n)
        m = mount_without_aws(env, alice, "mnt-ranges-3", *cache_args)
        local = os.path.join(m, "home", "mixed", "local")
        check("third mount: right bytes despite the corrupt cache",
              local_md5s(local) == want_local)
        _, s = stats(m)
        check("third mount: corrupt files detected and refetched",
              s["disk_corrupt"] > 0 and s["disk_hits"] == 0 and s["blocks"] > 0, s)
        unmount(m)

        got = os.path.join(work, "got.bin")
        env.run(alice, "get", "-q", f"{out[0]}/huge.bin", got)
        check("cairn get equals the source", mount_e2e.md5_file(got) == want)
    finally:
        s3.delete_object(Bucket=bucket, Key="obj/huge.bin")
        s3.delete_bucket(Bucket=bucket)
        if swift is not None:
            subprocess.run([swift, "delete", "-q", container], capture_output=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cairn")
    ap.add_argument("--mib", type=int, default=70)
    a = ap.parse_args()
    if not os.environ.get("AWS_ENDPOINT_URL"):
        print("mount_ranges_e2e: skipped (no S3 store: AWS_ENDPOINT_URL is not set)",
              file=sys.stderr)
        return 0
    if not os.access("/dev/fuse", os.R_OK | os.W_OK) or shutil.which("fusermount3") is None:
        print("mount_ranges_e2e: needs /dev/fuse and fusermount3", file=sys.stderr)
        return 1
    work = tempfile.mkdtemp(prefix="cairn-mount-ranges.")
    os.chmod(work, 0o755)
    env = Env(os.path.abspath(a.cairn), work)
    try:
        run_checks(env, work, a.mib)
    finally:
        env.stop()
        if not any(mounted(m) for m in env.mounts):
            shutil.rmtree(work, ignore_errors=True)
    print(f"mount_ranges_e2e: {len(PASSED)} passed, {len(FAILED)} failed", file=sys.stderr)
    return 0 if not FAILED else 1


if __name__ == "__main__":
    sys.exit(main())
