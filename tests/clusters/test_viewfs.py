"""viewfs:// over a federation (`cluster up --federation 2`): two NameNodes with their own
namespaces (nameservices ns1, ns2) sharing the DataNodes, one tree through viewfs://hopsfs whose
mount table puts ns1 at / (linkFallback) and ns2's /ns2 at /ns2. Every backend follows it:
hdfs-native and the Java client (arrow) by themselves, webhdfs through our own resolution.

The module starts its own 1-DataNode federated cluster through the CLI (and stops it the same way).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator

import pytest
from cluster_cli import cli, cli_cluster

from hopsfs_tools.cluster.ha import FederatedCluster
from hopsfs_tools.config import load_config, read_site_xml
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks.pydoop import PydoopFileSystem

BACKENDS = ("native", "arrow", "webhdfs")


@pytest.fixture(scope="module")
def federation(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FederatedCluster]:
    directory = tmp_path_factory.mktemp("federation") / "cluster"
    up = ("--federation", "2", "--datanodes", "1")
    with cli_cluster(directory, *up, fs_uri="viewfs://hopsfs") as local:
        assert isinstance(local, FederatedCluster)
        yield local


def viewfs(cluster: FederatedCluster, backend: str) -> HopsFileSystem:
    """A filesystem on the mount table, configured only by the conf dir (fs.defaultFS)."""
    return HopsFileSystem(
        backend=backend, conf_dir=str(cluster.conf_dir), namenode=cluster.namenode_uri,
        skip_instance_cache=True,
    )  # fmt: skip


def one_nameservice(cluster: FederatedCluster, name: str) -> HopsFileSystem:
    """WebHDFS straight to NameNode `name`: what its own namespace holds, no mount table."""
    return HopsFileSystem(
        backend="webhdfs", namenode=cluster.namenode_uri_of(name),
        webhdfs_url=cluster.http_url(name), skip_instance_cache=True,
    )  # fmt: skip


def test_federation_is_two_namespaces_behind_one_mount_table(federation: FederatedCluster) -> None:
    status = json.loads(cli(federation.directory, "status", "--json").stdout)
    assert status["fs_uri"] == "viewfs://hopsfs"
    assert {n["id"]: n["state"] for n in status["namenodes"].values()} == {
        "ns1": "active",
        "ns2": "active",
    }
    core = read_site_xml(federation.conf_dir / "core-site.xml")
    hdfs = read_site_xml(federation.conf_dir / "hdfs-site.xml")
    assert core["fs.defaultFS"] == "viewfs://hopsfs"
    ns1, ns2 = (federation.namenode_uri_of(n) for n in federation.namenode_names)
    assert core["fs.viewfs.mounttable.hopsfs.linkFallback"] == f"{ns1}/"
    assert core["fs.viewfs.mounttable.hopsfs.link./ns2"] == f"{ns2}/ns2"
    assert hdfs["dfs.nameservices"] == "ns1,ns2"
    # the one DataNode serves both namespaces: each NameNode counts it live
    for name in federation.namenode_names:
        assert (
            federation.jmx("FSNamesystemState", at=federation.http_url(name))["NumLiveDataNodes"]
            == 1
        )
    config = load_config(conf_dir=str(federation.conf_dir))
    assert config.namenode_uri == "viewfs://hopsfs" and config.webhdfs_url is None
    # WebHDFS serves one nameservice: `env` names none, clients resolve the table
    assert "HOPSFS_WEBHDFS_URL" not in cli(federation.directory, "env").stdout
    refused = cli(federation.directory, "failover")
    assert refused.returncode == 1 and "is not HA" in refused.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_follows_the_mount_table(federation: FederatedCluster, backend: str) -> None:
    """Files written through viewfs land in the nameservice their mount point names."""
    fs = viewfs(federation, backend)
    first, second = (one_nameservice(federation, n) for n in federation.namenode_names)
    data = {f"/ns2/{backend}/part-0.bin": os.urandom(70_000), f"/{backend}/part-0.bin": b"ns1"}
    for path, payload in data.items():
        fs.pipe_file(path, payload)
        assert fs.cat_file(path) == payload
    # ns2 holds /ns2/<backend>/part-0.bin under the same path; ns1 does not
    assert second.cat_file(f"/ns2/{backend}/part-0.bin") == data[f"/ns2/{backend}/part-0.bin"]
    assert not first.exists(f"/ns2/{backend}/part-0.bin")
    assert first.cat_file(f"/{backend}/part-0.bin") == b"ns1"
    assert not second.exists(f"/{backend}/part-0.bin")
    # answers name view paths
    assert fs.ls(f"/ns2/{backend}", detail=False) == [f"/ns2/{backend}/part-0.bin"]
    info = fs.info(f"/ns2/{backend}/part-0.bin")
    assert (info["name"], info["size"]) == (f"/ns2/{backend}/part-0.bin", 70_000)
    # a rename inside one mount works; checksums come from the right nameservice
    fs.mv(f"/ns2/{backend}/part-0.bin", f"/ns2/{backend}/part-1.bin")
    assert second.exists(f"/ns2/{backend}/part-1.bin")
    assert fs.backend.checksum(f"/ns2/{backend}/part-1.bin") == second.backend.checksum(
        f"/ns2/{backend}/part-1.bin"
    )
    # a rename across mounts is refused (as Hadoop's ViewFileSystem does), nothing moves
    with pytest.raises(OSError, match="part-1.bin"):
        fs.mv(f"/ns2/{backend}/part-1.bin", f"/{backend}/part-1.bin")
    assert fs.exists(f"/ns2/{backend}/part-1.bin") and not fs.exists(f"/{backend}/part-1.bin")
    fs.rm(f"/ns2/{backend}", recursive=True)
    assert not second.exists(f"/ns2/{backend}")


def test_webhdfs_lists_mount_points_as_directories(federation: FederatedCluster) -> None:
    fs = viewfs(federation, "webhdfs")
    fs.mkdir("/listed", create_parents=True)
    root = {i["name"]: i["type"] for i in fs.ls("/")}
    assert root["/ns2"] == "directory" and root["/listed"] == "directory"
    assert fs.info("/ns2")["name"] == "/ns2"


def test_empty_mount_table_names_the_setting(federation: FederatedCluster) -> None:
    fs = HopsFileSystem(
        backend="webhdfs", conf_dir=str(federation.conf_dir), namenode="viewfs://other",
        skip_instance_cache=True,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"fs\.viewfs\.mounttable\.other\.link\./<dir>"):
        fs.ls("/")


def test_pydoop_handle_names_the_mount_table(federation: FederatedCluster) -> None:
    """pydoop's host/port/URIs on viewfs: the table's name, no port, viewfs:// URIs."""
    h = PydoopFileSystem(
        backend="native", conf_dir=str(federation.conf_dir), namenode=federation.namenode_uri,
        skip_instance_cache=True,
    )  # fmt: skip
    assert (h.host, h.port) == ("hopsfs", 0)
    h.pipe_file("/ns2/pydoop.txt", b"x")
    assert h.uri("/ns2/pydoop.txt") == "viewfs://hopsfs/ns2/pydoop.txt"
    assert h.get_path_info("/ns2/pydoop.txt")["name"] == "viewfs://hopsfs/ns2/pydoop.txt"
    h.rm("/ns2/pydoop.txt")
