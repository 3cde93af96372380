"""Throughput of hopsfs (each backend) vs the raw hdfs-native client vs Hadoop's Java client.

Prints ratios measured in one run on one cluster (absolute numbers on a shared machine mean
little). Usage:

    python benchmarks/bench_fs.py [--size-mib 1024] [--small-files 10000] [--cluster-dir DIR]

Without --cluster-dir (or $HOPSFS_TEST_CLUSTER) a 3-DataNode cluster is started and stopped.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmark_cluster import benchmark_cluster
from hdfs_native import Client

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hadoop.jars import hadoop_jars

CHUNK = 8 * 1024 * 1024
BACKENDS = ("native", "arrow", "webhdfs")


def timed(fn: Callable[[], object], repeat: int) -> float:
    """Best wall time of `repeat` runs (the least disturbed by other load)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def make_local_file(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    block = os.urandom(CHUNK)
    with path.open("wb") as out:
        left = size
        while left:
            piece = block[: min(CHUNK, left)]
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
    return digest.hexdigest()


def java_fsshell(cluster: LocalCluster, *args: str, stdout=subprocess.DEVNULL) -> None:
    classpath = os.pathsep.join([str(cluster.conf_dir), str(hadoop_jars() / "*")])
    subprocess.run(
        ["java", "-Xmx512m", "-cp", classpath, "org.apache.hadoop.fs.FsShell", *args],
        check=True,
        stdout=stdout,
        stderr=subprocess.DEVNULL,
    )


def bench_large(
    cluster: LocalCluster, size: int, repeat: int, base: str
) -> dict[str, tuple[float, float]]:
    """{client: (write_s, read_s)} for one `size`-byte file."""
    results: dict[str, tuple[float, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "big.bin"
        want = make_local_file(local, size)
        raw = Client(cluster.namenode_uri)

        def raw_write() -> None:
            with local.open("rb") as src, raw.create(f"{base}/raw.bin") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)

        def raw_read() -> None:
            with raw.read(f"{base}/raw.bin") as src:
                while src.read(CHUNK):
                    pass

        def overwrite(fn: Callable[[], None], path: str) -> Callable[[], None]:
            def run() -> None:
                if raw_exists(raw, path):
                    raw.delete(path, False)
                fn()

            return run

        results["raw hdfs-native"] = (
            timed(overwrite(raw_write, f"{base}/raw.bin"), repeat),
            timed(raw_read, repeat),
        )
        for backend in BACKENDS:
            fs = HopsFileSystem(
                backend=backend,
                namenode=cluster.namenode_uri,
                webhdfs_url=cluster.webhdfs_url,
                skip_instance_cache=True,
            )
            target = f"{base}/{backend}.bin"

            def fs_write(fs=fs, target=target) -> None:
                with local.open("rb") as src, fs.open(target, "wb") as out:
                    while chunk := src.read(CHUNK):
                        out.write(chunk)

            def fs_read(fs=fs, target=target, backend=backend) -> None:
                digest = hashlib.sha256()
                with fs.open(target, "rb", block_size=CHUNK) as src:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                assert digest.hexdigest() == want, f"{backend}: content differs"

            results[f"hopsfs {backend}"] = (
                timed(overwrite(fs_write, target), repeat),
                timed(fs_read, repeat),
            )
        java_target = f"{cluster.namenode_uri}{base}/java.bin"
        results["java FsShell"] = (
            timed(lambda: java_fsshell(cluster, "-put", "-f", str(local), java_target), repeat),
            timed(lambda: java_fsshell(cluster, "-cat", java_target), repeat),
        )
    return results


def raw_exists(client: Client, path: str) -> bool:
    try:
        client.get_file_info(path)
    except FileNotFoundError:
        return False
    return True


def bench_small(cluster: LocalCluster, count: int, base: str) -> dict[str, float]:
    """Seconds to pipe and cat `count` 4 KiB files: fsspec batch calls vs a sequential loop."""
    fs = HopsFileSystem(
        backend="native",
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,
        skip_instance_cache=True,
    )
    payload = {f"{base}/small/batch/{i:05d}": os.urandom(4096) for i in range(count)}
    loop_paths = {p.replace("/batch/", "/loop/"): v for p, v in payload.items()}
    fs.makedirs(f"{base}/small/batch", exist_ok=True)
    fs.makedirs(f"{base}/small/loop", exist_ok=True)

    def loop_pipe() -> None:
        for path, data in loop_paths.items():
            fs.pipe_file(path, data)

    def loop_cat() -> None:
        for path, data in loop_paths.items():
            assert fs.cat_file(path) == data

    def batch_cat() -> None:
        got = fs.cat(list(payload))
        assert got == payload

    raw = Client(cluster.namenode_uri)
    raw_paths = {p.replace("/batch/", "/raw/"): v for p, v in payload.items()}
    raw.mkdirs(f"{base}/small/raw", 0o755, True)

    def raw_write(item: tuple[str, bytes]) -> None:
        with raw.create(item[0]) as out:
            out.write(item[1])

    def raw_threads() -> None:  # the ceiling: the bare client, same concurrency, no commit rename
        with ThreadPoolExecutor(fs.batch_size) as pool:
            list(pool.map(raw_write, raw_paths.items()))

    return {
        "raw pipe threads": timed(raw_threads, 1),
        "pipe loop": timed(loop_pipe, 1),
        "pipe batch": timed(lambda: fs.pipe(payload), 1),
        "cat loop": timed(loop_cat, 1),
        "cat batch": timed(batch_cat, 1),
    }


def run(cluster: LocalCluster, args: argparse.Namespace) -> None:
    """Print both tables."""
    base = f"/bench/fs-{os.getpid()}"
    Client(cluster.namenode_uri).mkdirs(base, 0o755, True)
    try:
        size = args.size_mib * 1024 * 1024
        print(
            f"# large file: {args.size_mib} MiB, replication 3, 3 DataNodes, best of {args.repeat}"
        )
        large = bench_large(cluster, size, args.repeat, base)
        raw_w, raw_r = large["raw hdfs-native"]
        print(
            f"{'client':<18}{'write MiB/s':>12}{'read MiB/s':>12}{'write/raw':>11}{'read/raw':>10}"
        )
        for name, (w, r) in large.items():
            mib = args.size_mib
            print(f"{name:<18}{mib / w:>12.0f}{mib / r:>12.0f}{raw_w / w:>11.2f}{raw_r / r:>10.2f}")
        print("# java FsShell times include JVM start-up (~1 s)")
        print(f"\n# {args.small_files} files of 4 KiB (native backend)")
        small = bench_small(cluster, args.small_files, base)
        for key, secs in small.items():
            print(f"{key:<12}{secs:>8.2f} s  {args.small_files / secs:>8.0f} files/s")
        print(
            f"pipe speed-up batch/loop: {small['pipe loop'] / small['pipe batch']:.1f}x "
            f"(bare hdfs-native threads/loop: {small['pipe loop'] / small['raw pipe threads']:.1f}x)"
        )
        print(f"cat  speed-up batch/loop: {small['cat loop'] / small['cat batch']:.1f}x")
    finally:
        Client(cluster.namenode_uri).delete(base, True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size-mib", type=int, default=1024, help="large-file size (default 1024)")
    parser.add_argument("--small-files", type=int, default=10_000, help="number of 4 KiB files")
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; best is kept")
    parser.add_argument("--cluster-dir", default=os.environ.get("HOPSFS_TEST_CLUSTER"))
    args = parser.parse_args()

    with benchmark_cluster(args.cluster_dir) as cluster:
        run(cluster, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
