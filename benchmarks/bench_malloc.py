"""CPU and time of reading from HDFS with and without hopsfs's malloc tuning (fs/malloc.py).

Each side runs in its own process (malloc settings are per process), alternately, `--rounds`
times; each process reads the same files `--repeat` times with 4 threads in 8 MiB reads, the
way the TFRecord cache and bulk copies do. Prints the best wall time, the CPU seconds and the
minor page faults of each side, and their ratios. Usage:

    python benchmarks/bench_malloc.py [--size-mib 512] [--rounds 3] [--cluster-dir DIR]

Without --cluster-dir (or $HOPSFS_TEST_CLUSTER) a 3-DataNode cluster is started and stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from benchmark_cluster import benchmark_cluster

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem

CHUNK = 8 * 2**20
FILES = 16


def read_all(fs: HopsFileSystem, paths: list[str]) -> int:
    def read(path: str) -> int:
        n = 0
        with fs.open(path, "rb", block_size=CHUNK, cache_type="none") as f:
            while chunk := f.read(CHUNK):
                n += len(chunk)
        return n

    with ThreadPoolExecutor(4) as pool:
        return sum(pool.map(read, paths))


def child(cluster: LocalCluster, paths: list[str], repeat: int) -> dict[str, float]:
    """In this process: best wall time, and CPU seconds and minor faults per pass."""
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    read_all(fs, paths[:1])  # connect (and tune, unless disabled) before measuring
    best, cpu, faults = float("inf"), 0.0, 0
    for _ in range(repeat):
        before, start = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        read_all(fs, paths)
        wall, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF)
        best = min(best, wall)
        cpu += after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
        faults += after.ru_minflt - before.ru_minflt
    return {"wall": best, "cpu": cpu / repeat, "faults": faults / repeat}


def compare(cluster: LocalCluster, size_mib: int, rounds: int, repeat: int) -> None:
    """Print the table: each side in `rounds` processes of `repeat` passes, best kept."""
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    base = f"/bench/malloc-{os.getpid()}"
    size = size_mib * 2**20 // FILES
    block = os.urandom(CHUNK)
    try:
        paths = [f"{base}/part-{i:02d}" for i in range(FILES)]
        for path in paths:
            with fs.open(path, "wb") as f:
                for offset in range(0, size, CHUNK):
                    f.write(block[: min(CHUNK, size - offset)])
        sides = {"glibc defaults": "0", "hopsfs tuning": "1"}
        runs: dict[str, list[dict[str, float]]] = {side: [] for side in sides}
        for _ in range(rounds):
            for side, setting in sides.items():
                env = {**os.environ, "HOPSFS_MALLOC_TUNING": setting}
                out = subprocess.run(
                    [
                        sys.executable,
                        __file__,
                        "--cluster-dir",
                        str(cluster.directory),
                        "--repeat",
                        str(repeat),
                        "--child",
                        *paths,
                    ],
                    env=env,
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                runs[side].append(json.loads(out.splitlines()[-1]))
        best = {
            side: {key: min(r[key] for r in results) for key in ("wall", "cpu", "faults")}
            for side, results in runs.items()
        }
        print(
            f"# reading {size_mib} MiB from HDFS, 4 threads, 8 MiB reads; best of "
            f"{rounds} processes x {repeat} passes; {os.cpu_count()} cores"
        )
        print(f"{'malloc':<16}{'seconds':>9}{'CPU s':>8}{'minor faults':>14}")
        for side, r in best.items():
            print(f"{side:<16}{r['wall']:>9.3f}{r['cpu']:>8.2f}{r['faults']:>14.0f}")
        default, tuned = best["glibc defaults"], best["hopsfs tuning"]
        print(
            f"tuning: {default['wall'] / tuned['wall']:.2f}x faster, "
            f"{tuned['cpu'] / default['cpu']:.2f}x the CPU, "
            f"{tuned['faults'] / max(default['faults'], 1):.3f}x the page faults"
        )
    finally:
        fs.rm(base, recursive=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=512, help="MiB read per pass")
    parser.add_argument("--rounds", type=int, default=3, help="processes per side")
    parser.add_argument("--repeat", type=int, default=3, help="passes per process")
    parser.add_argument("--cluster-dir", default=os.environ.get("HOPSFS_TEST_CLUSTER"))
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child is not None:
        print(json.dumps(child(LocalCluster(args.cluster_dir), args.child, args.repeat)))
        return 0
    with benchmark_cluster(args.cluster_dir) as cluster:
        compare(cluster, args.size_mib, args.rounds, args.repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
