"""`hdfs://` and `viewfs://` URLs go to HopsFileSystem, for every fsspec consumer.

hdfs-native registers its own `hdfs`/`viewfs` classes through fsspec entry points; fsspec
prefers a class registered in its registry over any entry point, so once this runs (importing
`hopsfs_tools` runs it) pandas, pyarrow's FSSpecHandler, dask and polars resolving these URLs
get HopsFileSystem with `hopsfs://` semantics, whatever was imported first.
"""

from __future__ import annotations

import fsspec

from hopsfs_tools.fs.core import HopsFileSystem

HDFS_SCHEMES = ("hdfs", "viewfs")


def register_hdfs_schemes() -> None:
    """Make fsspec resolve hdfs:// and viewfs:// URLs to HopsFileSystem (replacing hdfs-native's
    registration); idempotent."""
    for scheme in HDFS_SCHEMES:
        fsspec.register_implementation(scheme, HopsFileSystem, clobber=True)
