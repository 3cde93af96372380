"""Which local cluster `LocalCluster(...)` makes: plain, HA or federated, asked for or stored in
its directory; impossible combinations are refused before anything starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopsfs_tools.cluster import FederatedCluster, HaCluster, LocalCluster


def test_layout_asked_for_then_remembered_by_the_directory(tmp_path: Path) -> None:
    assert type(LocalCluster(tmp_path / "plain")) is LocalCluster
    ha = LocalCluster(tmp_path / "ha", datanodes=1, ha=True)
    federated = LocalCluster(tmp_path / "fed", 2, federation=3)
    assert isinstance(ha, HaCluster) and isinstance(federated, FederatedCluster)
    assert ha.namenode_uri == "hdfs://hopsfs" and federated.namenode_uri == "viewfs://hopsfs"
    assert federated.namenode_names == ["namenode", "namenode-2", "namenode-3"]
    assert ha.daemon_names == [
        "journalnode-1",
        "journalnode-2",
        "journalnode-3",
        "namenode",
        "namenode-2",
        "datanode-1",
    ]
    for cluster in (ha, federated):  # as `up` does before any daemon starts
        cluster.directory.mkdir(parents=True)
        cluster._allocate_ports()
    assert isinstance(LocalCluster(tmp_path / "ha"), HaCluster)
    assert isinstance(LocalCluster(tmp_path / "fed"), FederatedCluster)
    with pytest.raises(ValueError, match="is a federated cluster, not an HA cluster.*cluster down"):
        LocalCluster(tmp_path / "fed", ha=True)


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"ha": True, "federation": 2}, "either HA .* or federated, not both"),
        ({"federation": 1}, "federation=1: a federated cluster has 2 to 4 nameservices"),
        ({"ha": True, "tls": True}, "without TLS and Kerberos"),
        ({"ha": True, "hosts": 2}, "multi-host cluster .* has one NameNode"),
        ({"federation": 2, "hosts": 2}, "multi-host cluster .* has one NameNode"),
    ],
)
def test_impossible_layouts_are_refused(tmp_path: Path, kw: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        LocalCluster(tmp_path / "c", **kw)
    assert not (tmp_path / "c").exists()
