"""Local vs remote reads on a multi-host cluster, and how link shaping changes them.

A file with one replica on host 1 is read by a process on host 1 (its own DataNode: the bytes
never cross a link) and by one on host 2 (through both hosts' shaped links and the bridge), at
each link speed in turn (`tc` reshapes the running cluster). Prints MiB/s and remote/local
ratios measured in one run. Needs root (network namespaces). Usage:

    python benchmarks/bench_locality.py [--size-mib 64] [--links none,10gbit,1gbit,100mbit]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

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


def read_seconds(cluster: LocalCluster, host: str, path: str, repeat: int) -> float:
    """Best wall time of `repeat` reads of `path` by a process on `host`."""
    cmd = cluster.network.exec_command(host, [sys.executable, "-c", READER, path, str(repeat)])
    env = {**os.environ, **cluster.env()}
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return float(out.split()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=64)
    parser.add_argument("--links", default="none,10gbit,1gbit,100mbit")
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    links = [None if link == "none" else link for link in args.links.split(",")]
    cluster = LocalCluster(tempfile.mkdtemp(prefix="hopsfs-bench-locality-"), hosts=2, owned=True)
    cluster.up()
    try:
        path = "/bench-locality.bin"
        # written from host 1 with one replica: the NameNode puts it on host 1's DataNode
        write = (
            "import os, sys; from hdfs_native import Client, WriteOptions; "
            "f = Client(os.environ['HOPSFS_NAMENODE_URI']).create(sys.argv[1], WriteOptions(replication=1)); "
            "[f.write(os.urandom(1 << 20)) for _ in range(int(sys.argv[2]))]; f.close()"
        )
        cmd = cluster.network.exec_command(
            "host1", [sys.executable, "-c", write, path, str(args.size_mib)]
        )
        subprocess.run(cmd, env={**os.environ, **cluster.env()}, check=True)
        fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
        holders = {h for block in fs.block_locations(path) for h in block["hosts"]}
        if holders != {cluster.network.host_names[0]}:
            raise SystemExit(f"expected every block on host1 only, found them on {holders}")
        print(f"{args.size_mib} MiB, one replica on host1, best of {args.repeat} reads per cell")
        print(f"{'link':>8} | {'local MiB/s':>11} | {'remote MiB/s':>12} | remote/local")
        for link in links:
            cluster.network.shape(link)
            local = read_seconds(cluster, "host1", path, args.repeat)
            remote = read_seconds(cluster, "host2", path, args.repeat)
            mib = args.size_mib
            print(
                f"{link or 'none':>8} | {mib / local:11.0f} | {mib / remote:12.0f} | {local / remote:.2f}"
            )
    finally:
        cluster.down()


if __name__ == "__main__":
    main()
