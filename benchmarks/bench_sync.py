"""What `sync` saves: a second sync of an unchanged tree against a full copy of it, and the time
to find (and copy) one changed file in it, on the local cluster.

Each round uploads a fresh 1,000-file local tree with `sync` into an empty directory (the full
copy), syncs it again unchanged (by size and time, then comparing every checksum), changes one
file, finds it (a dry run) and syncs it. Prints per round and the
median with the spread (min-max) over rounds, as ratios of the full copy's time. The machine is
shared and noisy: compare ratios measured in one run, not absolute times. Usage:

    python benchmarks/bench_sync.py [--files 1000] [--size 4096] [--rounds 3] [--workers 8]
        [--backend native] [--cluster-dir DIR]

Without --cluster-dir (or $HOPSFS_TEST_CLUSTER) a 3-DataNode cluster is started and stopped.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from pathlib import Path

from benchmark_cluster import benchmark_cluster

from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks.sync import plan_sync, sync


def make_tree(top: Path, files: int, size: int) -> list[Path]:
    """`files` files of `size` random bytes in 10 directories under `top`."""
    paths = []
    for i in range(files):
        path = top / f"d{i % 10}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(size))
        paths.append(path)
    return paths


def timed(call) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def one_round(fs: HopsFileSystem, files: int, size: int, workers: int) -> dict[str, float]:
    """Seconds of: full copy, unchanged re-sync (sizes and times; and with checksum=True, which
    reads every file on both sides), finding one changed file (dry run), syncing it."""
    with tempfile.TemporaryDirectory(prefix="bench-sync-") as local:
        paths = make_tree(Path(local), files, size)
        remote = f"/bench/sync-{uuid.uuid4().hex[:8]}"
        full = timed(lambda: sync(local, remote, fs=fs, workers=workers))
        unchanged = timed(lambda: sync(local, remote, fs=fs, workers=workers))
        by_checksum = timed(lambda: sync(local, remote, fs=fs, workers=workers, checksum=True))
        changed = paths[len(paths) // 2]
        changed.write_bytes(os.urandom(size))
        find = timed(lambda: plan_sync(local, remote, fs=fs, workers=workers))
        plan = plan_sync(local, remote, fs=fs, workers=workers)
        assert len(plan.copies) == 1, plan.copies
        one = timed(lambda: sync(local, remote, fs=fs, workers=workers))
        fs.rm(remote, recursive=True)
    return {
        "full": full,
        "unchanged": unchanged,
        "checksums": by_checksum,
        "find_one": find,
        "sync_one": one,
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--size", type=int, default=4096, help="bytes per file")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--backend", default="native")
    parser.add_argument("--cluster-dir", default=os.environ.get("HOPSFS_TEST_CLUSTER"))
    args = parser.parse_args()
    with benchmark_cluster(args.cluster_dir) as cluster:
        fs = HopsFileSystem(
            backend=args.backend,
            namenode=cluster.namenode_uri,
            webhdfs_url=cluster.webhdfs_url,
            conf_dir=str(cluster.conf_dir),
            skip_instance_cache=True,
        )
        fs.makedirs("/bench", exist_ok=True)
        rounds = [one_round(fs, args.files, args.size, args.workers) for _ in range(args.rounds)]
        fs.close()
    print(
        f"sync of {args.files} files x {args.size} B, {args.workers} workers, backend "
        f"{args.backend}, {args.rounds} rounds (shared, noisy machine: read the ratios)"
    )
    for i, r in enumerate(rounds, 1):
        print(f"round {i}: " + ", ".join(f"{k} {v:.2f}s" for k, v in r.items()))
    for key in ("unchanged", "checksums", "find_one", "sync_one"):
        ratios = [r[key] / r["full"] for r in rounds]
        print(
            f"{key:>9} / full copy: median {statistics.median(ratios):.3f} "
            f"(min {min(ratios):.3f} - max {max(ratios):.3f}); "
            f"median {statistics.median(r[key] for r in rounds):.2f}s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
