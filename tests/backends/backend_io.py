"""Helpers of the backend tests: a raw Backend on the test cluster, whole-file write and read."""

from __future__ import annotations

from typing import Any

from hopsfs_tools.config import load_config
from hopsfs_tools.fs.backends import arrow, webhdfs
from hopsfs_tools.fs.backends.base import Backend


def make_backend(cluster: Any, name: str, **kw: Any) -> Any:
    """A `name` backend on the test cluster (extra kw go to load_config); arrow reads the
    cluster's Hadoop configuration (its JVM needs it)."""
    args = {"namenode": cluster.namenode_uri, "webhdfs_url": cluster.webhdfs_url, "backend": name}
    if name == "arrow":
        args["conf_dir"] = str(cluster.conf_dir)
    connect = {"arrow": arrow.connect, "webhdfs": webhdfs.connect}[name]
    return connect(load_config(**{**args, **kw}))


def put(backend: Backend, path: str, data: bytes, **kw: Any) -> None:
    with backend.open_write(path, **kw) as f:
        f.write(data)


def get(backend: Backend, path: str) -> bytes:
    reader = backend.open_read(path)
    try:
        return reader.read_range(0, reader.size)
    finally:
        reader.close()
