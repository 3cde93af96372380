"""Load: 8 processes write, read back and verify distinct files of random sizes at once.

Every byte is checked (sha256, and random ranges byte for byte); no error may occur. The run
lasts HOPSFS_LOAD_SECONDS (default 25) of work per process; totals are printed (`-s`).
"""

from __future__ import annotations

import multiprocessing
import os
import time
from concurrent.futures import ProcessPoolExecutor

import load_worker
import pytest

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.fs.commit import TEMP_MARKER

PROCESSES = 8
# Mostly the default backend; WebHDFS and arrow (a JVM per process) take part too.
BACKENDS = ["native", "native", "native", "native", "native", "webhdfs", "webhdfs", "arrow"]
SECONDS = float(os.environ.get("HOPSFS_LOAD_SECONDS", "25"))


@pytest.mark.slow
def test_eight_processes_read_write_verify(cluster: LocalCluster, hdfs_dir: str) -> None:
    env = cluster.env()
    started = time.monotonic()
    with ProcessPoolExecutor(PROCESSES, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [
            pool.submit(load_worker.run, i, hdfs_dir, BACKENDS[i], SECONDS, env)
            for i in range(PROCESSES)
        ]
        results = [f.result(timeout=SECONDS + 300) for f in futures]
    elapsed = time.monotonic() - started

    errors = [e for r in results for e in r["errors"]]
    files = sum(r["files"] for r in results)
    written = sum(r["bytes_written"] for r in results)
    verified = sum(r["bytes_verified"] for r in results)
    print(
        f"\nload: {PROCESSES} processes for {SECONDS:g}s ({elapsed:.0f}s with start-up): "
        f"{files} files, {written / 2**20:.1f} MiB written, {verified / 2**20:.1f} MiB "
        f"verified, {sum(r['reads'] for r in results)} reads, {len(errors)} errors"
    )
    for r in results:
        print(
            f"  worker {r['worker']} ({r['backend']}): {r['files']} files, "
            f"{r['bytes_verified'] / 2**20:.1f} MiB verified"
        )
    assert errors == []
    assert all(r["files"] >= 3 for r in results), results
    assert verified >= 2 * written > 0
    listed = HopsFileSystem(
        namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url, skip_instance_cache=True
    ).ls(hdfs_dir, detail=True)
    assert len(listed) == files
    assert not [e["name"] for e in listed if TEMP_MARKER in e["name"]]
    assert sum(e["size"] for e in listed) == written
    assert elapsed < SECONDS + 240, elapsed
