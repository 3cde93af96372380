"""`hdfs://` and `viewfs://` URLs go to HopsFileSystem, for every fsspec consumer.

hdfs-native registers its own `hdfs`/`viewfs` classes through fsspec entry points; fsspec
prefers a class registered in its registry over any entry point, so once this runs (importing
`hopsfs_tools` runs it) pandas, pyarrow's FSSpecHandler and dask resolving these URLs
get HopsFileSystem with `hopsfs://` semantics, whatever was imported first.

pandas' `read_parquet`/`to_parquet` on such URLs are routed through fsspec too:
pandas (>= 2.1) hands such a URL to `pyarrow.fs.FileSystem.from_uri` first when no
`storage_options` are given: pyarrow's own libhdfs (JNI) client, which bypasses this project or,
without a JVM, fails with a page of dlopen errors. The one place pandas decides that is
`pandas.io.parquet._get_path_or_handle`; it is wrapped to pass `storage_options={}` for these
URLs (pandas then asks fsspec). The wrapper is installed when pandas.io.parquet is imported (a
post-import hook) or right away if it already is, so import order does not matter.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import inspect
import logging
import sys
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

import fsspec

from hopsfs_tools.fs import HopsFileSystem

HDFS_SCHEMES = ("hdfs", "viewfs")

# -- pandas' parquet I/O on these URLs ------------------------------------------------------------
log = logging.getLogger(__name__)
MODULE = "pandas.io.parquet"
_PARAMS = ["path", "fs", "storage_options", "mode", "is_dir"]  # pandas 2.1 .. 3.x
_SCHEMES = tuple(f"{scheme}://" for scheme in HDFS_SCHEMES)


def _routed(original: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(original)
    def wrapper(
        path: Any, fs: Any, storage_options: Any = None, mode: str = "rb", is_dir: bool = False
    ) -> Any:
        if fs is None and storage_options is None and str(path).startswith(_SCHEMES):
            storage_options = {}  # pandas then resolves the URL with fsspec
        return original(path, fs, storage_options, mode, is_dir)

    wrapper.hopsfs_routed = True  # type: ignore[attr-defined]
    return wrapper


def _patch(module: ModuleType) -> None:
    original = getattr(module, "_get_path_or_handle", None)
    if original is None or getattr(original, "hopsfs_routed", False):
        return
    if list(inspect.signature(original).parameters) != _PARAMS:
        log.warning(
            "pandas %s: read_parquet on hdfs:// URLs is not routed through fsspec "
            "(unknown _get_path_or_handle); pass storage_options={} to do it",
            getattr(sys.modules.get("pandas"), "__version__", "?"),
        )
        return
    module._get_path_or_handle = _routed(original)  # type: ignore[attr-defined]


class _PatchOnImport(importlib.abc.MetaPathFinder):
    """Finds pandas.io.parquet with the other finders and patches it once it has run."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if name != MODULE:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader.exec_module = _then_patch(spec.loader.exec_module)  # type: ignore[method-assign]
                return spec
        return None


def _then_patch(exec_module: Callable[[ModuleType], None]) -> Callable[[ModuleType], None]:
    def run(module: ModuleType) -> None:
        exec_module(module)
        _patch(module)

    return run


def route_pandas_parquet() -> None:
    """Route hdfs:// and viewfs:// parquet URLs of pandas through fsspec; idempotent."""
    if MODULE in sys.modules:
        _patch(sys.modules[MODULE])
    elif not any(isinstance(f, _PatchOnImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _PatchOnImport())


# -- fsspec's registry ---------------------------------------------------------------------------


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
