"""Test helper: release the filesystems fsspec keeps cached between tests."""

from __future__ import annotations

from hopsfs_tools.fs import HopsFileSystem


def close_cached_filesystems() -> None:
    """Close and forget every cached HopsFileSystem (and subclass, e.g. hdfs:// URLs' class):
    hdfs-native serves one user per process, so a test acting as a project user through fsspec
    URLs (pandas, dask) releases that user for the next test."""
    classes = [HopsFileSystem]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        for fs in list(cls._cache.values()):
            fs.close()
        cls.clear_instance_cache()
