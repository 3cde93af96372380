"""deltalake (delta-rs) tables on project paths: `hopsfs://DataSets/t`, `hdfs://` and `viewfs://`.

delta-rs speaks `hdfs://` and `viewfs://` itself (hdfs-native, no JVM) but knows no `hopsfs://`,
resolves no project-relative path, and takes its cluster settings only from the site XML files it
finds or from `storage_options`. `delta_location` maps a URL to the absolute URL of the
configured cluster (`hdfs://nameservice/...` on an HA cluster, `viewfs://...` on a federated
one) and the options delta-rs needs: the cluster's core-site/hdfs-site properties (HA
nameservice, viewfs mount table, Kerberos), the user, and the Kerberos ticket cache.
`write_deltalake` and `DeltaTable` are deltalake's own, taking such URLs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import deltalake
import fsspec

from hopsfs_tools.config import settings
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.hadoop import identity

SCHEMES = ("hopsfs://", "hdfs://", "viewfs://")


def delta_location(url: str, **fs_options: Any) -> tuple[str, dict[str, str]]:
    """The URL delta-rs opens for `url` (absolute, on the configured cluster) and its options.

    `fs_options` are HopsFileSystem's (project, user, namenode, conf_dir, ...)."""
    fs, path = _filesystem(url, fs_options)
    return _location(fs, path)


def _filesystem(url: str, fs_options: dict[str, Any]) -> tuple[HopsFileSystem, str]:
    """The HopsFileSystem serving `url`, and the path in it."""
    if not url.startswith(SCHEMES):
        raise ValueError(f"{url}: not a cluster URL (hopsfs://, hdfs:// or viewfs://)")
    return fsspec.core.url_to_fs(url, **fs_options)


def _location(fs: HopsFileSystem, path: str) -> tuple[str, dict[str, str]]:
    """delta-rs's absolute URL of `path` and the cluster's properties as its options."""
    return fs.config.namenode_uri.rstrip("/") + fs.resolve(path), dict(fs.config.properties)


@contextmanager
def _acting_as(
    url: str, fs_options: dict[str, Any], *, writing: bool
) -> Iterator[tuple[str, dict[str, str]]]:
    """Within the block, delta-rs's hdfs-native acts as the filesystem's user (HADOOP_USER_NAME,
    process-wide) with its Kerberos ticket cache (KRB5CCNAME).

    The table's directory is checked (read) or made (write) through the filesystem first, so a
    missing table or project, or one the user may not write, is its one-line FileNotFoundError
    or PermissionError instead of delta-rs's wrapped Java exception."""
    fs, path = _filesystem(url, fs_options)
    if writing:
        fs.makedirs(path, exist_ok=True)
    else:
        fs.info(path.rstrip("/") + "/_delta_log")
    location = _location(fs, path)
    config = fs.config
    user = None if config.kerberos else identity.bind_native(config.user)
    try:
        env = {"KRB5CCNAME": config.ticket_cache} if config.ticket_cache else {}
        with settings.exported_for_block(env):
            yield location
    finally:
        if user is not None:
            identity.release_native(user)


def _split(storage_options: dict[str, Any] | None) -> tuple[dict[str, Any], dict[str, str]]:
    """HopsFileSystem's options (project, user, ...) and delta-rs's own from `storage_options`."""
    ours, theirs = {}, {}
    for key, value in (storage_options or {}).items():
        (theirs if "." in key else ours)[key] = value  # Hadoop keys are dotted: dfs.*, fs.*
    return ours, theirs


def write_deltalake(table_or_uri: Any, data: Any, **kwargs: Any) -> None:
    """deltalake's `write_deltalake`, for cluster URLs too (`storage_options` may name the
    project or user; dotted keys go to delta-rs over the cluster's own properties)."""
    if not (isinstance(table_or_uri, str) and table_or_uri.startswith(SCHEMES)):
        deltalake.write_deltalake(table_or_uri, data, **kwargs)
        return
    ours, theirs = _split(kwargs.pop("storage_options", None))
    with _acting_as(table_or_uri, ours, writing=True) as (uri, options):
        deltalake.write_deltalake(uri, data, storage_options=options | theirs, **kwargs)


class DeltaTable(deltalake.DeltaTable):
    """deltalake's `DeltaTable`, for cluster URLs too (storage_options as in write_deltalake)."""

    def __init__(self, table_uri: Any, *args: Any, **kwargs: Any) -> None:
        if not (isinstance(table_uri, str) and table_uri.startswith(SCHEMES)):
            super().__init__(table_uri, *args, **kwargs)
            return
        ours, theirs = _split(kwargs.pop("storage_options", None))
        with _acting_as(table_uri, ours, writing=False) as (uri, options):
            super().__init__(uri, *args, storage_options=options | theirs, **kwargs)


__all__ = ["DeltaTable", "delta_location", "write_deltalake"]
