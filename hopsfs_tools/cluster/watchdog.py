"""The watchdog a cluster's owner starts beside the daemons: `python -m
hopsfs_tools.cluster.watchdog DIR` waits for the owner recorded in DIR's state to die, then stops
the cluster (cluster/owner.py ties and releases it)."""

from __future__ import annotations

import logging
import os
import select
import signal
import sys
import time
from pathlib import Path

from hopsfs_tools.cluster.launcher import LocalCluster
from hopsfs_tools.cluster.owner import POLL_SECONDS, clean_up, owner_alive
from hopsfs_tools.cluster.state import STATE_FILE


def _watch(directory: Path) -> None:
    """Wait for the owner recorded in `directory`'s state to die, then clean the cluster up."""
    me = os.getpid()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    deadline = time.monotonic() + 30  # the owner writes our pid into the state right after spawn
    while True:
        try:
            cluster = LocalCluster(directory) if (directory / STATE_FILE).exists() else None
        except ValueError:  # the state file is being replaced: read it again
            cluster = None
        owner = cluster.state.owner if cluster else None
        if owner is None or owner.get("watchdog") != me:
            if time.monotonic() < deadline and (directory / STATE_FILE).exists():
                time.sleep(0.1)
                continue
            return  # released, or the cluster is gone: nothing to watch
        deadline = 0.0
        if not owner_alive(owner):
            clean_up(cluster)
            return
        _wait_exit(owner["pid"], POLL_SECONDS)


def _wait_exit(pid: int, timeout: float) -> None:
    """Return when `pid` exits or after `timeout` seconds (pidfd: woken at once on Linux)."""
    try:
        fd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        time.sleep(timeout)
        return
    try:
        select.select([fd], [], [], timeout)
    finally:
        os.close(fd)


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    _watch(Path(sys.argv[1]))
