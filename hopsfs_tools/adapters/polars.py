"""polars on `hopsfs://`, `hdfs://` and `viewfs://` URLs, after `import hopsfs_tools.adapters.polars`.

polars 2 opens URLs with its own object store, which has no HDFS, and no longer falls back to
fsspec. Importing this module wraps polars' `read_parquet`, `scan_parquet`, `read_csv`,
`scan_csv`, `DataFrame.write_parquet` and `DataFrame.write_csv` so that these URLs go through
HopsFileSystem (`storage_options` are its keyword arguments, e.g. `{"project": "P"}`); any
other source goes to polars unchanged.

Parquet scans are a pyarrow dataset over this filesystem handed to `pl.scan_pyarrow_dataset`:
polars pushes the projection and the predicate into it, so only the selected columns of the row
groups whose statistics can match are fetched, by ranged reads. An IO plug-in
(`register_io_source`) gets the predicate as a polars expression it can only apply after reading
every row group; benchmarks/bench_polars.py measures both with the DataNodes' byte counters.
CSV has no such structure: a CSV read fetches the whole file (as polars does from any store).
Writes go through the filesystem's writer (temporary file, renamed on close).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import fsspec
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
from pyarrow.fs import FSSpecHandler, PyFileSystem

SCHEMES = ("hopsfs://", "hdfs://", "viewfs://")
# What the parquet readers accept on these URLs besides the source (anything else: TypeError).
_SCAN_OPTIONS = {"storage_options", "columns", "n_rows", "hive_partitioning"}


def is_cluster_url(source: object) -> bool:
    """Whether `source` is a URL this module serves (a str with one of SCHEMES)."""
    return isinstance(source, str) and source.startswith(SCHEMES)


def filesystem(url: str, storage_options: dict[str, Any] | None = None) -> tuple[Any, str]:
    """The HopsFileSystem serving `url` (built with `storage_options`) and the path within it."""
    return fsspec.core.url_to_fs(url, **(storage_options or {}))


class RangedHandler(FSSpecHandler):
    """pyarrow's FSSpecHandler, its input files unbuffered: parquet's footer and column-chunk
    reads fetch exactly their ranges, not 8 MiB of readahead each."""

    def open_input_file(self, path: str) -> pa.PythonFile:
        """`path` opened for random access without readahead."""
        return pa.PythonFile(self.fs.open(path, mode="rb", cache_type="none"), mode="r")


def parquet_dataset(
    url: str, storage_options: dict[str, Any] | None = None, *, hive_partitioning: bool = True
) -> ds.Dataset:
    """A pyarrow dataset of the parquet file or directory at `url`, read through this filesystem."""
    fs, path = filesystem(url, storage_options)
    if not fs.exists(path):
        fs.info(path)  # the filesystem's own one-line FileNotFoundError / PermissionError
    return ds.dataset(
        path,
        filesystem=PyFileSystem(RangedHandler(fs)),
        format="parquet",
        partitioning="hive" if hive_partitioning else None,
    )


def scan_parquet(url: str, **options: Any) -> pl.LazyFrame:
    """A lazy scan of the parquet file or directory at `url`; projection and predicate pushed down."""
    _check_options("scan_parquet", options)
    frame = pl.scan_pyarrow_dataset(
        parquet_dataset(
            url,
            options.get("storage_options"),
            hive_partitioning=options.get("hive_partitioning", True) is not False,
        )
    )
    if options.get("n_rows") is not None:
        frame = frame.head(options["n_rows"])
    return frame


def read_parquet(url: str, **options: Any) -> pl.DataFrame:
    """The parquet file or directory at `url` (only `columns` and `n_rows` of it are fetched)."""
    _check_options("read_parquet", options)
    columns = options.pop("columns", None)
    frame = scan_parquet(url, **options)
    if columns is not None:
        frame = frame.select(columns)
    return frame.collect()


def read_csv(original: Callable[..., pl.DataFrame], url: str, **options: Any) -> pl.DataFrame:
    """polars' `read_csv` of the file at `url` (opened through this filesystem)."""
    fs, path = filesystem(url, options.pop("storage_options", None))
    with fs.open(path, "rb") as f:
        return original(f, **options)


def scan_csv(original: Callable[..., pl.LazyFrame], url: str, **options: Any) -> pl.LazyFrame:
    """polars' `scan_csv` of the file at `url`: its bytes are fetched once, parsed lazily."""
    fs, path = filesystem(url, options.pop("storage_options", None))
    return original(fs.cat_file(path), **options)


def write(original: Callable[..., Any], frame: pl.DataFrame, url: str, **options: Any) -> None:
    """`frame` written by polars' writer `original` to `url` (committed when complete)."""
    fs, path = filesystem(url, options.pop("storage_options", None))
    with fs.open(path, "wb") as f:
        original(frame, f, **options)


def _check_options(name: str, options: dict[str, Any]) -> None:
    """A TypeError naming what polars' `name` cannot take on these URLs, and what to do instead."""
    unknown = sorted(set(options) - _SCAN_OPTIONS)
    if unknown:
        raise TypeError(
            f"pl.{name} on hopsfs://, hdfs:// and viewfs:// URLs takes only "
            f"{', '.join(sorted(_SCAN_OPTIONS))}, not {', '.join(unknown)}: "
            "for other options pass a file opened with fsspec.open(url)"
        )


def _route_reader(name: str, ours: Callable[..., Any], *, wants_original: bool) -> None:
    """Wrap `pl.<name>` so that a cluster URL as its source goes to `ours`."""
    original = getattr(pl, name)
    if getattr(original, "hopsfs_routed", False):
        return

    @functools.wraps(original)
    def wrapper(source: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_cluster_url(source) or args:
            return original(source, *args, **kwargs)
        return ours(original, source, **kwargs) if wants_original else ours(source, **kwargs)

    wrapper.hopsfs_routed = True  # type: ignore[attr-defined]
    setattr(pl, name, wrapper)


def _route_writer(name: str) -> None:
    """Wrap `pl.DataFrame.<name>` so that a cluster URL as its target goes through `write`."""
    original = getattr(pl.DataFrame, name)
    if getattr(original, "hopsfs_routed", False):
        return

    @functools.wraps(original)
    def wrapper(self: pl.DataFrame, file: Any = None, *args: Any, **kwargs: Any) -> Any:
        if not is_cluster_url(file) or args:
            return original(self, file, *args, **kwargs)
        return write(original, self, file, **kwargs)

    wrapper.hopsfs_routed = True  # type: ignore[attr-defined]
    setattr(pl.DataFrame, name, wrapper)


def install() -> None:
    """Route polars' parquet/CSV readers and writers of cluster URLs here; idempotent."""
    _route_reader("read_parquet", read_parquet, wants_original=False)
    _route_reader("scan_parquet", scan_parquet, wants_original=False)
    _route_reader("read_csv", read_csv, wants_original=True)
    _route_reader("scan_csv", scan_csv, wants_original=True)
    _route_writer("write_parquet")
    _route_writer("write_csv")


install()

__all__ = [
    "SCHEMES",
    "RangedHandler",
    "filesystem",
    "install",
    "is_cluster_url",
    "parquet_dataset",
    "scan_parquet",
]
