"""malloc tuning for large reads (hopsfs_tools.fs.malloc), each case in a fresh process: the
settings are per process and applied when a HopsFileSystem first connects."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from hopsfs_tools.fs import HopsFileSystem

READ_AGAIN = """
import json, resource, sys
from hopsfs_tools.fs import HopsFileSystem, malloc
fs = HopsFileSystem()

def read():
    size = int(sys.argv[2])
    with fs.open(sys.argv[1], "rb", block_size=size, cache_type="none") as f:
        while f.read(size):
            pass

read()  # connects (tuning malloc unless told not to) and warms up
read()  # the read-ahead thread and the caller read at once: the heaps' peak settles
faults = []
for _ in range(4):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    read()
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps({"tuned": malloc.tune_for_large_reads(), "faults": max(faults)}))
"""

SIZE = 48 * 2**20


@pytest.fixture
def big_file(cluster, hdfs_dir) -> str:
    fs = HopsFileSystem(namenode=cluster.namenode_uri, webhdfs_url=cluster.webhdfs_url)
    path = f"{hdfs_dir}/big.bin"
    fs.pipe_file(path, os.urandom(SIZE))
    return path


def read_again(cluster, path: str, piece: int = 8 * 2**20, **env: str) -> dict:
    """In a fresh process: whether malloc is tuned, and the most minor page faults of one read
    of `path` in `piece`-byte reads among four after two warm-up reads (a steady state: a thread
    arena whose extra heap is unmapped each time it empties faults on every read)."""
    child_env = {
        k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "HOPSFS_MALLOC"))
    }
    child_env.update(cluster.env(), **env)
    out = subprocess.run(
        [sys.executable, "-c", READ_AGAIN, path, str(piece)],
        check=False,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])


@pytest.mark.parametrize("piece", [8 * 2**20, 16 * 2**20], ids=["8MiB", "16MiB"])
def test_tuned_reads_reuse_their_buffers(cluster, big_file, piece):
    """Without the tuning every read of a few MiB page-faults its buffer in again (a third of
    the CPU of a read in benchmarks/bench_malloc.py); with it, freed buffers are reused. 8 MiB
    reads are fetched ahead in the read-ahead thread (hopsfs_tools.fs.readahead), 16 MiB reads
    are not: a read-ahead of pieces that big would overflow the thread arena's first heap."""
    tuned = read_again(cluster, big_file, piece)
    untuned = read_again(cluster, big_file, piece, HOPSFS_MALLOC_TUNING="0")
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
    assert read_again(cluster, big_file, **env)["tuned"] is False
