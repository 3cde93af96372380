"""Jupyter contents on HDFS (HopsContentsManager) vs on local disk (jupyter_server's
AsyncFileContentsManager): listing a directory of 1,000 notebooks, opening and saving a 5 MiB
notebook, and JupyterLab's check before each save (content-less GET with hash).

Both managers hold the same content; each operation is timed through the manager's API, as the
server calls it. Prints ratios measured in one run. Usage:

    python benchmarks/bench_jupyter.py [--notebooks 1000] [--size-mib 5] [--cluster-dir DIR]

Without --cluster-dir (or $HOPSFS_TEST_CLUSTER) a 3-DataNode cluster is started and stopped.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import nbformat
from benchmark_cluster import benchmark_cluster
from jupyter_server.services.contents.filemanager import AsyncFileContentsManager

from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.jupyter import HopsContentsManager


def small_notebook(i: int) -> bytes:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(f"# Experiment {i}"),
        nbformat.v4.new_code_cell(f"x = {i}\nprint(x * 2)"),
    ]
    return nbformat.writes(nb).encode()


def big_notebook(size: int) -> bytes:
    """A notebook of at least `size` bytes, mostly PNG-like outputs (as plots make them)."""
    nb = nbformat.v4.new_notebook()
    blob = base64.b64encode(os.urandom(256 * 1024)).decode()
    while len(data := nbformat.writes(nb).encode()) < size:
        out = nbformat.v4.new_output("display_data", {"image/png": blob, "text/plain": "<Figure>"})
        nb.cells.append(nbformat.v4.new_code_cell(f"plot({len(nb.cells)})", outputs=[out]))
    return data


async def best(call: Callable[[], Awaitable[Any]], repeat: int) -> float:
    """Best wall time of `repeat` awaited calls (the least disturbed by other load)."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        await call()
        times.append(time.perf_counter() - start)
    return min(times)


async def measure(cm: Any, big: dict[str, Any], repeat: int) -> dict[str, float]:
    return {
        "list 1,000 notebooks": await best(lambda: cm.get("many"), repeat),
        "open 5 MiB notebook": await best(lambda: cm.get("big.ipynb"), repeat),
        "save 5 MiB notebook": await best(lambda: cm.save(big, "big.ipynb"), repeat),
        "check before save (hash)": await best(
            lambda: cm.get("big.ipynb", content=False, require_hash=True), repeat
        ),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--notebooks", type=int, default=1000)
    parser.add_argument("--size-mib", type=float, default=5)
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; best kept")
    parser.add_argument("--cluster-dir", default=os.environ.get("HOPSFS_TEST_CLUSTER"))
    args = parser.parse_args()
    big = big_notebook(int(args.size_mib * 2**20))
    with benchmark_cluster(args.cluster_dir) as cluster, tempfile.TemporaryDirectory() as local:
        os.environ.update(cluster.env())
        root = f"/tmp/bench-jupyter-{uuid.uuid4().hex[:8]}"
        fs = HopsFileSystem(skip_instance_cache=True)
        files = {f"many/nb-{i:04d}.ipynb": small_notebook(i) for i in range(args.notebooks)}
        files["big.ipynb"] = big
        fs.pipe({f"{root}/{k}": v for k, v in files.items()})
        for name, data in files.items():
            (Path(local) / name).parent.mkdir(exist_ok=True)
            (Path(local) / name).write_bytes(data)
        model = {"type": "notebook", "content": json.loads(big)}
        try:
            hdfs = asyncio.run(measure(HopsContentsManager(root_dir=root), model, args.repeat))
            disk = asyncio.run(
                measure(AsyncFileContentsManager(root_dir=local), model, args.repeat)
            )
        finally:
            fs.rm(root, recursive=True)
    print(
        f"{args.notebooks} notebooks, a {len(big) / 2**20:.1f} MiB notebook; best of "
        f"{args.repeat}; HopsContentsManager (HDFS) vs AsyncFileContentsManager (local disk)"
    )
    print(f"{'operation':<28}{'HDFS s':>10}{'local s':>10}{'HDFS/local':>12}")
    for op, seconds in hdfs.items():
        print(f"{op:<28}{seconds:>10.3f}{disk[op]:>10.3f}{seconds / disk[op]:>11.1f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
