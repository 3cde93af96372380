"""Fixtures of the tools' tests: a fresh project acting as its member, on the backend under test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from fs_cache import close_cached_filesystems

from hopsfs_tools import hdfs
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hopsworks.admin import create_project

# The native backend and one without a JVM (the tools' plug-ins must not need one).
TOOL_BACKENDS = ("native", "webhdfs")


def new_project(cluster, monkeypatch: pytest.MonkeyPatch, backend: str) -> Iterator[str]:
    """A fresh project whose user P__alice acts through `backend`; removed afterwards."""
    name = f"t{uuid.uuid4().hex[:8]}"
    admin = HopsFileSystem(user=cluster.state.user, skip_instance_cache=True)
    create_project(name, "alice", admin)
    for key in ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("HADOOP_USER_NAME", f"{name}__alice")
    monkeypatch.setenv("HOPSFS_BACKEND", backend)
    yield name
    hdfs.close()  # hdfs-native binds one user per process: release it for the next test
    close_cached_filesystems()
    admin.rm(f"/Projects/{name}", recursive=True)
    admin.close()


@pytest.fixture(params=TOOL_BACKENDS)
def project(request, cluster, cluster_env, monkeypatch) -> Iterator[str]:
    """A fresh project, once per backend of TOOL_BACKENDS."""
    yield from new_project(cluster, monkeypatch, request.param)


@pytest.fixture
def native_project(cluster, cluster_env, monkeypatch) -> Iterator[str]:
    """A fresh project on the native backend (for tests too slow to repeat per backend)."""
    yield from new_project(cluster, monkeypatch, "native")
