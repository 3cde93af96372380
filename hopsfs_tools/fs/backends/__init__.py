"""Backends: one module per client library, each exposing `connect(config) -> Backend`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hopsfs_tools.config import BACKENDS

RPC_SCHEMES = ("hdfs://", "viewfs://")  # what hdfs-native and the Java client (libhdfs) speak
ASYNC_BACKENDS = ("native",)  # backends with an asyncio face (`Backend.aio`)

if TYPE_CHECKING:
    from hopsfs_tools.config import ClusterConfig
    from hopsfs_tools.fs.backends.base import Backend


def connect(config: ClusterConfig) -> Backend:
    """The backend named by `config.backend`, connected to the cluster `config` describes."""
    if config.backend not in BACKENDS:
        raise ValueError(f"Unknown backend {config.backend!r}: use one of {', '.join(BACKENDS)}")
    if config.backend != "webhdfs" and not config.namenode_uri.startswith(RPC_SCHEMES):
        raise ValueError(
            f"backend {config.backend!r} speaks HDFS RPC, but the cluster is configured by its "
            f"WebHDFS address only ({config.namenode_uri}): pass backend='webhdfs', or set "
            "HOPSFS_NAMENODE_URI=hdfs://host:port (or HADOOP_CONF_DIR with fs.defaultFS)"
        )
    name = "viewfs" if config.backend == "webhdfs" and _viewfs(config) else config.backend
    module = importlib.import_module(f"hopsfs_tools.fs.backends.{name}")
    return module.connect(config)


def _viewfs(config: ClusterConfig) -> bool:
    """Whether WebHDFS calls resolve the viewfs:// mount table here (see backends/viewfs.py)."""
    from hopsfs_tools.fs.backends.viewfs import routes

    return routes(config)
