#!/usr/bin/env python3
"""`cairn mpu` (N workers, one object) against one `cairn obj cp` of the same bytes.

  mpu.py --cairn BUILD/cairn --work DIR [--workers 8] [--mib 256] [--runs 3] [--presign]

Needs the environment of a running store (`eval "$(scripts/object-store start DIR)"`). Writes
N random partitions of --mib MiB each and their concatenation, then, --runs times, interleaved:
  mpu: `cairn mpu begin`, N `cairn mpu put` processes in parallel (xargs -P N), `cairn mpu complete`
  cp:  one `cairn obj cp` of the concatenated file
Reported (medians): wall time and MB/s of each, the coordinator's CPU seconds (begin + complete,
user + system, from GNU time) and the bytes it moved (what complete reports as coordinator_bytes:
head pieces it downloaded and uploaded again; 0 when every partition is at least 10 MiB), and the
workers' CPU. Both objects are checked: same size, and the mpu object's ETag is the N-part one.
Not run by the tests (README: make bench).
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20


def timed(cmd, **kwargs):
    """Runs cmd under GNU time; returns (wall s, cpu s of its process tree, stdout)."""
    with tempfile.NamedTemporaryFile("r") as stats:
        start = time.perf_counter()
        proc = subprocess.run(["/usr/bin/time", "-f", "%U %S", "-o", stats.name] + cmd,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)
        wall = time.perf_counter() - start
        if proc.returncode != 0:
            sys.exit(f"mpu.py: {' '.join(cmd)} failed ({proc.returncode}): "
                     f"{proc.stderr.decode()[-800:]}")
        user, system = stats.read().split()[-2:]
    return wall, float(user) + float(system), proc.stdout.decode()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cairn", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--mib", type=int, default=256)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--presign", action="store_true", help="workers without credentials")
    args = parser.parse_args()
    cairn = os.path.abspath(args.cairn)
    if "AWS_ENDPOINT_URL" not in os.environ:
        sys.exit("mpu.py: no store in the environment (eval \"$(scripts/object-store start)\")")
    work = tempfile.mkdtemp(prefix="cairn-mpu-bench.", dir=args.work)
    bucket = f"cairn-mpu-bench-{os.getpid()}"
    try:
        parts = []
        whole = os.path.join(work, "whole.bin")
        with open(whole, "wb") as out:
            for i in range(args.workers):
                path = os.path.join(work, f"p{i}")
                data = os.urandom(args.mib * MIB)
                with open(path, "wb") as f:
                    f.write(data)
                out.write(data)
                parts.append(path)
        size = args.workers * args.mib * MIB
        subprocess.run([cairn, "obj", "mb", f"s3://{bucket}"], check=True,
                       stdout=subprocess.DEVNULL)
        results = {"mpu": [], "cp": []}
        for run in range(args.runs):
            # mpu: begin, N workers in parallel, complete.
            session = os.path.join(work, f"s{run}.json")
            receipts = os.path.join(work, f"r{run}")
            os.mkdir(receipts)
            begin = [cairn, "mpu", "begin", f"s3://{bucket}/mpu{run}.bin", "--workers",
                     str(args.workers), "--session-out", session]
            if args.presign:
                begin.append("--presign")
            start = time.perf_counter()
            _, begin_cpu, _ = timed(begin)
            script = (f"'{cairn}' mpu put --session '{session}' --worker {{}} '{work}/p{{}}' "
                      f"> '{receipts}/{{}}.json'")
            _, workers_cpu, _ = timed(["sh", "-c", f"seq 0 {args.workers - 1} | xargs -P "
                                       f"{args.workers} -I{{}} sh -c \"{script}\""])
            _, complete_cpu, out = timed([cairn, "mpu", "complete", "--session", session,
                                          "--receipts", receipts])
            wall = time.perf_counter() - start
            done = json.loads(out)
            if done["size"] != size:
                sys.exit(f"mpu.py: the mpu object has {done['size']} bytes, not {size}")
            results["mpu"].append({"wall": wall, "coordinator_cpu": begin_cpu + complete_cpu,
                                   "coordinator_bytes": done["coordinator_bytes"],
                                   "workers_cpu": workers_cpu, "parts": done["parts"]})
            # cp: one process, the same bytes.
            wall, cpu, _ = timed([cairn, "obj", "cp", "-q", whole, f"s3://{bucket}/cp{run}.bin"])
            results["cp"].append({"wall": wall, "cpu": cpu})
            subprocess.run([cairn, "obj", "rm", "-r", f"s3://{bucket}/"], check=True,
                           stdout=subprocess.DEVNULL)
        med = lambda rows, k: statistics.median(r[k] for r in rows)
        mpu_wall, cp_wall = med(results["mpu"], "wall"), med(results["cp"], "wall")
        print(f"{args.workers} workers x {args.mib} MiB = {size / 1e6:.0f} MB, "
              f"{args.runs} runs (medians){', presigned' if args.presign else ''}")
        print(f"{'':28}{'wall s':>8}{'MB/s':>8}")
        print(f"{'cairn mpu (begin..complete)':28}{mpu_wall:8.2f}{size / 1e6 / mpu_wall:8.0f}")
        print(f"{'cairn obj cp':28}{cp_wall:8.2f}{size / 1e6 / cp_wall:8.0f}")
        print(f"mpu / cp speed: {cp_wall / mpu_wall:.2f}x; parts: {results['mpu'][0]['parts']}")
        print(f"coordinator: {med(results['mpu'], 'coordinator_cpu'):.3f} CPU s, "
              f"{med(results['mpu'], 'coordinator_bytes')} bytes moved; "
              f"workers: {med(results['mpu'], 'workers_cpu'):.2f} CPU s; "
              f"obj cp: {med(results['cp'], 'cpu'):.2f} CPU s")
    finally:
        subprocess.run([cairn, "obj", "rb", "--force", f"s3://{bucket}"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
