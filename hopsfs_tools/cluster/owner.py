"""Tie a local cluster's daemons to the process that owns them, and clean up after dead owners.

A test session or benchmark that starts a cluster is its owner: if the owner dies without
stopping it (kill -9, OOM, a killed CI job), a watchdog process started beside the daemons
stops them and removes a directory the owner created (cluster/watchdog.py). `hopsfs-tools cluster up` is no owner:
its daemons outlive the CLI. `reap_orphans()` (run by every `LocalCluster.up()`) finds clusters
whose owner and watchdog are both gone by the marker on their daemons' command lines.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hopsfs_tools.cluster.state import STATE_FILE
from hopsfs_tools.config import settings

if TYPE_CHECKING:
    from hopsfs_tools.cluster.launcher import LocalCluster

log = logging.getLogger(__name__)

# A system property on every daemon's java command line: which cluster directory it belongs to.
MARKER = "-Dhopsfs.cluster.dir="
POLL_SECONDS = 1.0  # how often the watchdog also checks that the cluster is still owned


def pid_alive(pid: int | None) -> bool:
    """Whether `pid` is a live process (a zombie, killed but not reaped, counts as dead)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def start_time(pid: int) -> int | None:
    """The start time of `pid` in clock ticks since boot (tells a reused pid apart), or None."""
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    except (OSError, IndexError, ValueError):
        return None


def dying_with_parent(cmd: list[str]) -> list[str]:
    """`cmd` run so that it gets SIGTERM when the thread starting it exits: util-linux's
    `setpriv --pdeathsig` sets PR_SET_PDEATHSIG before exec (without setpriv: `cmd` as is)."""
    setpriv = shutil.which("setpriv")
    return [setpriv, "--pdeathsig", "TERM", *cmd] if setpriv else cmd


def reap(pid: int | None) -> None:
    """Collect a child we started ourselves so it does not linger as a zombie."""
    if pid:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def owner_alive(owner: dict[str, Any] | None) -> bool:
    """Whether the process recorded as a cluster's owner still runs (no owner: always)."""
    if not owner:
        return True
    return pid_alive(owner["pid"]) and start_time(owner["pid"]) == owner["start"]


def tie(cluster: LocalCluster, *, remove: bool) -> None:
    """Make this process the owner of `cluster`: a watchdog stops it when this process dies.

    `remove`: the watchdog also deletes the cluster directory (the owner created it).
    """
    pid = os.getpid()
    cluster.logs_dir.mkdir(parents=True, exist_ok=True)
    with (cluster.logs_dir / "watchdog.log").open("ab") as out:
        watchdog = subprocess.Popen(
            [sys.executable, "-m", "hopsfs_tools.cluster.watchdog", str(cluster.directory)],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C to the owner's process group does not reach it
            env=settings.child_environment(PYTHONPATH=os.pathsep.join(sys.path)),
        )
    cluster.state.owner = {
        "pid": pid,
        "start": start_time(pid),
        "watchdog": watchdog.pid,
        "remove": remove,
    }
    cluster.state.write()
    log.info("cluster %s tied to pid %d (watchdog pid %d)", cluster.directory, pid, watchdog.pid)


def release(cluster: LocalCluster) -> None:
    """Stop `cluster`'s watchdog (the owner stops the cluster itself)."""
    owner = cluster.state.owner
    cluster.state.owner = None
    if owner and pid_alive(owner.get("watchdog")):
        with contextlib.suppress(ProcessLookupError):
            os.kill(owner["watchdog"], signal.SIGTERM)
        reap(owner["watchdog"])


def clean_up(cluster: LocalCluster) -> None:
    """Stop the daemons of a cluster whose owner died; delete its directory if the owner made it."""
    owner = cluster.state.owner or {}
    log.info(
        "owner pid %s of cluster %s is gone: stopping its daemons",
        owner.get("pid"),
        cluster.directory,
    )
    cluster.state.owner = None  # `down` must not signal the watchdog that may be calling this
    cluster.down(keep=not owner.get("remove"), timeout=10.0)


def reap_orphans(cluster_at: Callable[[Path], LocalCluster]) -> list[Path]:
    """Stop every local cluster (of this user) whose owner and watchdog are both dead;
    `cluster_at(directory)` opens one (LocalCluster, which calls this from `up`)."""
    cleaned = []
    for directory in sorted(_marked_directories()):
        if not (directory / STATE_FILE).exists():
            continue
        try:
            cluster = cluster_at(directory)
        except (OSError, TypeError, ValueError):  # gone, or written by another hopsfs-tools version
            continue
        owner = cluster.state.owner
        if owner and not owner_alive(owner) and not pid_alive(owner.get("watchdog")):
            clean_up(cluster)
            cleaned.append(directory)
    return cleaned


def _marked_directories() -> set[Path]:
    """The cluster directories named by MARKER on this user's live processes."""
    found = set()
    uid = os.getuid()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if proc.stat().st_uid != uid:
                continue
            args = (proc / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        found.update(Path(a[len(MARKER) :]) for a in args if a.startswith(MARKER))
    return found
