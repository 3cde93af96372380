"""How `tf.io.gfile.exists` through the plugin warms up: wall and CPU time per block of 1,000
calls, in a fresh process per JVM option set (the plugin's JVM takes LIBHDFS_OPTS at start).
Shows when the JVM's C2 compiler has finished with Hadoop's client, and what a C1-only JVM
(-XX:TieredStopAtLevel=1) trades. Usage:

    python benchmarks/bench_gfile_jit.py [--blocks 24] [--cluster-dir DIR]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

OPTIONS = {"default JVM": "", "C1 only": "-XX:TieredStopAtLevel=1"}


def child(cluster_dir: str, blocks: int) -> None:
    """Print "wall_ms/cpu_ms" per block of 1,000 `exists` calls."""
    import tensorflow as tf

    from hopsfs_tools import tensorflow as htf
    from hopsfs_tools.cluster import LocalCluster
    from hopsfs_tools.fs import HopsFileSystem

    cluster = LocalCluster(cluster_dir, datanodes=3, owned=False)
    htf.register()
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    directory = f"/bench/gfile-jit-{os.getpid()}"
    fs.pipe_file(f"{directory}/f", b"x")
    url = f"{cluster.namenode_uri}{directory}/f"
    cells = []
    try:
        for _ in range(blocks):
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(1000):
                tf.io.gfile.exists(url)
            cells.append(
                f"{(time.perf_counter() - wall) * 1e3:.0f}/{(time.process_time() - cpu) * 1e3:.0f}"
            )
    finally:
        fs.rm(directory, recursive=True)
    print(" ".join(cells))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--blocks", type=int, default=24, help="blocks of 1,000 calls")
    parser.add_argument("--cluster-dir", default=os.environ.get("HOPSFS_TEST_CLUSTER"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cluster_dir is None:
        parser.error("--cluster-dir (or $HOPSFS_TEST_CLUSTER): a running local cluster")
    if args.child:
        child(args.cluster_dir, args.blocks)
        return 0
    print("# ms per block of 1,000 tf.io.gfile.exists calls: wall/CPU, blocks in order")
    for label, options in OPTIONS.items():
        env = {**os.environ, "LIBHDFS_OPTS": f"{os.environ.get('LIBHDFS_OPTS', '')} {options}"}
        command = [sys.executable, __file__, "--child", "--blocks", str(args.blocks)]
        out = subprocess.run(
            [*command, "--cluster-dir", args.cluster_dir],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        print(f"{label:<12} {out.splitlines()[-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
