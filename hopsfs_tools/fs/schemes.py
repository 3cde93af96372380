"""`hdfs://` and `viewfs://` URLs go to HopsFileSystem, for every fsspec consumer.

hdfs-native registers its own `hdfs`/`viewfs` classes through fsspec entry points; fsspec
prefers a class registered in its registry over any entry point, so once this runs (importing
`hopsfs_tools` runs it) pandas, pyarrow's FSSpecHandler and dask resolving these URLs
get HopsFileSystem with `hopsfs://` semantics, whatever was imported first.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import fsspec

from hopsfs_tools.fs import HopsFileSystem

HDFS_SCHEMES = ("hdfs", "viewfs")


class HdfsUrlFileSystem(HopsFileSystem):
    """HopsFileSystem for hdfs:// URLs: a URL's host[:port] names the NameNode, as it does for
    pydoop and hdfs-native ("hdfs:///x" and viewfs:// URLs use the configured cluster)."""

    def __init__(
        self, *args: Any, host: str | None = None, port: int | None = None, **kwargs: Any
    ) -> None:
        """Also takes hdfs-native's / pyarrow's `host` and `port` (the NameNode) for code
        written for fsspec's earlier "hdfs" classes."""
        if host and host != "default" and "namenode" not in kwargs:
            kwargs["namenode"] = f"hdfs://{host}" + (f":{port}" if port else "")
        super().__init__(*args, **kwargs)

    @classmethod
    def _get_kwargs_from_urls(cls, path: str) -> dict[str, Any]:
        parts = urlsplit(path if isinstance(path, str) else "")
        return (
            {"namenode": f"hdfs://{parts.netloc}"}
            if parts.scheme == "hdfs" and parts.netloc
            else {}
        )


def register_hdfs_schemes() -> None:
    """Make fsspec resolve hdfs:// and viewfs:// URLs to HopsFileSystem (replacing hdfs-native's
    registration); idempotent."""
    for scheme in HDFS_SCHEMES:
        fsspec.register_implementation(scheme, HdfsUrlFileSystem, clobber=True)
