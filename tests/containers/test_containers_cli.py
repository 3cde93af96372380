"""`hopsfs-tools cluster ... --engine podman` as a user runs it: status and env of the running
container cluster, and `cluster down` after an `up` killed while it was creating containers."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import time
from pathlib import Path

from cluster_cli import CLI, cli

from hopsfs_tools.cluster.containers import ContainerCluster
from hopsfs_tools.cluster.siteconf import NAMENODE


def test_status_and_env_of_the_running_cluster(cluster: ContainerCluster) -> None:
    status = cli(cluster.directory, "status", "--json")
    assert status.returncode == 0, status.stderr
    info = json.loads(status.stdout)
    assert (info["num_live_datanodes"], info["safemode"]) == (3, False)
    assert info["fs_uri"] == cluster.namenode_uri
    assert set(info["processes"]) == {NAMENODE, "datanode-1", "datanode-2", "datanode-3"}
    assert all(p["running"] and p["container"] for p in info["processes"].values())
    env = cli(cluster.directory, "env")
    assert env.returncode == 0, env.stderr
    exported = dict(
        shlex.split(line.removeprefix("export "))[0].split("=", 1)
        for line in env.stdout.splitlines()
    )
    assert exported == cluster.env()
    assert (
        Path(exported["HADOOP_CONF_DIR"], "core-site.xml").read_text().count(cluster.namenode_uri)
    )


def test_down_after_a_killed_up_removes_everything(tmp_path: Path) -> None:
    directory = tmp_path / "killed"
    up = subprocess.Popen(
        [*CLI, "up", "--engine", "podman", "--dir", str(directory)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    containers = ContainerCluster(directory)
    try:
        deadline = time.monotonic() + 120
        while not containers.leftovers()["container"] and time.monotonic() < deadline:
            time.sleep(0.2)  # until compose has made its network, volumes, first container
            containers = ContainerCluster(directory)  # the plan, once `up` has written it
    finally:
        os.killpg(up.pid, signal.SIGKILL)  # `up` and the engine commands it was running
        up.wait()
    made = containers.leftovers()
    assert made["container"] and made["network"] and made["volume"], made
    down = cli(directory, "down")
    assert down.returncode == 0, down.stderr
    assert not any(containers.leftovers().values())
    assert not directory.exists()
