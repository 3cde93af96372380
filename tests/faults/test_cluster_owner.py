"""Clusters tied to their owner (cluster/owner.py): a killed owner leaves no daemon behind.

Each test starts a 1-DataNode cluster of its own in a child process that owns it, then kills
that process with SIGKILL, as a killed CI job or an OOM kill would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.cluster.owner import pid_alive

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "hopsfs_tools.cli"]
GONE_WITHIN = 30.0  # seconds from the owner's death until every daemon has exited

OWNER = """
import sys, time
from hopsfs_tools.cluster import LocalCluster
LocalCluster(sys.argv[1], datanodes=1, owned=True).up(timeout=300)
print("up", flush=True)
time.sleep(3600)
"""


def daemon_pids(directory: Path) -> list[int]:
    """Live java processes whose command line names `directory` (the cluster's daemons)."""
    pids = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().decode(errors="replace")
        except OSError:
            continue
        running = proc.name.isdigit() and pid_alive(int(proc.name))
        if running and "java" in cmdline and str(directory) in cmdline:
            pids.append(int(proc.name))
    return pids


def wait_gone(pids: list[int], timeout: float) -> float:
    """Seconds until every pid has exited; fails after `timeout`."""
    started = time.monotonic()
    while any(pid_alive(p) for p in pids):
        assert time.monotonic() - started < timeout, f"still running: {pids}"
        time.sleep(0.2)
    return time.monotonic() - started


@pytest.fixture
def owned_cluster(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], Path]]:
    """A child process owning a running 1-DataNode cluster in a fresh directory."""
    directory = tmp_path / "owned"
    owner = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(OWNER), str(directory)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = owner.stdout.readline()
        assert line == "up\n", owner.stderr.read() if owner.poll() is not None else line
        yield owner, directory
    finally:
        owner.kill()
        owner.wait()
        for pid in daemon_pids(directory):  # only if the test failed: never leave daemons
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow
def test_killed_owner_takes_its_daemons_down(owned_cluster) -> None:
    owner, directory = owned_cluster
    state = json.loads((directory / "cluster.json").read_text())
    assert state["owner"]["pid"] == owner.pid and state["owner"]["remove"] is True
    daemons = daemon_pids(directory)
    assert len(daemons) == 2 and sorted(daemons) == sorted(state["pids"].values())
    assert pid_alive(state["owner"]["watchdog"])

    owner.send_signal(signal.SIGKILL)
    owner.wait()
    seconds = wait_gone([*daemons, state["owner"]["watchdog"]], GONE_WITHIN)
    print(f"daemons gone {seconds:.1f} s after the owner was killed")
    assert not directory.exists()  # the owner created it: removed with its data


@pytest.mark.slow
def test_cluster_up_cleans_up_after_a_dead_owner(owned_cluster) -> None:
    """Owner and watchdog both killed: the next `cluster up` stops the orphans, starts fresh."""
    owner, directory = owned_cluster
    state = json.loads((directory / "cluster.json").read_text())
    orphans = daemon_pids(directory)
    os.kill(state["owner"]["watchdog"], signal.SIGKILL)
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    time.sleep(1)
    assert sorted(daemon_pids(directory)) == sorted(orphans)  # orphaned, still running

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, "cluster", *args, "--dir", str(directory)],
            check=False,
            capture_output=True,
            text=True,
            timeout=300,
        )

    try:
        up = run("up", "--datanodes", "1")
        assert up.returncode == 0, up.stderr
        assert "started" in up.stdout
        assert f"stopped the cluster in {directory}: the process that owned it is gone" in up.stderr
        assert not any(pid_alive(p) for p in orphans)
        fresh = LocalCluster(directory)
        assert fresh.is_running() and fresh.state.owner is None  # the CLI owns nothing
        assert set(daemon_pids(directory)) == set(fresh.state.pids.values())
        assert not set(orphans) & set(fresh.state.pids.values())
    finally:
        down = run("down")
    assert down.returncode == 0, down.stderr
    assert daemon_pids(directory) == []


def test_timeout_ends_a_run_blocked_in_native_code(tmp_path: Path) -> None:
    """pyproject's pytest-timeout settings end a test stuck in C (a self-deadlocked pthread mutex,
    which no signal interrupts) with a report, instead of hanging the run."""
    test = tmp_path / "test_stuck.py"
    test.write_text(
        textwrap.dedent("""
        import ctypes
        def test_stuck_in_c():
            libc = ctypes.CDLL(None)
            mutex = ctypes.create_string_buffer(64)  # zeroed: PTHREAD_MUTEX_INITIALIZER
            libc.pthread_mutex_lock(mutex)
            libc.pthread_mutex_lock(mutex)  # deadlocks inside libc
    """)
    )
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(REPO / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "--timeout",
            "3",
            "-p",
            "no:cacheprovider",
            str(test),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert proc.returncode != 0
    assert "Timeout" in proc.stdout + proc.stderr
    assert "test_stuck_in_c" in proc.stdout + proc.stderr  # the report names the stuck test
    assert time.monotonic() - started < 60


def test_killed_owner_takes_its_kdc_down(tmp_path: Path) -> None:
    """The throw-away KDC (tests/clusters/test_kerberos.py) dies with the process that started it."""
    script = textwrap.dedent("""
        import sys, time
        from hopsfs_tools.cluster import Kdc
        kdc = Kdc(sys.argv[1]).start()
        print(kdc._process.pid, flush=True)
        time.sleep(3600)
    """)
    owner = subprocess.Popen(
        [sys.executable, "-c", script, str(tmp_path / "kdc")], stdout=subprocess.PIPE, text=True
    )
    try:
        kdc_pid = int(owner.stdout.readline())
        assert pid_alive(kdc_pid)
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        wait_gone([kdc_pid], 10.0)
    finally:
        owner.kill()
        owner.wait()
