"""A PyIceberg FileIO over HopsFileSystem: `hopsfs://`, `hdfs://` and `viewfs://` warehouses
without a JVM.

PyIceberg's `FsspecFileIO` has a fixed scheme table without HDFS, and the `PyArrowFileIO` it
picks for `hdfs://` opens pyarrow's HadoopFileSystem (libhdfs: a JVM). Select this one with
the catalog property `"py-io-impl": "hopsfs_tools.adapters.iceberg.HopsFileIO"`. Properties
named `hopsfs.<option>` (e.g. `hopsfs.project`, `hopsfs.user`, `hopsfs.backend`) are
HopsFileSystem's options; without them the environment's cluster, user and project are used.
"""

from __future__ import annotations

from typing import Any

import fsspec
from pyiceberg.io.fsspec import FsspecFileIO
from pyiceberg.typedef import Properties

SCHEMES = ("hopsfs", "hdfs", "viewfs")
PREFIX = "hopsfs."


class HopsFileIO(FsspecFileIO):
    """PyIceberg's fsspec FileIO, with this project's filesystem for the cluster's schemes."""

    def __init__(self, properties: Properties) -> None:
        super().__init__(properties)
        for scheme in SCHEMES:
            self._scheme_to_fs[scheme] = _filesystem_for(scheme)


def _filesystem_for(scheme: str) -> Any:
    """A factory PyIceberg calls with the catalog's properties: the filesystem of `scheme`."""

    def build(properties: Properties) -> fsspec.AbstractFileSystem:
        options = {
            key.removeprefix(PREFIX): value
            for key, value in properties.items()
            if key.startswith(PREFIX)
        }
        return fsspec.filesystem(scheme, **options)

    return build


__all__ = ["HopsFileIO"]
