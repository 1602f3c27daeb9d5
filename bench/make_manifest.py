#!/usr/bin/env python3
"""Writes a large, realistic manifest for benchmarks: FILES files in directories of 1,000,
small files packed into 64 MiB blocks the way `cairn put` packs them, with long, sequencing-style
file names (about 100 bytes of manifest text per file: 1,000,000 files make ~100 MB).

  make_manifest.py FILES [--signed] [--shuffle] > manifest.txt

--signed adds a +A permission signature to every locator (what the catalog returns);
--shuffle lists each stream's files in random order (so normalizing has to sort).
Deterministic for given arguments.
"""
import argparse
import hashlib
import random
import sys

BLOCK = 1 << 26


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("files", type=int)
    ap.add_argument("--signed", action="store_true")
    ap.add_argument("--shuffle", action="store_true")
    args = ap.parse_args()
    rng = random.Random(42)
    out = sys.stdout
    per_dir = 1000
    dirs = (args.files + per_dir - 1) // per_dir
    written = 0
    for d in range(dirs):
        n = min(per_dir, args.files - written)
        sizes = [rng.randint(1, 400_000) for _ in range(n)]
        total = sum(sizes)
        blocks = []
        remaining = total
        while remaining > 0:
            size = min(BLOCK, remaining)
            h = hashlib.md5(f"{d}/{len(blocks)}".encode()).hexdigest()
            loc = f"{h}+{size}"
            if args.signed:
                sig = hashlib.sha1(loc.encode()).hexdigest()
                loc += f"+A{sig}@7fffffff"
            blocks.append(loc)
            remaining -= size
        tokens = []
        pos = 0
        for i, size in enumerate(sizes):
            name = (f"sample_{d:05d}_{i:04d}_S{i % 96 + 1}_L00{i % 4 + 1}_R{i % 2 + 1}_001"
                    f".trimmed.sorted.dedup.realigned.recal.fastq.gz")
            tokens.append(f"{pos}:{size}:{name}")
            pos += size
        if args.shuffle:
            rng.shuffle(tokens)
        stream = f"./project_alpha/run_2026_11_{d % 30 + 1:02d}/batch_{d:05d}"
        out.write(stream + " " + " ".join(blocks) + " " + " ".join(tokens) + "\n")
        written += n


if __name__ == "__main__":
    main()
