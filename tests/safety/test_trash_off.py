"""A cluster started with `cluster up --trash-interval 0`: its NameNode keeps no trash, so a
person's delete is permanent there (as `hdfs dfs -rm` on it), `fs.trash` says the trash is off,
and a client whose own core-site sets fs.trash.interval keeps a trash, as Hadoop's client does."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cluster_cli import cli_cluster

from hopsfs_tools.config import write_site_xml
from hopsfs_tools.fs import HopsFileSystem


def test_trash_interval_zero_and_the_client_side_fallback(tmp_path: Path) -> None:
    up = ("--datanodes", "1", "--trash-interval", "0")
    with cli_cluster(tmp_path / "c", *up, fs_uri="hdfs://127.0.0.1:") as local:
        where = {"namenode": local.namenode_uri, "webhdfs_url": local.webhdfs_url}
        fs = HopsFileSystem(conf_dir=str(local.conf_dir), skip_instance_cache=True, **where)
        assert fs.trash_can.interval == 0
        fs.pipe_file("/f", b"x")
        with pytest.raises(ValueError, match="trash is off"):
            fs.trash("/f")
        assert fs.exists("/f")
        fs.rm("/f", trash=True)  # as `hdfs dfs -rm` on this cluster: for good
        assert not fs.exists("/f") and not fs.exists(fs.trash_can.root)
        fs.close()
        conf = tmp_path / "client-conf"
        shutil.copytree(local.conf_dir, conf)
        write_site_xml(
            conf / "core-site.xml",
            {"fs.defaultFS": local.namenode_uri, "fs.trash.interval": 60},
        )
        client = HopsFileSystem(conf_dir=str(conf), skip_instance_cache=True, **where)
        assert client.trash_can.interval == 60  # the NameNode sets none: the client's own
        client.pipe_file("/g", b"y")
        assert client.trash("/g") == f"{client.trash_can.root}/Current/g"
        client.close()
