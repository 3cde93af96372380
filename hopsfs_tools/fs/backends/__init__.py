"""Backends: one module per client library, each exposing `connect(config) -> Backend`."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hopsfs_tools.config import BACKENDS

if TYPE_CHECKING:
    from hopsfs_tools.config import ClusterConfig
    from hopsfs_tools.fs.backends.base import Backend


def connect(config: ClusterConfig) -> Backend:
    """The backend named by `config.backend`, connected to the cluster `config` describes."""
    if config.backend not in BACKENDS:
        raise ValueError(f"Unknown backend {config.backend!r}: use one of {', '.join(BACKENDS)}")
    name = "viewfs" if config.backend == "webhdfs" and _viewfs(config) else config.backend
    module = importlib.import_module(f"hopsfs_tools.fs.backends.{name}")
    return module.connect(config)


def _viewfs(config: ClusterConfig) -> bool:
    """Whether WebHDFS calls resolve the viewfs:// mount table here (see backends/viewfs.py)."""
    from hopsfs_tools.fs.backends.viewfs import routes

    return routes(config)
