"""Forking right after an hdfs-native read (os.fork, DataLoader "fork" workers) is safe.

A child forked within 3 s of a read used to take one of the parent's pooled DataNode
connections and hang for good. Each scenario runs in a fresh interpreter with an alarm: a
hang fails the test instead of blocking the run.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

import pytest

PREAMBLE = """
import os, signal, sys, time
from hopsfs_tools import HopsFileSystem
namenode, webhdfs, directory = sys.argv[1:]
fs = HopsFileSystem(namenode=namenode, webhdfs_url=webhdfs, timeout=5)
payload = os.urandom(3 << 20)
fs.pipe_file(directory + "/data", payload)
"""


def run(cluster: Any, hdfs_dir: str, script: str) -> str:
    """stdout of PREAMBLE + `script` in a fresh interpreter (fails on a non-zero exit)."""
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PREAMBLE + textwrap.dedent(script),
            cluster.namenode_uri,
            cluster.webhdfs_url,
            hdfs_dir,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-1000:] + proc.stderr[-3000:]
    return proc.stdout


def test_os_fork_right_after_a_read(cluster, hdfs_dir):
    """Parent reads, forks at once; the child reads through the same filesystem object (its
    client is dropped at fork and made anew) within a bound, several times in a row."""
    out = run(
        cluster,
        hdfs_dir,
        """
        for attempt in range(3):
            assert fs.cat_file(directory + "/data") == payload  # pooled DataNode connections
            started = time.monotonic()
            pid = os.fork()
            if pid == 0:
                signal.alarm(30)  # a hang kills the child: the parent sees the signal
                ok = fs.cat_file(directory + "/data") == payload
                os._exit(0 if ok else 3)
            _, status = os.waitpid(pid, 0)
            took = time.monotonic() - started
            assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, (attempt, status)
            assert took < 20, took
            print("child ok", round(took, 1))
    """,
    )
    assert out.count("child ok") == 3


def test_dataloader_fork_workers_right_after_a_read(cluster, hdfs_dir):
    """data_loader(..., multiprocessing_context="fork") just after the parent read the data."""
    pytest.importorskip("torch")
    out = run(
        cluster,
        hdfs_dir,
        """
        from hopsfs_tools.formats.tfrecord import TFRecordWriter
        from hopsfs_tools.adapters.torch import TFRecordIterableDataset, data_loader
        records = [b"record %d " % i * (i % 5 + 1) for i in range(200)]
        for shard in range(4):
            with fs.open(f"{directory}/train-{shard}.tfrecord", "wb") as f:
                writer = TFRecordWriter(f)
                for record in records[shard::4]:
                    writer.write(record)
                writer.close()
        dataset = TFRecordIterableDataset(directory + "/train-*", fs=fs)
        signal.alarm(120)
        parent = sorted(data_loader(dataset, 0))  # reads: pooled DataNode connections
        children = sorted(data_loader(dataset, 2, multiprocessing_context="fork"))
        assert parent == children == sorted(records), (len(parent), len(children))
        print("records", len(children))
    """,
    )
    assert out.split()[-1] == "200"
