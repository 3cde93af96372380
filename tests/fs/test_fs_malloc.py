"""malloc tuning for large reads (hopsfs_tools.fs.malloc), each case in a fresh process: the
settings are per process and applied when a HopsFileSystem first connects."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hopsfs_tools.fs import HopsFileSystem

READ_TWICE = """
import json, resource, sys
from hopsfs_tools.fs import HopsFileSystem, malloc
fs = HopsFileSystem()

def read():
    with fs.open(sys.argv[1], "rb", block_size=8 << 20, cache_type="none") as f:
        while f.read(8 << 20):
            pass

read()  # connects (tuning malloc unless told not to) and warms up
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
read()
faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
print(json.dumps({"tuned": malloc.tune_for_large_reads(), "faults": faults}))
"""

SIZE = 48 * 2**20


@pytest.fixture
def big_file(cluster, hdfs_dir) -> str:
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    path = f"{hdfs_dir}/big.bin"
    fs.pipe_file(path, os.urandom(SIZE))
    return path


def read_twice(cluster, path: str, **env: str) -> dict:
    """In a fresh process: whether malloc is tuned, and the minor page faults of a second
    read of `path` in 8 MiB pieces."""
    child_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "HOPSFS_MALLOC"))
    }
    child_env.update(cluster.env(), **env)
    out = subprocess.run(
        [sys.executable, "-c", READ_TWICE, path],
        check=False,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


def test_tuned_reads_reuse_their_buffers(cluster, big_file):
    """Without the tuning every 8 MiB read page-faults its buffer in again (a third of the CPU
    of a read in benchmarks/bench_malloc.py); with it, freed buffers are reused."""
    tuned = read_twice(cluster, big_file)
    untuned = read_twice(cluster, big_file, HOPSFS_MALLOC_TUNING="0")
    assert tuned["tuned"] is True
    assert untuned["tuned"] is False
    pages = SIZE // os.sysconf("SC_PAGE_SIZE")
    assert untuned["faults"] > pages // 2, untuned  # each buffer faulted in again
    assert tuned["faults"] < pages // 8, tuned
    assert tuned["faults"] * 10 < untuned["faults"]


@pytest.mark.parametrize(
    "env",
    [
        {"HOPSFS_MALLOC_TUNING": "off"},
        {"MALLOC_TRIM_THRESHOLD_": "131072"},
        {"MALLOC_MMAP_THRESHOLD_": "131072"},
        {"GLIBC_TUNABLES": "glibc.malloc.trim_threshold=131072"},
    ],
    ids=["opt-out", "trim-set", "mmap-set", "tunables-set"],
)
def test_users_own_malloc_settings_are_left_alone(cluster, big_file, env):
    assert read_twice(cluster, big_file, **env)["tuned"] is False
