"""A local cluster of its own driven through `hopsfs-tools cluster ...` in subprocesses, as a user
would (tests of HA and federated clusters)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hopsfs_tools.cluster import LocalCluster

CLI = [sys.executable, "-m", "hopsfs_tools.cli", "cluster"]


def cli(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`hopsfs-tools cluster ARGS --dir DIRECTORY`, its output captured."""
    return subprocess.run([*CLI, *args, "--dir", str(directory)], check=False,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


@contextmanager
def cli_cluster(directory: Path, *up_args: str, fs_uri: str) -> Iterator[LocalCluster]:
    """`cluster up UP_ARGS` (which must report `fs_uri`), the cluster, then `cluster down`,
    which must leave nothing behind."""
    try:
        up = cli(directory, "up", *up_args)
        assert up.returncode == 0, up.stderr
        assert fs_uri in up.stdout
        yield LocalCluster(directory)
    finally:
        down = cli(directory, "down")
    assert down.returncode == 0, down.stderr
    assert not directory.exists()
