"""Throughput of hopsfs (each backend) vs the raw hdfs-native client vs Hadoop's Java client.

Prints ratios measured in one run on one cluster (absolute numbers on a shared machine mean
little): a tree walk (find/glob/du: parallel vs fsspec's sequential default vs hdfs-native's own
calls; on loopback, and through latency_proxy.py with a NameNode --rtt-ms away), a large file (write/read per client; restartable vs not; put), cat_ranges, and many small
files (loop vs thread batch vs async). Usage:

    python benchmarks/bench_fs.py [--size-mib 1024] [--small-files 10000] [--tree-files 10000]
        [--tree-dirs 1000] [--rtt-ms 0.5] [--ranges 1000] [--only tree large ranges small]
        [--repeat 2] [--cluster-dir DIR]

Sizes also come from $BENCH_SIZE_MIB, $BENCH_SMALL_FILES, $BENCH_TREE_FILES, $BENCH_TREE_DIRS,
$BENCH_RTT_MS, $BENCH_RANGES (a reduced run on a small machine).

Without --cluster-dir (or $HOPSFS_TEST_CLUSTER) a 3-DataNode cluster is started and stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

from benchmark_cluster import benchmark_cluster
from fsspec.spec import AbstractFileSystem
from hdfs_native import Client, WriteOptions

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.asyncfs import AsyncHopsFileSystem
from hopsfs_tools.hadoop.jars import hadoop_jars

CHUNK = 8 * 1024 * 1024
BACKENDS = ("native", "arrow", "webhdfs")
SECTIONS = ["tree", "large", "ranges", "small"]


def rounds_of(fn: Callable[[], object], repeat: int) -> list[float]:
    """Wall times of `repeat` runs."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


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
    cluster: LocalCluster, size: int, repeat: int, base: str, clients: list[str] | None = None
) -> dict[str, tuple[list[float], list[float]]]:
    """{client: (write seconds per round, read seconds per round)} for one `size`-byte file;
    each round runs every client once, in turn (interleaved), so that load drifting over the run
    hits them alike."""
    cases: dict[str, tuple[Callable[[], None], Callable[[], None] | None]] = {}
    checks: dict[str, Callable[[], None]] = {}  # each backend's file read back, hashed, untimed
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(tmp) / "big.bin"
        want = make_local_file(local, size)
        raw = Client(cluster.namenode_uri)

        def overwrite(fn: Callable[[], None], path: str) -> Callable[[], None]:
            def run() -> None:
                if raw_exists(raw, path):
                    raw.delete(path, False)
                fn()

            return run

        def raw_write() -> None:
            with local.open("rb") as src, raw.create(f"{base}/raw.bin") as out:
                while chunk := src.read(CHUNK):
                    out.write(chunk)

        def raw_read() -> None:
            with raw.read(f"{base}/raw.bin") as src:
                while src.read(CHUNK):
                    pass

        def raw_parallel_read() -> None:  # the bare client's ceiling: 4 ranges at once
            reader = raw.read(f"{base}/raw.bin")
            with ThreadPoolExecutor(4) as pool:
                for _ in pool.map(lambda at: reader.read_range(at, CHUNK), range(0, size, CHUNK)):
                    pass

        cases["raw hdfs-native"] = (overwrite(raw_write, f"{base}/raw.bin"), raw_read)
        cases["raw hdfs-native, 4 ranges at once"] = (None, raw_parallel_read)
        for backend in BACKENDS:
            fs = HopsFileSystem(
                backend=backend,
                namenode=cluster.namenode_uri,
                webhdfs_url=cluster.webhdfs_url,
                skip_instance_cache=True,
            )
            target = f"{base}/{backend}.bin"

            def fs_write(fs=fs, target=target, **options) -> None:
                with local.open("rb") as src, fs.open(target, "wb", **options) as out:
                    while chunk := src.read(CHUNK):
                        out.write(chunk)

            def fs_read(fs=fs, target=target) -> None:  # like raw_read: no hashing in the time
                with fs.open(target, "rb", block_size=CHUNK) as src:
                    while src.read(CHUNK):
                        pass

            def fs_check(fs=fs, target=target, backend=backend) -> None:
                digest = hashlib.sha256()
                with fs.open(target, "rb", block_size=CHUNK) as src:
                    while chunk := src.read(CHUNK):
                        digest.update(chunk)
                assert digest.hexdigest() == want, f"{backend}: content differs"

            checks[f"hopsfs {backend}"] = fs_check

            cases[f"hopsfs {backend}"] = (overwrite(fs_write, target), fs_read)
            if backend == "arrow":  # the Java client recovers writes itself: nothing to spool
                continue
            cases[f"{backend} restartable=False"] = (
                overwrite(lambda fs_write=fs_write: fs_write(restartable=False), target),
                None,
            )
            cases[f"{backend} put (restarts from file)"] = (
                overwrite(lambda fs=fs, t=target: fs.put_file(str(local), t), target),
                None,
            )
        java_target = f"{cluster.namenode_uri}{base}/java.bin"
        cases["java FsShell"] = (
            lambda: java_fsshell(cluster, "-put", "-f", str(local), java_target),
            lambda: java_fsshell(cluster, "-cat", java_target),
        )
        if clients:  # only the rows naming one of `clients` (the raw client's always)
            cases = {
                name: case
                for name, case in cases.items()
                if name.startswith("raw") or any(c in name for c in clients)
            }
        rounds: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in cases}
        for _ in range(repeat):
            for name, (write, read) in cases.items():
                if write is not None:
                    rounds[name][0].append(timed(write, 1))
                if read is not None:
                    rounds[name][1].append(timed(read, 1))
        for name, check in checks.items():
            if name in cases:
                check()
    return rounds


def rate(mib: float, seconds: list[float]) -> str:
    """MiB/s of the median round and the min-max over the rounds ("" without rounds)."""
    if not seconds:
        return ""
    return f"{mib / statistics.median(seconds):.0f} ({mib / max(seconds):.0f}-{mib / min(seconds):.0f})"


def ratios(base: list[float], other: list[float]) -> str:
    """Speed of `other` vs `base`: the ratio of medians and the min-max of per-round ratios."""
    if not base or not other:
        return ""
    per_round = [b / o for b, o in zip(base, other, strict=False)]
    return (
        f"{statistics.median(base) / statistics.median(other):.2f} "
        f"({min(per_round):.2f}-{max(per_round):.2f})"
    )


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

    async_paths = {p.replace("/batch/", "/async/"): v for p, v in payload.items()}

    async def async_pipe() -> None:
        await async_fs(cluster)._pipe(async_paths)

    async def async_cat() -> None:
        assert await async_fs(cluster)._cat(list(async_paths)) == async_paths

    return {
        "raw pipe threads": timed(raw_threads, 1),
        "pipe loop": timed(loop_pipe, 1),
        "pipe batch": timed(lambda: fs.pipe(payload), 1),
        "pipe async": timed(lambda: asyncio.run(async_pipe()), 1),
        "cat loop": timed(loop_cat, 1),
        "cat batch": timed(batch_cat, 1),
        "cat async": timed(lambda: asyncio.run(async_cat()), 1),
    }


def async_fs(cluster: LocalCluster) -> AsyncHopsFileSystem:
    """The async filesystem (native backend) for the running event loop."""
    return AsyncHopsFileSystem(
        asynchronous=True, namenode=cluster.namenode_uri, skip_instance_cache=True
    )


class SequentialHopsFS(HopsFileSystem):
    """HopsFileSystem with fsspec's own sequential walk/glob/du (the default we replace)."""

    walk = AbstractFileSystem.walk
    glob = AbstractFileSystem.glob
    du = AbstractFileSystem.du


def make_tree(raw: Client, base: str, dirs: int, files: int, levels: int) -> None:
    """`dirs` directories over `levels` levels below `base` (breadth first) and `files` empty
    files spread over them, half *.csv (empty files: NameNode work only, no DataNode blocks)."""
    fanout = 2
    while sum(fanout**level for level in range(1, levels + 1)) < dirs:
        fanout += 1
    paths, frontier = [], [base]
    while len(paths) < dirs:
        frontier = [f"{p}/d{i}" for p in frontier for i in range(fanout)]
        paths += frontier[: dirs - len(paths)]
    names = [f"{paths[i % dirs]}/f{i}.{'csv' if i % 2 else 'txt'}" for i in range(files)]

    def touch(path: str) -> None:
        raw.create(path, WriteOptions(create_parent=True)).close()

    with ThreadPoolExecutor(32) as pool:
        list(pool.map(lambda p: raw.mkdirs(p, 0o755, True), paths))
        list(pool.map(touch, names))


def walk_rows(
    namenode: str, root: str, dirs: list[str], repeat: int, suffix: str = ""
) -> dict[str, float]:
    """Seconds for find, glob("**/*.csv") and du(total=False) of `root`: ours (parallel) vs
    fsspec's sequential default on the same filesystem; and every listing of `dirs` with the
    bare hdfs-native client in 1 vs 16 threads (what parallel listing gains here)."""
    ours = HopsFileSystem(namenode=namenode, skip_instance_cache=True)
    seq = SequentialHopsFS(namenode=namenode, skip_instance_cache=True)
    out: dict[str, float] = {}
    for name, fs in (("ours", ours), ("fsspec sequential", seq)):
        out[f"find {name}{suffix}"] = timed(lambda fs=fs: fs.find(root), repeat)
        out[f"glob {name}{suffix}"] = timed(lambda fs=fs: fs.glob(f"{root}/**/*.csv"), repeat)
        out[f"du {name}{suffix}"] = timed(lambda fs=fs: fs.du(root, total=False), repeat)
    raw = Client(namenode)

    def listings(threads: int) -> None:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(lambda d: list(raw.list_status(d)), dirs))

    out[f"every listing, hdfs-native, 1 thread{suffix}"] = timed(lambda: listings(1), repeat)
    out[f"every listing, hdfs-native, 16 threads{suffix}"] = timed(lambda: listings(16), repeat)
    return out


@contextmanager
def latency_proxy(namenode: str, rtt_ms: float) -> Iterator[str]:
    """`namenode`'s URI through latency_proxy.py, which adds about `rtt_ms` per round trip."""
    script = Path(__file__).with_name("latency_proxy.py")
    target = urlsplit(namenode).netloc
    delay = str(rtt_ms / 2)
    with subprocess.Popen(
        [sys.executable, str(script), "--target", target, "--delay-ms", delay],
        stdout=subprocess.PIPE,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None
            yield f"hdfs://127.0.0.1:{int(proc.stdout.readline())}"
        finally:
            proc.kill()


def round_trip(namenode: str, path: str, calls: int = 200) -> float:
    """Mean seconds of one NameNode call (get_file_info) through `namenode`."""
    raw = Client(namenode)
    raw.get_file_info(path)
    start = time.perf_counter()
    for _ in range(calls):
        raw.get_file_info(path)
    return (time.perf_counter() - start) / calls


def bench_tree(cluster: LocalCluster, args: argparse.Namespace, base: str) -> dict[str, float]:
    """walk_rows on loopback and through a latency proxy, hdfs-native's own recursive listing
    and glob, and the round trip each way."""
    raw = Client(cluster.namenode_uri)
    root = f"{base}/tree"
    make_tree(raw, root, args.tree_dirs, args.tree_files, args.tree_levels)
    ours = HopsFileSystem(namenode=cluster.namenode_uri, skip_instance_cache=True)
    seq = SequentialHopsFS(namenode=cluster.namenode_uri, skip_instance_cache=True)
    want = ours.find(root)
    assert len(want) == args.tree_files and seq.find(root) == want
    csv = sorted(p for p in want if p.endswith(".csv"))
    assert ours.glob(f"{root}/**/*.csv") == csv == seq.glob(f"{root}/**/*.csv")
    dirs = [
        p
        for p, i in ours.find(root, withdirs=True, detail=True).items()
        if i["type"] == "directory"
    ]
    out = walk_rows(cluster.namenode_uri, root, dirs, args.repeat)
    out["find hdfs-native list_status(recursive)"] = timed(
        lambda: list(raw.list_status(root, recursive=True)), args.repeat
    )
    # hdfs-native's glob_status has no "**": the same comparison at a fixed depth
    pattern = f"{root}/*/*/*/*.csv"
    level3 = sorted(p for p in csv if p.count("/") == pattern.count("/"))
    for name, fs in (("ours", ours), ("fsspec sequential", seq)):
        out[f"glob */*/*/*.csv {name}"] = timed(lambda fs=fs: fs.glob(pattern), args.repeat)
    assert ours.glob(pattern) == level3
    try:
        assert sorted(s.path for s in raw.glob_status(pattern)) == level3
        out["glob */*/*/*.csv hdfs-native glob_status"] = timed(
            lambda: raw.glob_status(pattern), args.repeat
        )
    except (AssertionError, RuntimeError, OSError) as e:
        print(f"# hdfs-native glob_status({pattern!r}) failed: {e!r:.200}")
    out["round trip, loopback"] = round_trip(cluster.namenode_uri, root)
    if args.rtt_ms > 0:
        with latency_proxy(cluster.namenode_uri, args.rtt_ms) as far:
            out["round trip, proxy"] = round_trip(far, root)
            out.update(walk_rows(far, root, dirs, args.repeat, suffix=", proxy"))
    return out


def bench_ranges(cluster: LocalCluster, args: argparse.Namespace, path: str) -> dict[str, float]:
    """Seconds for `args.ranges` random 64 KiB ranges of one big file: a loop of cat_file vs
    cat_ranges of the sync filesystem (native: on the async client; webhdfs: threads) vs the
    async filesystem's _cat_ranges (one loop)."""
    fs = HopsFileSystem(namenode=cluster.namenode_uri, skip_instance_cache=True)
    size = fs.size(path)
    rng = random.Random(0)
    starts = [rng.randrange(0, size - 65536) for _ in range(args.ranges)]
    ends = [s + 65536 for s in starts]
    paths = [path] * len(starts)
    want = [fs.cat_file(path, s, e) for s, e in zip(starts[:20], ends[:20], strict=True)]

    def loop() -> None:
        for s, e in zip(starts, ends, strict=True):
            fs.cat_file(path, s, e)

    web = HopsFileSystem(
        backend="webhdfs", webhdfs_url=cluster.webhdfs_url, namenode=cluster.namenode_uri
    )

    def web_loop() -> None:
        for s, e in zip(starts, ends, strict=True):
            web.cat_file(path, s, e)

    async def on_loop() -> None:
        got = await async_fs(cluster)._cat_ranges(paths, starts, ends)
        assert got[:20] == want

    return {
        "cat_file loop": rounds_of(loop, args.repeat),
        "cat_ranges sync": rounds_of(lambda: fs.cat_ranges(paths, starts, ends), args.repeat),
        "cat_ranges sync, webhdfs (threads)": rounds_of(
            lambda: web.cat_ranges(paths, starts, ends), args.repeat
        ),
        "cat_file loop, webhdfs": rounds_of(lambda: web_loop(), args.repeat),
        "cat_ranges async": rounds_of(lambda: asyncio.run(on_loop()), args.repeat),
    }


def ratio_line(label: str, slow: float, fast: float) -> str:
    return f"{label:<44}{slow / fast:>6.1f}x"


def run(cluster: LocalCluster, args: argparse.Namespace) -> None:
    """Print every table of the sections asked for."""
    base = f"/bench/fs-{os.getpid()}"
    Client(cluster.namenode_uri).mkdirs(base, 0o755, True)
    try:
        if "tree" in args.only:
            print(
                f"# tree: {args.tree_files} empty files in {args.tree_dirs} directories, "
                f"{args.tree_levels} levels (native backend), best of {args.repeat}"
            )
            tree = bench_tree(cluster, args, base)
            for key, secs in tree.items():
                print(f"{key:<52}{secs:>8.4f} s")
            for suffix in ("", ", proxy") if args.rtt_ms > 0 else ("",):
                where = "loopback" if not suffix else "NameNode behind the proxy"
                print(
                    f"# {where}: round trip {tree['round trip' + (suffix or ', loopback')] * 1e3:.2f} ms"
                )
                for op in ("find", "glob", "du"):
                    print(
                        ratio_line(
                            f"{op}: ours vs fsspec sequential",
                            tree[f"{op} fsspec sequential{suffix}"],
                            tree[f"{op} ours{suffix}"],
                        )
                    )
                print(
                    ratio_line(
                        "hdfs-native listings: 16 threads vs 1",
                        tree[f"every listing, hdfs-native, 1 thread{suffix}"],
                        tree[f"every listing, hdfs-native, 16 threads{suffix}"],
                    )
                )
        if "large" in args.only:
            for mib in args.large_mib or [args.size_mib]:
                print(
                    f"\n# large file: {mib} MiB, replication 3, {args.repeat} interleaved rounds: "
                    "median (min-max of rounds)"
                )
                large = bench_large(
                    cluster, mib * 1024 * 1024, args.repeat, base, args.large_clients
                )
                raw_w, raw_r = large["raw hdfs-native"]
                print(
                    f"{'client':<36}{'write MiB/s':>16}{'read MiB/s':>16}{'write/raw':>18}"
                    f"{'read/raw':>18}"
                )
                for name, (w, r) in large.items():
                    print(
                        f"{name:<36}{rate(mib, w):>16}{rate(mib, r):>16}{ratios(raw_w, w):>18}"
                        f"{ratios(raw_r, r):>18}"
                    )
                if "hopsfs native" in large and "hopsfs arrow" in large:
                    print(
                        "read, hopsfs native vs hopsfs arrow (ratio of medians, min-max of "
                        f"rounds): {ratios(large['hopsfs arrow'][1], large['hopsfs native'][1])}"
                    )
            print("# java FsShell times include JVM start-up (~1 s)")
        if "ranges" in args.only:
            if "large" not in args.only:
                make_big(cluster, f"{base}/native.bin", args.size_mib * 1024 * 1024)
            print(f"\n# {args.ranges} random 64 KiB ranges of a {args.size_mib} MiB file")
            spans = bench_ranges(cluster, args, f"{base}/native.bin")
            for key, secs in spans.items():
                print(
                    f"{key:<44}{min(secs):>8.3f} s (best; rounds {min(secs):.3f}-{max(secs):.3f})"
                )
            ranges = {key: min(secs) for key, secs in spans.items()}
            for label, slow, fast in (
                ("native: cat_ranges sync vs loop", "cat_file loop", "cat_ranges sync"),
                (
                    "webhdfs: cat_ranges threads vs loop",
                    "cat_file loop, webhdfs",
                    "cat_ranges sync, webhdfs (threads)",
                ),
            ):
                print(ratio_line(label, ranges[slow], ranges[fast]))
            print(
                ratio_line(
                    "cat_ranges async vs loop", ranges["cat_file loop"], ranges["cat_ranges async"]
                )
            )
        if "small" in args.only:
            print(f"\n# {args.small_files} files of 4 KiB (native backend)")
            small = bench_small(cluster, args.small_files, base)
            for key, secs in small.items():
                print(f"{key:<44}{secs:>8.2f} s  {args.small_files / secs:>8.0f} files/s")
            for op in ("pipe", "cat"):
                for way in ("batch", "async"):
                    print(
                        ratio_line(f"{op} {way} vs loop", small[f"{op} loop"], small[f"{op} {way}"])
                    )
            print(
                ratio_line(
                    "bare hdfs-native threads (pipe ceiling) vs loop",
                    small["pipe loop"],
                    small["raw pipe threads"],
                )
            )
    finally:
        Client(cluster.namenode_uri).delete(base, True)


def make_big(cluster: LocalCluster, path: str, size: int) -> None:
    """A `size`-byte file of random blocks at `path`."""
    block = os.urandom(CHUNK)
    with Client(cluster.namenode_uri).create(path) as out:
        for offset in range(0, size, CHUNK):
            out.write(block[: min(CHUNK, size - offset)])


def main() -> int:
    env = os.environ.get
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--size-mib",
        type=int,
        default=int(env("BENCH_SIZE_MIB", 1024)),
        help="large-file size ($BENCH_SIZE_MIB, default 1024)",
    )
    parser.add_argument(
        "--large-mib",
        type=int,
        action="append",
        help="large-file size(s) to write and read, repeatable (default: --size-mib)",
    )
    parser.add_argument(
        "--large-clients",
        nargs="*",
        help="only the large-file rows naming one of these (e.g. native arrow; raw always runs)",
    )
    parser.add_argument(
        "--small-files",
        type=int,
        default=int(env("BENCH_SMALL_FILES", 10_000)),
        help="number of 4 KiB files ($BENCH_SMALL_FILES, default 10000)",
    )
    parser.add_argument(
        "--tree-files",
        type=int,
        default=int(env("BENCH_TREE_FILES", 10_000)),
        help="files in the tree ($BENCH_TREE_FILES, default 10000)",
    )
    parser.add_argument(
        "--tree-dirs",
        type=int,
        default=int(env("BENCH_TREE_DIRS", 1000)),
        help="directories in the tree ($BENCH_TREE_DIRS, default 1000)",
    )
    parser.add_argument("--tree-levels", type=int, default=4, help="tree depth (default 4)")
    parser.add_argument(
        "--rtt-ms",
        type=float,
        default=float(env("BENCH_RTT_MS", 0.5)),
        help="also walk the tree through a proxy adding this round trip to the NameNode "
        "($BENCH_RTT_MS, default 0.5; 0: loopback only)",
    )
    parser.add_argument(
        "--ranges",
        type=int,
        default=int(env("BENCH_RANGES", 1000)),
        help="ranges read by cat_ranges ($BENCH_RANGES, default 1000)",
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs per measurement; best is kept")
    parser.add_argument(
        "--only",
        nargs="+",
        default=SECTIONS,
        choices=SECTIONS,
        help="sections to run (default all)",
    )
    parser.add_argument("--cluster-dir", default=env("HOPSFS_TEST_CLUSTER"))
    args = parser.parse_args()

    with benchmark_cluster(args.cluster_dir) as cluster:
        run(cluster, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
