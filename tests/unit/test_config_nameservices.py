"""Nameservices in the configuration: every NameNode of an HA nameservice, federated NameNodes
found by their RPC address, and viewfs:// mount tables (XML written in tmp_path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hopsfs_tools.config import (
    load_config,
    namenode_addresses,
    namenode_http_urls,
    viewfs_mounts,
    write_site_xml,
)

HA = {
    "dfs.nameservices": "prod,other",
    "dfs.ha.namenodes.prod": "nn1,nn2",
    "dfs.namenode.rpc-address.prod.nn1": "host1:8020",
    "dfs.namenode.rpc-address.prod.nn2": "host2:8020",
    "dfs.namenode.http-address.prod.nn1": "host1:9870",
    "dfs.namenode.http-address.prod.nn2": "host2:9870",
    "dfs.namenode.rpc-address.other": "host3:8020",  # a federated, non-HA nameservice
    "dfs.namenode.http-address.other": "0.0.0.0:50070",
}
VIEW = {
    "fs.defaultFS": "viewfs://lake",
    "fs.viewfs.mounttable.lake.link./data": "hdfs://prod/data",
    "fs.viewfs.mounttable.lake.link./archive/": "hdfs://host3:8020/archive",
    "fs.viewfs.mounttable.lake.linkFallback": "hdfs://prod/",
}


@pytest.fixture(autouse=True)
def clean_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HOPSFS_NAMENODE_URI", "HOPSFS_WEBHDFS_URL", "HADOOP_CONF_DIR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOPSFS_TOOLS_CACHE", str(tmp_path / "cache"))


def conf(directory: Path, core: dict, hdfs: dict) -> str:
    directory.mkdir(parents=True)
    write_site_xml(directory / "core-site.xml", core)
    write_site_xml(directory / "hdfs-site.xml", hdfs)
    return str(directory)


def test_ha_nameservice_lists_every_namenode(tmp_path: Path) -> None:
    cfg = load_config(conf_dir=conf(tmp_path / "c", {"fs.defaultFS": "hdfs://prod"}, HA))
    assert cfg.webhdfs_urls == ["http://host1:9870", "http://host2:9870"]
    assert namenode_addresses(cfg.properties, cfg.namenode_uri) == [
        ("host1", 8020),
        ("host2", 8020),
    ]
    # an explicit URL (a gateway) comes first, the NameNodes after it
    explicit = load_config(conf_dir=cfg.conf_dir, webhdfs_url="http://host2:9870/")
    assert explicit.webhdfs_urls == ["http://host2:9870", "http://host1:9870"]


def test_namenode_found_by_its_rpc_address(tmp_path: Path) -> None:
    assert namenode_http_urls(HA, "hdfs://host2:8020") == ["http://host2:9870"]
    # bind-all HTTP address: reached through the NameNode's host
    assert namenode_http_urls(HA, "hdfs://host3:8020") == ["http://host3:50070"]
    assert namenode_http_urls(HA, "hdfs://other") == ["http://other:50070"]
    assert namenode_addresses(HA, "hdfs://other") == [("host3", 8020)]
    assert namenode_http_urls(HA, "hdfs://unknown:8020") == []
    assert namenode_addresses({}, "hdfs://unknown") == [("unknown", 8020)]


def test_viewfs_default_fs_is_accepted(tmp_path: Path) -> None:
    cfg = load_config(conf_dir=conf(tmp_path / "c", VIEW, HA), backend="webhdfs")
    assert cfg.namenode_uri == "viewfs://lake"
    assert cfg.webhdfs_url is None and cfg.webhdfs_urls == []  # one per mount: resolved later
    assert viewfs_mounts(cfg.properties, cfg.namenode_uri) == {
        "/data": "hdfs://prod/data",
        "/archive": "hdfs://host3:8020/archive",
        "/": "hdfs://prod/",
    }
    # every NameNode behind the table, once
    assert namenode_addresses(cfg.properties, cfg.namenode_uri) == [
        ("host1", 8020),
        ("host2", 8020),
        ("host3", 8020),
    ]
    assert viewfs_mounts(cfg.properties, "viewfs://elsewhere") == {}


@pytest.mark.parametrize("uri", ["viewfs:///no-table", "viewfs://bad host"])
def test_bad_viewfs_uri(uri: str) -> None:
    with pytest.raises(ValueError, match="viewfs://mounttable: fix fs.defaultFS"):
        load_config(namenode=uri)
