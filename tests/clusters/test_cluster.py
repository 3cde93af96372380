"""The local cluster launcher against real Hadoop daemons: liveness, replication, faults, teardown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from hdfs_native import Client, WriteOptions

from hopsfs_tools.cluster import ClusterError, LocalCluster, check_prerequisites
from hopsfs_tools.cluster.owner import pid_alive

CLI = [sys.executable, "-m", "hopsfs_tools.cli"]


def _block_locations(cluster: LocalCluster, path: str) -> list[dict]:
    url = f"{cluster.webhdfs_url}/webhdfs/v1{path}?op=GETFILEBLOCKLOCATIONS&user.name={cluster.state.user}"
    with urllib.request.urlopen(url, timeout=10) as resp:
        return json.load(resp)["BlockLocations"]["BlockLocation"]


def _java_pids_under(directory: Path) -> list[int]:
    """PIDs of live processes whose command line mentions `directory` (our daemons do)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if "java" in cmdline and str(directory) in cmdline and state != "Z":
            pids.append(int(proc.name))
    return pids


def test_three_live_datanodes(cluster: LocalCluster) -> None:
    status = cluster.status()
    assert status["namenode_reachable"]
    assert status["num_live_datanodes"] == 3
    assert len(set(status["live_datanodes"])) == 3
    assert status["safemode"] is False
    assert status["capacity_remaining"] > 0
    assert all(p["running"] for p in status["processes"].values())


def test_replication_three_on_distinct_datanodes(
    cluster: LocalCluster, superuser_client: Client, hdfs_dir: str
) -> None:
    path = f"{hdfs_dir}/replicated.bin"
    with superuser_client.create(path, WriteOptions(replication=3, block_size=1024 * 1024)) as out:
        out.write(os.urandom(3 * 1024 * 1024 + 17))
    datanodes = {f"127.0.0.1:{cluster.state.ports[n]['xfer']}" for n in cluster.datanode_names}
    # a DataNode reports a finished replica to the NameNode asynchronously (incremental block
    # report), so right after close a block may still list two of its three replicas
    deadline = time.monotonic() + 30
    while True:
        blocks = _block_locations(cluster, path)
        if all(len(b["names"]) == 3 for b in blocks) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert len(blocks) == 4
    for block in blocks:
        assert len(block["names"]) == 3, block
        assert set(block["names"]) == datanodes


def test_killed_datanode_declared_dead_then_restarted(cluster: LocalCluster) -> None:
    victim = cluster.datanode_names[-1]
    cluster.kill(victim)
    started = time.monotonic()
    try:
        cluster.wait_dead(victim, timeout=60)
        declared_after = time.monotonic() - started
        status = cluster.status()
        assert status["num_dead_datanodes"] == 1
        assert status["num_live_datanodes"] == 2
        assert not status["processes"][victim]["running"]
        assert declared_after < 45, f"dead after {declared_after:.0f}s (configured for ~20s)"
    finally:
        cluster.start(victim)
    deadline = time.monotonic() + 60
    while cluster.status()["num_live_datanodes"] < 3 and time.monotonic() < deadline:
        time.sleep(1)
    status = cluster.status()
    assert status["num_live_datanodes"] == 3
    assert status["processes"][victim]["running"]


def test_unknown_daemon_name_is_a_clear_error(cluster: LocalCluster) -> None:
    with pytest.raises(ValueError, match="unknown daemon 'datanode-9'.*namenode, datanode-1"):
        cluster.kill("datanode-9")


def test_cli_up_status_env_down_leaves_nothing_running(tmp_path: Path) -> None:
    """A second, one-DataNode cluster driven through the CLI, as a separate process would."""
    directory = tmp_path / "cli-cluster"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLI, "cluster", *args, "--dir", str(directory)], check=False,
                              capture_output=True, text=True, timeout=300)  # fmt: skip

    try:
        up = run("up", "--datanodes", "1")
        assert up.returncode == 0, up.stderr
        assert "started" in up.stdout and "1 live DataNodes" in up.stdout
        again = run("up", "--datanodes", "1")
        assert again.returncode == 0 and "already running" in again.stdout
        stale = LocalCluster(directory)  # a process that read the state before the restart
        assert run("kill", "datanode-1").returncode == 0
        assert run("start", "datanode-1").returncode == 0
        restarted = LocalCluster(directory).state.pids["datanode-1"]
        stale.stop("datanode-1")  # the restarted DataNode, not the pid it read before
        assert not pid_alive(restarted)
        assert "datanode-1" not in LocalCluster(directory).state.pids
        stale.start("datanode-1")
        assert LocalCluster(directory).state.pids == stale.state.pids
        status = json.loads(run("status", "--json").stdout)
        assert status["num_live_datanodes"] == 1 and status["safemode"] is False
        env = run("env").stdout
        assert f"export HADOOP_CONF_DIR={directory / 'conf'}" in env
        assert f"export HOPSFS_NAMENODE_URI={status['fs_uri']}" in env
        assert f"export HOPSFS_WEBHDFS_URL={status['webhdfs_url']}" in env
        assert (directory / "conf" / "core-site.xml").exists()
        assert len(_java_pids_under(directory)) == 2  # still running after the CLI exited
        assert LocalCluster(directory).state.owner is None  # not tied to the CLI's process
    finally:
        down = run("down")
    assert down.returncode == 0, down.stderr
    assert _java_pids_under(directory) == []
    assert not directory.exists()


def test_cli_status_without_cluster_is_one_line_error(tmp_path: Path) -> None:
    proc = subprocess.run(
        [*CLI, "cluster", "status", "--dir", str(tmp_path / "none")],
        check=False,
        capture_output=True,
        text=True,
    )
    assert proc.returncode != 0
    assert "no cluster in" in proc.stderr and "cluster up" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_prerequisites_name_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # neither java nor mvn
    monkeypatch.setenv("HOPSFS_TOOLS_CACHE", str(tmp_path / "cache"))
    with pytest.raises(ClusterError) as info:
        check_prerequisites()
    assert "`java` (Java >= 17) is not on PATH" in str(info.value)
    assert "Maven (`mvn`) is not on PATH" in str(info.value)


def test_start_failure_reports_daemon_log(tmp_path: Path) -> None:
    """A NameNode that cannot bind its port fails `up` with the tail of its log, not a hang."""
    local = LocalCluster(tmp_path / "broken", datanodes=1)
    import socket

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        local.directory.mkdir(parents=True)
        local._allocate_ports()
        local.state.ports["namenode"]["rpc"] = busy.getsockname()[1]
        local._write_config()
        try:
            with pytest.raises(ClusterError) as info:
                local.up(timeout=120)
        finally:
            local.down()
    text = str(info.value)
    assert "namenode" in text and "exited during start-up" in text
    assert "BindException" in text or "Address already in use" in text
