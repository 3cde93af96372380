"""config.settings: the environment read once, into explicit, picklable storage_options."""

from __future__ import annotations

import getpass
import pickle
from pathlib import Path

import fsspec
import pytest

from hopsfs_tools import HopsFileSystem
from hopsfs_tools.config import settings, write_site_xml

_VARIABLES = (*settings.ENVIRONMENT.values(), *settings.PROJECT_VARIABLES, "HOPSFS_TOOLS_CACHE")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in _VARIABLES:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def default_cluster(cache: Path, namenode: str) -> None:
    """A local default cluster's conf dir under the cache root `cache`."""
    conf = cache / "cluster" / "conf"
    conf.mkdir(parents=True)
    write_site_xml(conf / "core-site.xml", {"fs.defaultFS": namenode})


def test_instance_cache_key_includes_the_default_cluster_location(cluster, clean_env, tmp_path):
    """Two cache roots (HOPSFS_TOOLS_CACHE) with two default clusters: two filesystems."""
    default_cluster(tmp_path / "a", cluster.namenode_uri)
    default_cluster(tmp_path / "b", "hdfs://127.0.0.1:1")
    clean_env.setenv("HOPSFS_TOOLS_CACHE", str(tmp_path / "a"))
    first = fsspec.filesystem("hopsfs")
    assert first.config.namenode_uri == cluster.namenode_uri
    assert first.ls("/")  # the real cluster
    first.close()
    clean_env.setenv("HOPSFS_TOOLS_CACHE", str(tmp_path / "b"))
    second = fsspec.filesystem("hopsfs")
    assert second is not first
    assert second.config.namenode_uri == "hdfs://127.0.0.1:1"
    clean_env.delenv("HOPSFS_TOOLS_CACHE")
    clean_env.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    default_cluster(tmp_path / "xdg" / "hopsfs-tools", "hdfs://127.0.0.1:2")
    assert fsspec.filesystem("hopsfs").config.namenode_uri == "hdfs://127.0.0.1:2"


def test_storage_options_are_explicit_and_picklable(cluster, clean_env):
    """The environment's settings become explicit storage_options: a pickled filesystem is the
    same filesystem in a process whose environment says otherwise."""
    clean_env.setenv("HOPSFS_NAMENODE_URI", cluster.namenode_uri)
    clean_env.setenv("HOPSFS_PROJECT", "envproj")
    clean_env.setenv("HOPSFS_TIMEOUT", "7")
    fs = HopsFileSystem()
    options = fs.storage_options
    assert options["namenode"] == cluster.namenode_uri
    assert options["project"] == "envproj"
    assert options["timeout"] == "7"
    data = pickle.dumps(fs)
    clean_env.setenv("HOPSFS_PROJECT", "other")
    clean_env.setenv("HOPSFS_TIMEOUT", "3")
    clone = pickle.loads(data)
    assert clone.project is not None and clone.project.name == "envproj"
    assert clone.config.timeout == 7.0
    assert HopsFileSystem().project.name == "other"  # a new instance follows the environment


def test_identity_project_user_when_no_user(clean_env):
    """A project without a user acts as "<project>__<login>" (cluster config and project alike)."""
    resolved = settings.resolve(namenode="hdfs://127.0.0.1:1", project="demo")
    assert resolved.identity == settings.Identity("demo", f"demo__{getpass.getuser()}")
    assert resolved.cluster.user == f"demo__{getpass.getuser()}"
    clean_env.setenv("HADOOP_USER_NAME", "demo__alice")
    assert settings.identity() == settings.Identity("demo", "demo__alice")
    assert settings.identity(project="p", user="bob") == settings.Identity("p", "bob")
    clean_env.delenv("HADOOP_USER_NAME")
    assert settings.identity() == settings.Identity(None, None)


def test_shadowed_variable_reads_the_users_value(clean_env):
    """What hopsfs-tools sets for a client library is not read back as the user's setting."""
    import os

    clean_env.setenv("HADOOP_USER_NAME", "mine")
    settings.set_shadowed("HADOOP_USER_NAME", "library")
    try:
        assert os.environ["HADOOP_USER_NAME"] == "library"
        assert settings.env("HADOOP_USER_NAME") == "mine"
        assert settings.identity().user == "mine"
    finally:
        settings.unshadow("HADOOP_USER_NAME")
    assert os.environ["HADOOP_USER_NAME"] == "mine"


def test_a_webhdfs_only_cluster_defaults_to_webhdfs(cluster, clean_env, tmp_path):
    """With only HOPSFS_WEBHDFS_URL set, the default backend is webhdfs (it works); asking for
    an RPC backend then is a ValueError naming what to set, not a client library's error."""
    clean_env.setenv("HOPSFS_TOOLS_CACHE", str(tmp_path))  # no local default cluster either
    clean_env.setenv("HOPSFS_WEBHDFS_URL", cluster.webhdfs_url)
    fs = HopsFileSystem(skip_instance_cache=True)
    assert fs.config.backend == "webhdfs"
    assert "/Projects" in fs.ls("/", detail=False)
    for backend in ("native", "arrow"):
        with pytest.raises(ValueError, match=f"backend '{backend}' speaks HDFS RPC.*webhdfs://"):
            HopsFileSystem(backend=backend, skip_instance_cache=True).ls("/")
