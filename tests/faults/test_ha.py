"""HA NameNodes (`cluster up --ha`, `LocalCluster(ha=True)`): two NameNodes of nameservice
`hopsfs` sharing their edits through three JournalNodes. Every backend keeps working across a
failover in the middle of a session: a graceful `cluster failover`, and the active NameNode
killed (kill -9) while calls are in flight, the standby then made active.

The module starts its own 1-DataNode HA cluster through the CLI (and stops it the same way).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from cluster_cli import cli, cli_cluster

from hopsfs_tools.cluster import LocalCluster
from hopsfs_tools.cluster.ha import HaCluster
from hopsfs_tools.config import load_config, read_site_xml
from hopsfs_tools.fs import HopsFileSystem

MiB = 1 << 20
BACKENDS = ("native", "arrow", "webhdfs")


@pytest.fixture(scope="module")
def ha_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HaCluster]:
    directory = tmp_path_factory.mktemp("ha") / "cluster"
    with cli_cluster(directory, "--ha", "--datanodes", "1", fs_uri="hdfs://hopsfs") as local:
        assert isinstance(local, HaCluster)
        yield local


def make_fs(cluster: LocalCluster, backend: str) -> HopsFileSystem:
    """A fresh filesystem on the nameservice, retrying long enough to outlast a failover."""
    return HopsFileSystem(
        backend=backend,
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,  # the NameNode active now: it will not stay so
        conf_dir=str(cluster.conf_dir),
        skip_instance_cache=True,
        timeout=60,
        retries=10,
        retry_backoff=0.5,
    )


def check_session(filesystems: dict[str, HopsFileSystem], written: dict[str, bytes]) -> None:
    """Every backend reads what it wrote before, writes, renames and deletes."""
    for backend, fs in filesystems.items():
        assert fs.cat_file(f"/before-{backend}.bin") == written[backend], backend
        after = os.urandom(MiB + 3)
        fs.pipe_file(f"/after-{backend}.bin", after)
        assert fs.cat_file(f"/after-{backend}.bin") == after, backend
        fs.mv(f"/after-{backend}.bin", f"/moved-{backend}.bin")
        assert fs.exists(f"/moved-{backend}.bin") and not fs.exists(f"/after-{backend}.bin")
        fs.rm(f"/moved-{backend}.bin")


def test_ha_cluster_has_a_nameservice_of_two_namenodes(ha_cluster: HaCluster) -> None:
    status = json.loads(cli(ha_cluster.directory, "status", "--json").stdout)
    assert status["fs_uri"] == "hdfs://hopsfs" and status["num_live_datanodes"] == 1
    states = {n["id"]: n["state"] for n in status["namenodes"].values()}
    assert sorted(states.values()) == ["active", "standby"], states
    assert all(p["running"] for p in status["processes"].values())
    assert len([p for p in status["processes"] if p.startswith("journalnode-")]) == 3
    hdfs_site = read_site_xml(ha_cluster.conf_dir / "hdfs-site.xml")
    assert hdfs_site["dfs.nameservices"] == "hopsfs"
    assert hdfs_site["dfs.ha.namenodes.hopsfs"] == "nn1,nn2"
    journals = hdfs_site["dfs.namenode.shared.edits.dir"]
    assert journals.startswith("qjournal://") and journals.count(";") == 2
    assert hdfs_site["dfs.client.failover.proxy.provider.hopsfs"].endswith(
        "ConfiguredFailoverProxyProvider"
    )
    assert "dfs.namenode.rpc-address" not in hdfs_site  # only the nameservice's NameNodes
    # the configuration names the nameservice; clients find both NameNodes in it
    config = load_config(conf_dir=str(ha_cluster.conf_dir), backend="webhdfs")
    assert config.namenode_uri == "hdfs://hopsfs"
    urls = [n["webhdfs_url"] for n in status["namenodes"].values()]
    assert config.webhdfs_urls == urls
    env = cli(ha_cluster.directory, "env").stdout
    assert "export HOPSFS_NAMENODE_URI=hdfs://hopsfs" in env


@pytest.mark.slow
def test_every_backend_follows_a_failover(ha_cluster: HaCluster) -> None:
    """`cluster failover` mid-session: the webhdfs filesystem was pointed at the NameNode that
    becomes standby (StandbyException), hdfs-native and libhdfs fail over by the nameservice."""
    filesystems = {b: make_fs(ha_cluster, b) for b in BACKENDS}
    written = {b: os.urandom(2 * MiB + i) for i, b in enumerate(BACKENDS)}
    for backend, fs in filesystems.items():
        fs.pipe_file(f"/before-{backend}.bin", written[backend])
    active = ha_cluster.active_namenode()
    failover = cli(ha_cluster.directory, "failover")
    assert failover.returncode == 0, failover.stderr
    now_active = ha_cluster.active_namenode()
    assert now_active not in (None, active)
    assert f"{now_active} is the active NameNode" in failover.stdout
    check_session(filesystems, written)
    back = cli(ha_cluster.directory, "failover", "--to", active)
    assert back.returncode == 0, back.stderr
    assert ha_cluster.active_namenode() == active
    check_session(filesystems, written)
    for fs in filesystems.values():
        fs.close()


@pytest.mark.slow
def test_active_namenode_killed_mid_session(ha_cluster: HaCluster) -> None:
    """kill -9 of the active NameNode: calls in flight wait (bounded retries) until the standby
    is made active, then succeed; the session goes on; the killed one comes back as standby."""
    filesystems = {b: make_fs(ha_cluster, b) for b in BACKENDS}
    written = {b: os.urandom(3 * MiB + i) for i, b in enumerate(BACKENDS)}
    during = {b: os.urandom(MiB + i) for i, b in enumerate(BACKENDS)}
    for backend, fs in filesystems.items():
        fs.pipe_file(f"/before-{backend}.bin", written[backend])

    def write_then_read(backend: str) -> bytes:
        filesystems[backend].pipe_file(f"/during-{backend}.bin", during[backend])
        return filesystems[backend].cat_file(f"/before-{backend}.bin")

    victim = ha_cluster.active_namenode()
    assert victim is not None
    ha_cluster.kill(victim)
    try:
        with ThreadPoolExecutor(len(BACKENDS)) as pool:
            try:
                calls = {b: pool.submit(write_then_read, b) for b in BACKENDS}
                time.sleep(2)  # no NameNode is active: the calls are retrying
                assert not any(f.done() for f in calls.values())
            finally:
                survivor = ha_cluster.failover()
            for backend, future in calls.items():
                assert future.result(timeout=120) == written[backend], backend
        assert survivor != victim and ha_cluster.active_namenode() == survivor
        for backend, fs in filesystems.items():
            assert fs.cat_file(f"/during-{backend}.bin") == during[backend]
        check_session(filesystems, written)
    finally:
        ha_cluster.start(victim)
    assert ha_cluster.namenode_state(victim) == "standby"
    for fs in filesystems.values():
        fs.close()


def test_failover_to_a_stopped_namenode_is_a_clear_error(ha_cluster: HaCluster) -> None:
    standby = next(n for n in ha_cluster.namenode_names if n != ha_cluster.active_namenode())
    ha_cluster.stop(standby)
    try:
        refused = cli(ha_cluster.directory, "failover")
        assert refused.returncode == 1
        assert f"{standby} is not running" in refused.stderr
        assert f"hopsfs-tools cluster start {standby}" in refused.stderr
        unknown = cli(ha_cluster.directory, "failover", "--to", "namenode-7")
        assert "unknown NameNode 'namenode-7'" in unknown.stderr
    finally:
        ha_cluster.start(standby)
