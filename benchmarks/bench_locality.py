"""Local vs remote reads on a multi-host cluster, how link shaping changes them, and what
locality-aware sharding gains a job of one worker per host.

1. A file with one replica on host 1 is read by a process on host 1 (its own DataNode: the bytes
   never cross a link) and by one on host 2 (through both hosts' shaped links and the bridge),
   at each link speed in turn (`tc` reshapes the running cluster).
2. One-replica files spread over the hosts are read by one worker per host at once, each taking
   its shard with `shard_files(..., prefer_local=True)` or round-robin, at one link speed.

Prints MiB/s and ratios measured in one run. Needs root (network namespaces). Usage:

    python benchmarks/bench_locality.py [--size-mib 64] [--links none,10gbit,1gbit,100mbit]
        [--hosts 4] [--files-per-host 4] [--file-mib 16] [--job-link 100mbit]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from hopsfs_tools import HopsFileSystem
from hopsfs_tools.cluster import LocalCluster

# Runs on a host: the best time of `repeat` full reads of one file through hopsfs (native).
READER = """
import sys, time
from hopsfs_tools import HopsFileSystem
path, repeat = sys.argv[1], int(sys.argv[2])
fs = HopsFileSystem()
best = float("inf")
for _ in range(repeat):
    start = time.perf_counter()
    with fs.open(path, "rb") as f:
        while f.read(8 << 20):
            pass
    best = min(best, time.perf_counter() - start)
print(best)
"""

# Runs on a host: writes files with one replica (the NameNode puts it on this host's DataNode).
WRITER = """
import os, sys
from hdfs_native import Client, WriteOptions
client = Client(os.environ["HOPSFS_NAMENODE_URI"])
mib = int(sys.argv[1])
for path in sys.argv[2:]:
    with client.create(path, WriteOptions(replication=1)) as f:
        for _ in range(mib):
            f.write(os.urandom(1 << 20))
"""

# Runs on a host: worker `index` of a job takes its shard, waits for the common start time,
# reads its files and prints when it finished (wall clock, comparable across the workers).
WORKER = """
import json, sys, time
from hopsfs_tools import HopsFileSystem
from hopsfs_tools.sharding import shard_files
job = json.loads(sys.argv[1])
fs = HopsFileSystem()
mine = shard_files(job["files"], job["index"], len(job["hosts"]), prefer_local=job["local"],
                   fs=fs, hosts_by_worker=job["hosts"])
time.sleep(max(0.0, job["start"] - time.time()))
for path in mine:
    fs.cat_file(path)
print(time.time())
"""


def on_host(cluster: LocalCluster, host: str, code: str, *args: str) -> subprocess.Popen:
    """A Python process running `code` on `host` with the cluster's environment."""
    cmd = cluster.network.exec_command(host, [sys.executable, "-c", code, *args])
    env = {**os.environ, **cluster.env()}
    return subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, text=True)


def output(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate()
    if proc.returncode:
        raise SystemExit(f"{proc.args} failed (exit {proc.returncode})")
    return out


def local_vs_remote(cluster: LocalCluster, links: list[str | None], mib: int, repeat: int) -> None:
    """Part 1: one file on host 1, read from host 1 and from host 2 at each link speed."""
    path = "/bench-locality/one.bin"
    output(on_host(cluster, "host1", WRITER, str(mib), path))
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    holders = {h for block in fs.block_locations(path) for h in block["hosts"]}
    if holders != {cluster.network.host_names[0]}:
        raise SystemExit(f"expected every block of {path} on host1 only, found {holders}")
    print(f"1. {mib} MiB, one replica on host1, best of {repeat} reads per cell")
    print(f"{'link':>8} | {'local MiB/s':>11} | {'remote MiB/s':>12} | remote/local")
    for link in links:
        cluster.network.shape(link)
        local = float(output(on_host(cluster, "host1", READER, path, str(repeat))))
        remote = float(output(on_host(cluster, "host2", READER, path, str(repeat))))
        print(
            f"{link or 'none':>8} | {mib / local:11.0f} | {mib / remote:12.0f} | {local / remote:.2f}"
        )


def job(cluster: LocalCluster, per_host: int, mib: int, link: str) -> None:
    """Part 2: one worker per host reads all files at once, by locality or round-robin."""
    net = cluster.network
    hosts = net.host_names[: net.hosts]
    n = len(hosts)
    files = [f"/bench-locality/part-{i:03d}.bin" for i in range(per_host * n)]
    # file i on host (i // n + i) % n + 1: round-robin worker w gets one local file in n
    writers = [
        on_host(
            cluster,
            f"host{k}",
            WRITER,
            str(mib),
            *(f for i, f in enumerate(files) if (i // n + i) % n + 1 == k),
        )
        for k in range(1, n + 1)
    ]
    for proc in writers:
        output(proc)
    cluster.network.shape(link)
    total = mib * len(files)
    print(f"2. {n} workers (one per host) read {total} MiB at once, links {link}")
    print(f"{'shards':>11} | {'MiB/s':>6} | vs round-robin")
    speed = {}
    for local in (False, True):
        start = time.time() + 5  # every worker has started and taken its shard by then
        spec = {"files": files, "hosts": hosts, "local": local, "start": start}
        procs = [
            on_host(cluster, f"host{i + 1}", WORKER, json.dumps({**spec, "index": i}))
            for i in range(n)
        ]
        finished = max(float(output(p)) for p in procs)
        speed[local] = total / (finished - start)
        name = "locality" if local else "round-robin"
        print(f"{name:>11} | {speed[local]:6.0f} | {speed[local] / speed[False]:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--links", default="none,10gbit,1gbit,100mbit")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--hosts", type=int, default=4)
    parser.add_argument("--files-per-host", type=int, default=4)
    parser.add_argument("--file-mib", type=int, default=16)
    parser.add_argument("--job-link", default="100mbit")
    args = parser.parse_args()
    links = [None if link == "none" else link for link in args.links.split(",")]
    directory = tempfile.mkdtemp(prefix="hopsfs-bench-locality-")
    cluster = LocalCluster(directory, hosts=args.hosts, owned=True)
    cluster.up()
    try:
        local_vs_remote(cluster, links, args.size_mib, args.repeat)
        job(cluster, args.files_per_host, args.file_mib, args.job_link)
    finally:
        cluster.down()


if __name__ == "__main__":
    main()
