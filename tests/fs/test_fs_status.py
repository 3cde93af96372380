"""fs_status (capacity and use) on every backend: its own client where it can, else WebHDFS."""

from __future__ import annotations

import pytest

from hopsfs_tools import HopsFileSystem
from hopsfs_tools.config import BACKENDS


@pytest.mark.parametrize("backend", BACKENDS)
def test_fs_status_matches_the_namenode(cluster, backend: str) -> None:
    fs = HopsFileSystem(
        backend=backend,
        namenode=cluster.namenode_uri,
        webhdfs_url=cluster.webhdfs_url,
        conf_dir=str(cluster.conf_dir),
        user=cluster.state.user,
    )
    status = fs.fs_status()
    jmx = cluster.jmx("FSNamesystemState")
    assert status["capacity"] == pytest.approx(jmx["CapacityTotal"], rel=0.01)
    assert 0 < status["used"] <= status["capacity"]


def test_native_backend_without_webhdfs_says_what_to_configure(cluster) -> None:
    """hdfs-native has no FsStatus call: it is delegated to WebHDFS, which must be configured."""
    fs = HopsFileSystem(backend="native", namenode=cluster.namenode_uri, user=cluster.state.user)
    assert fs.config.webhdfs_url is None  # no conf dir: nothing names the NameNode's HTTP port
    with pytest.raises(NotImplementedError, match="configure a WebHDFS URL"):
        fs.fs_status()
