"""TFRecord input from HDFS into tf.data: hopsfs `tfrecord_dataset` (each strategy) and TF's own
TFRecordDataset over hdfs:// URLs (the filesystem plugin; plain and with seed 001's interleave)
vs TF's native TFRecordDataset over the same files on local disk (the limit) vs a naive reader
that yields one record per `from_generator` call. Also the peak RSS while streaming a large
shard set, and 1,000 x exists/stat/listdir through tf.io.gfile (plugin) vs fsspec `hopsfs`.

"bound: local + raw" is the better of running TF's faster local read and the raw HDFS read of
the same files at once, or one after the other: an HDFS reader for tf.data does at least both
on the same cores as the cluster, so its "vs local" is about the most any reader can reach on
this machine.

Each row also shows where the time went, for its best round: "cpu s" is this process's CPU
(user + system: TF, the plugin's JVM, Python), "cluster s" the cluster daemons' CPU, and
"cores" (cpu + cluster) / wall, how much of the machine the reader kept busy at once.

Prints ratios measured in one run on one cluster (absolute numbers on a shared machine mean
little). Usage:

    python benchmarks/bench_tfrecord.py [--large-mib 512] [--small-count 200000] [--rss-mib 2048]
                                        [--files 16] [--repeat 5] [--cluster-dir DIR]

Without --cluster-dir (or $HOPSFS_TEST_CLUSTER) a 3-DataNode cluster is started and stopped.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import NamedTuple

from benchmark_cluster import benchmark_cluster

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.formats.tfrecord import TFRecordWriter, read_records
from hopsfs_tools.fs import HopsFileSystem

STRATEGIES = ("native", "cache", "stream")
PLUGIN_BUFFER = 8 * 2**20  # seed 001's TFRecordDataset buffer_size
UNCHECKED = "hopsfs native, verify=False"  # without the check that names a bad record's file


def make_files(directory: Path, files: int, records: int, size: int) -> list[str]:
    """`files` TFRecord files holding `records` distinct records of `size` bytes in all."""
    block = os.urandom(size)
    paths = []
    for i in range(files):
        path = directory / f"part-{i:05d}.tfrecord"
        with path.open("wb") as f, TFRecordWriter(f) as writer:
            for j in range(i, records, files):
                writer.write(struct.pack("<Q", j) + block[8:])
        paths.append(str(path))
    return paths


def total_bytes(tf, dataset, batch: int = 256) -> int:
    """Consume `dataset` in batches, as training would, in C++: the bytes of all records."""
    return int(
        dataset.batch(batch).reduce(
            tf.constant(0, tf.int64),
            lambda n, b: n + tf.reduce_sum(tf.cast(tf.strings.length(b), tf.int64)),
        )
    )


def raw_read(fs: HopsFileSystem, paths: list[str], threads: int = 4) -> int:
    """Read every byte from HDFS in 8 MiB chunks, `threads` files at once, parsing nothing."""

    def read(path: str) -> int:
        n = 0
        with fs.open(path, "rb", block_size=8 * 2**20, cache_type="none") as f:
            while chunk := f.read(8 * 2**20):
                n += len(chunk)
        return n

    with ThreadPoolExecutor(threads) as pool:
        return sum(pool.map(read, paths))


def naive_dataset(tf, fs: HopsFileSystem, paths: list[str]):
    """One record per generator call: the obvious way to feed HDFS records to tf.data."""

    def records():
        for path in paths:
            with fs.open(path, "rb") as f:
                yield from read_records(f)

    return tf.data.Dataset.from_generator(records, output_signature=tf.TensorSpec((), tf.string))


def both(tf_read: Callable[[], int], hdfs_read: Callable[[], int]) -> int:
    """Run TF's local read and the raw HDFS read at once; the bytes TF read."""
    with ThreadPoolExecutor(1) as pool:
        raw = pool.submit(hdfs_read)
        got = tf_read()
        raw.result()
    return got


class Run(NamedTuple):
    """One timed run: wall seconds, this process's CPU seconds, the cluster daemons' CPU seconds."""

    wall: float
    cpu: float
    cluster: float


INFINITE = Run(float("inf"), 0.0, 0.0)
DAEMON_PIDS: list[int] = []  # the cluster's NameNode and DataNodes (run() fills it in)


def process_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def daemons_cpu() -> float:
    """CPU seconds the cluster's daemons used so far (0 for a daemon that is gone)."""
    total = 0.0
    for pid in DAEMON_PIDS:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def timed(fn: Callable[[], int], expect: int, repeat: int = 1) -> Run:
    """The fastest of `repeat` runs of fn, which must return `expect`."""
    best = INFINITE
    for _ in range(repeat):
        cpu, cluster, start = process_cpu(), daemons_cpu(), time.perf_counter()
        got = fn()
        run = Run(time.perf_counter() - start, process_cpu() - cpu, daemons_cpu() - cluster)
        best = min(best, run)
        assert got == expect, f"read {got} bytes, expected {expect}"
    return best


def workload(
    tf,
    fs: HopsFileSystem,
    name: str,
    files: int,
    records: int,
    size: int,
    base: str,
    repeat: int,
) -> None:
    """Print the table of one workload: `records` records of `size` bytes in `files` files."""
    from hopsfs_tools import tensorflow as htf

    with tempfile.TemporaryDirectory(prefix="bench-tfrecord-") as tmp:
        local = make_files(Path(tmp), files, records, size)
        remote = f"{base}/{name}"
        fs.put(local, remote + "/")
        remote_paths = [f"{remote}/{Path(p).name}" for p in local]
        expect = records * size
        mib = expect / 2**20
        batch = max(1, 4 * 2**20 // size)  # batches of 4 MiB
        sequential = tf.data.TFRecordDataset(local, buffer_size=2**20).prefetch(-1)
        interleaved = (
            tf.data.Dataset.from_tensor_slices(local)
            .interleave(
                lambda p: tf.data.TFRecordDataset(p, buffer_size=2**20),
                cycle_length=files,
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            .prefetch(-1)
        )
        total_bytes(tf, sequential.take(batch), batch)  # warm up TF's runtime
        raw_bytes = expect + records * 16  # framing included
        local_reads = {"sequential": sequential, "interleaved": interleaved}

        def hdfs() -> int:
            return raw_read(fs, remote_paths)

        readers: dict[str, tuple[Callable[[], int], int]] = {
            f"TF local, {kind}": (lambda ds=ds: total_bytes(tf, ds, batch), expect)
            for kind, ds in local_reads.items()
        }
        readers["HDFS raw read (no TF)"] = (hdfs, raw_bytes)
        # about the best any HDFS reader feeding tf.data can do here: it must fetch the bytes
        # and TF must parse them, on the same cores as the cluster (at once, or one by one)
        for kind, ds in local_reads.items():
            readers[f"at once: {kind} + raw"] = (
                lambda ds=ds: both(lambda: total_bytes(tf, ds, batch), hdfs),
                expect,
            )
        for strategy in STRATEGIES:
            ds = htf.tfrecord_dataset(remote_paths, fs=fs, strategy=strategy)
            readers[f"hopsfs {strategy}"] = (lambda ds=ds: total_bytes(tf, ds, batch), expect)
        unchecked = htf.tfrecord_dataset(remote_paths, fs=fs, strategy="native", verify=False)
        readers[UNCHECKED] = (lambda: total_bytes(tf, unchecked, batch), expect)
        urls = [fs.config.namenode_uri + p for p in remote_paths]  # TF's own reader, via the plugin
        plugin_reads = {
            "TF native over hdfs:// (plugin)": tf.data.TFRecordDataset(
                urls, buffer_size=PLUGIN_BUFFER
            ).prefetch(-1),
            "TF native, no prefetch": tf.data.TFRecordDataset(urls, buffer_size=PLUGIN_BUFFER),
            "  + seed interleave": tf.data.Dataset.from_tensor_slices(urls)
            .interleave(
                lambda f: tf.data.TFRecordDataset(f, buffer_size=PLUGIN_BUFFER),
                cycle_length=32,
                num_parallel_calls=tf.data.AUTOTUNE,
            )
            .prefetch(-1),
        }
        for key, ds in plugin_reads.items():
            readers[key] = (lambda ds=ds: total_bytes(tf, ds, batch), expect)
        best = dict.fromkeys(readers, INFINITE)
        walls: dict[str, list[float]] = {key: [] for key in readers}  # every round's wall time
        for _ in range(repeat):  # round robin: a slow spell of the machine hits every reader
            for key, (fn, size_read) in readers.items():
                run = timed(fn, size_read)
                walls[key].append(run.wall)
                best[key] = min(best[key], run)
        native = {f"TF local, {kind}": best[f"TF local, {kind}"] for kind in local_reads}
        results = {**native, "HDFS raw read (no TF)": best["HDFS raw read (no TF)"]}
        fastest_local = min(native.values())
        raw = results["HDFS raw read (no TF)"]
        results["bound: local + raw"] = min(
            *(best[f"at once: {kind} + raw"] for kind in local_reads),
            Run(*(a + b for a, b in zip(fastest_local, raw, strict=True))),  # one after the other
        )
        results.update((key, best[key]) for key in plugin_reads)
        results.update(
            (f"hopsfs {strategy}", best[f"hopsfs {strategy}"]) for strategy in STRATEGIES
        )
        results[UNCHECKED] = best[UNCHECKED]
        naive_ds = naive_dataset(tf, fs, remote_paths)  # slow: run once
        results["naive from_generator"] = timed(lambda: total_bytes(tf, naive_ds, batch), expect)
        limit = fastest_local.wall  # the faster way TF reads the same files from local disk
        naive = results["naive from_generator"].wall
        ceiling = raw.wall
        print(f"\n# {name}: {records} records of {size} B = {mib:.0f} MiB in {files} files")
        bound = results["bound: local + raw"].wall
        print(
            f"{'reader':<32}{'seconds':>9}{'rounds s':>12}{'MiB/s':>7}{'rec/s':>9}{'vs local':>9}"
            f"{'vs bound':>9}{'vs naive':>9}{'vs raw':>8}{'cpu s':>7}{'cluster s':>10}{'cores':>6}"
        )
        for key, run in results.items():
            secs = run.wall
            spread = f"{min(walls[key]):.2f}-{max(walls[key]):.2f}" if key in walls else "-"
            print(
                f"{key:<32}{secs:>9.2f}{spread:>12}{mib / secs:>7.0f}{records / secs:>9.0f}"
                f"{limit / secs:>8.2f}x{bound / secs:>8.2f}x{naive / secs:>8.1f}x"
                f"{ceiling / secs:>7.2f}x{run.cpu:>7.2f}{run.cluster:>10.2f}"
                f"{(run.cpu + run.cluster) / secs:>6.1f}"
            )
        for plugin in ("TF native over hdfs:// (plugin)", "TF native, no prefetch"):
            for key in ("hopsfs native", UNCHECKED, "  + seed interleave"):  # the target's measure
                per_round = sorted(p / w for p, w in zip(walls[plugin], walls[key], strict=True))
                print(
                    f"{key.strip()} vs {plugin}: best {results[plugin].wall / results[key].wall:.2f}x, "
                    f"median per round {statistics.median(per_round):.2f}x "
                    f"({per_round[0]:.2f}-{per_round[-1]:.2f})"
                )
        same = {  # the plugin against TF reading the same files locally with the same pipeline
            "sequential": ("TF native over hdfs:// (plugin)", "TF local, sequential"),
            "interleaved": ("  + seed interleave", "TF local, interleaved"),
        }
        print(
            "plugin vs TF local, same pipeline: "
            + ", ".join(
                f"{kind} {results[local].wall / results[plugin].wall:.2f}x"
                for kind, (plugin, local) in same.items()
            )
        )
        fs.rm(remote, recursive=True)


def small_ops(
    tf, fs: HopsFileSystem, base: str, calls: int, rounds: int = 5, warmups=(2_000, 30_000)
) -> None:
    """`calls` x exists / stat / listdir of one small directory: tf.io.gfile vs fsspec, in
    `rounds` interleaved blocks, measured twice: after 2,000 calls of each (the JVM's C2
    compiler is still compiling the Hadoop client's code, and competes for the cores) and after
    30,000 (compiled: a long-running process's cost; benchmarks/bench_gfile_jit.py shows the
    curve)."""
    directory = f"{base}/small"
    fs.makedirs(directory, exist_ok=True)
    for i in range(10):
        fs.pipe_file(f"{directory}/f{i}", b"x" * i)
    url = fs.config.namenode_uri + directory
    pairs = {
        "exists": (lambda: tf.io.gfile.exists(f"{url}/f1"), lambda: fs.exists(f"{directory}/f1")),
        "stat": (lambda: tf.io.gfile.stat(f"{url}/f1"), lambda: fs.info(f"{directory}/f1")),
        "listdir (10 files)": (lambda: tf.io.gfile.listdir(url), lambda: fs.ls(directory)),
    }
    done = 0
    for warmup in warmups:
        print(
            f"\n# {calls} x each metadata call on one directory after {warmup:,} calls of each, in "
            f"{rounds} interleaved blocks (microseconds per call: median block (min-max); speed: "
            "median of per-block ratios)"
        )
        print(f"{'operation':<20}{'tf.io.gfile':>18}{'fsspec hopsfs':>18}{'gfile speed':>20}")
        for name, (gfile_call, fsspec_call) in pairs.items():
            for call in (gfile_call, fsspec_call):
                for _ in range(warmup - done):  # warm up (connections; the JVM's JIT)
                    call()
            blocks: tuple[list[float], list[float]] = ([], [])
            for _ in range(rounds):
                for call, out in zip((gfile_call, fsspec_call), blocks, strict=True):
                    start = time.perf_counter()
                    for _ in range(calls // rounds):
                        call()
                    out.append((time.perf_counter() - start) / (calls // rounds) * 1e6)
            speed = sorted(f / g for g, f in zip(*blocks, strict=True))
            cells = [f"{statistics.median(b):.0f} ({min(b):.0f}-{max(b):.0f})" for b in blocks]
            print(
                f"{name:<20}{cells[0]:>18}{cells[1]:>18}"
                f"{statistics.median(speed):>9.2f}x ({speed[0]:.2f}-{speed[-1]:.2f})"
            )
        done = warmup + calls


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def rss_child(strategy: str, paths: list[str], namenode: str, webhdfs: str, expect: int) -> None:
    """In a fresh process: peak RSS above the baseline while one dataset streams `paths`."""
    import tensorflow as tf

    from hopsfs_tools import tensorflow as htf

    fs = HopsFileSystem(namenode=namenode, webhdfs_url=webhdfs)
    ds = htf.tfrecord_dataset(paths, fs=fs, strategy=strategy)
    total_bytes(tf, htf.tfrecord_dataset(paths[:1], fs=fs, strategy=strategy).take(4), 4)  # warm up
    baseline = peak = rss_bytes()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, rss_bytes())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    seconds = timed(lambda: total_bytes(tf, ds, 4), expect).wall  # batches of 4 MiB
    done.set()
    sampler.join()
    print(f"{strategy} {peak - baseline} {seconds}")


def rss_workload(
    fs: HopsFileSystem, cluster: LocalCluster, mib: int, files: int, base: str
) -> None:
    size = 2**20
    records = mib
    remote = f"{base}/rss"
    with tempfile.TemporaryDirectory(prefix="bench-tfrecord-") as tmp:
        local = make_files(Path(tmp), files, records, size)
        fs.put(local, remote + "/")
    paths = [f"{remote}/{Path(p).name}" for p in local]
    print(f"\n# peak RSS above baseline while streaming {mib} MiB (1 MiB records, {files} files)")
    print(f"{'strategy':<10}{'peak MiB':>10}{'seconds':>9}")
    for strategy in STRATEGIES:
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--rss-child",
                strategy,
                "--cluster-dir",
                str(cluster.directory),
                "--expect",
                str(records * size),
                *paths,
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        print(f"{strategy:<10}{int(out[1]) / 2**20:>10.0f}{float(out[2]):>9.2f}")
    fs.rm(remote, recursive=True)


def run(cluster: LocalCluster, args: argparse.Namespace) -> None:
    """Print every table."""
    import tensorflow as tf

    from hopsfs_tools import tensorflow as htf

    htf.register()  # hdfs:// for TF (URLs below name the cluster, so no default is needed)
    DAEMON_PIDS[:] = cluster.state.pids.values()
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    base = f"/bench/tfrecord-{os.getpid()}"
    fs.makedirs(base, exist_ok=True)
    try:
        print(
            f"# {os.cpu_count()} cores; best of {args.repeat} rounds (naive: 1 run); 'vs' columns are "
            "speed ratios, higher is better; 'local' = the faster TF local row"
        )
        for label, count, size in (
            ("1 MiB records", args.large_mib, 2**20),
            ("1 KiB records", args.small_count, 1024),
        ):
            workload(tf, fs, label, args.files, count, size, base, args.repeat)
        if args.small_ops:
            small_ops(tf, fs, base, args.small_ops)
        if args.rss_mib:
            rss_workload(fs, cluster, args.rss_mib, args.files, base)
    finally:
        fs.rm(base, recursive=True)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--large-mib", type=int, default=512, help="MiB of 1 MiB records")
    parser.add_argument("--small-count", type=int, default=200_000, help="number of 1 KiB records")
    parser.add_argument("--rss-mib", type=int, default=2048, help="MiB streamed for the RSS check")
    parser.add_argument("--small-ops", type=int, default=1000, help="calls per metadata operation")
    parser.add_argument("--files", type=int, default=16, help="files per workload")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of every reader, best kept")
    parser.add_argument("--cluster-dir", default=os.environ.get("HOPSFS_TEST_CLUSTER"))
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--expect", type=int, help=argparse.SUPPRESS)
    parser.add_argument("paths", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.rss_child:
        cluster = LocalCluster(args.cluster_dir)
        rss_child(
            args.rss_child, args.paths, cluster.namenode_uri, cluster.webhdfs_url, args.expect
        )
        return 0
    with benchmark_cluster(args.cluster_dir) as cluster:
        run(cluster, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
