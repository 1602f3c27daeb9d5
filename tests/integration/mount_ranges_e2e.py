#!/usr/bin/env python3
"""Random small reads of an external S3 object through `cairn mount` (issue 8, item 2).

  mount_ranges_e2e.py BUILD/cairn [--mib N]

Needs an S3 store in the environment (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
as `scripts/object-store start` prints them); without one it says so and exits 0 (skipped).
Starts `cairn server` (mount_e2e.Env), uploads an object over one 64 MiB block with boto3,
`cairn remote add` + `cairn import` it by reference as alice, mounts with no AWS_* variables
(reads go through the gateway), then checks: 200 random 4 KiB reads equal the source and fetch
less than 1 MiB per read on average (the mount's user.cairn.stats xattr: whole-block and ranged
bytes received); md5sum of the file equals the source's; `cairn get` equals it too.
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
            "AWS_PROFILE")


def stats(mnt):
    s = json.loads(os.getxattr(mnt, "user.cairn.stats"))
    return s["block_bytes"] + s["range_bytes"], s


def mount_without_aws(env, token, name):
    """A background mount whose process has no cloud credentials (reads go through the gateway)."""
    mnt = os.path.join(env.work, name)
    os.makedirs(mnt, exist_ok=True)
    e = env.env(token)
    for k in AWS_VARS:
        e.pop(k, None)
    p = subprocess.run([env.cairn, "mount", mnt, "--ttl", "1"], env=e, capture_output=True)
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


def run_checks(env, work, mib):
    import boto3  # only when an S3 store is there
    s3 = boto3.client("s3", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
    bucket = f"cairn-ranges-{os.getpid()}"
    s3.create_bucket(Bucket=bucket)
    data = os.urandom(mib * (1 << 20) + 4097)  # over one 64 MiB block
    s3.put_object(Bucket=bucket, Key="obj/huge.bin", Body=data)
    want = hashlib.md5(data).hexdigest()
    try:
        alice = env.run(env.admin, "user", "add", "alice").stdout.decode().strip()
        env.run(alice, "remote", "add", "store", "--endpoint", os.environ["AWS_ENDPOINT_URL"],
                "--buckets", bucket)
        out = env.run(alice, "import", f"s3://{bucket}/obj/", "--name",
                      "external").stdout.decode().split()
        check("import by reference", len(out) >= 2, out)
        m = mount_without_aws(env, alice, "mnt-ranges")
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

        check("md5sum through the mount equals the source", mount_e2e.md5_file(f) == want)
        _, s = stats(m)
        check("sequential read used whole blocks", s["blocks"] >= 2, s)
        unmount(m)
        check("unmounted", not mounted(m))
        got = os.path.join(work, "got.bin")
        env.run(alice, "get", "-q", f"{out[0]}/huge.bin", got)
        check("cairn get equals the source", mount_e2e.md5_file(got) == want)
    finally:
        s3.delete_object(Bucket=bucket, Key="obj/huge.bin")
        s3.delete_bucket(Bucket=bucket)


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
