"""Parquet on the cluster as a stream of fixed-size batches, for training loops.

Reads a single file or a (hive-partitioned) dataset directory as Spark or pandas write them,
skipping `_SUCCESS`, `_metadata` and hidden files, through pyarrow.dataset over a
HopsFileSystem, with several row groups in flight at once. Sharding splits the dataset by row
group, so even a single file spreads over workers.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from hopsfs_tools.sharding import shard_files

if TYPE_CHECKING:
    from hopsfs_tools.fs import HopsFileSystem

DEFAULT_BATCH_SIZE = 1024
DEFAULT_THREADS = 8  # row groups (or files) read concurrently
Filter = ds.Expression | Sequence[Any] | None  # an Expression, or pandas-style DNF tuples


def parquet_dataset(
    path: str, fs: HopsFileSystem | None = None, shard: tuple[int, int] | None = None
) -> ds.FileSystemDataset:
    """A pyarrow dataset of `path` (file or hive-partitioned directory) on the cluster.

    With `shard=(index, count)` it holds only this worker's row groups: every row group of the
    dataset belongs to exactly one of the `count` workers.
    """
    from hopsfs_tools.fs import HopsFileSystem

    fs = fs if fs is not None else HopsFileSystem()
    root = fs.resolve(path)
    is_dir = fs.info(root)["type"] == "directory"
    dataset = ds.dataset(
        root,
        filesystem=fs.to_pyarrow(),
        format="parquet",
        partitioning="hive" if is_dir else None,
        ignore_prefixes=[".", "_"],
    )
    if shard is None:
        return dataset
    index, count = shard
    fragments = sorted(dataset.get_fragments(), key=lambda f: f.path)
    with ThreadPoolExecutor(DEFAULT_THREADS) as pool:  # one footer read per file
        row_groups = list(pool.map(lambda f: [rg.id for rg in f.row_groups], fragments))
    units = {
        f"{fragment.path}#{rg:09d}": (fragment, rg)
        for fragment, ids in zip(fragments, row_groups, strict=True)
        for rg in ids
    }
    mine = [units[key] for key in shard_files(units, index, count)]
    return ds.FileSystemDataset(
        [fragment.subset(row_group_ids=[rg]) for fragment, rg in mine],
        dataset.schema,
        dataset.format,
        dataset.filesystem,
    )


def parquet_batches(
    path: str,
    columns: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    fs: HopsFileSystem | None = None,
    filter: Filter = None,
    shard: tuple[int, int] | None = None,
    num_threads: int = DEFAULT_THREADS,
    as_numpy: bool = False,
) -> Iterator[Any]:
    """Batches of exactly `batch_size` rows (the last may be smaller) of a Parquet file or dataset.

    Yields pyarrow RecordBatches, or dicts of numpy arrays with `as_numpy=True`, in file and
    row order. `filter` is a pyarrow Expression or pandas-style [(column, op, value), ...].
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if num_threads < 1:
        raise ValueError(f"num_threads must be at least 1, got {num_threads}")
    dataset = parquet_dataset(path, fs, shard)
    scanner = ds.Scanner.from_dataset(
        dataset,
        columns=list(columns) if columns is not None else None,
        filter=_expression(filter),
        use_threads=num_threads > 1,
        fragment_readahead=num_threads,
        batch_readahead=num_threads,
    )
    batches = rebatch(scanner.to_batches(), batch_size)
    return (to_numpy(b) for b in batches) if as_numpy else batches


def rebatch(batches: Iterable[pa.RecordBatch], batch_size: int) -> Iterator[pa.RecordBatch]:
    """The same rows re-cut into batches of exactly `batch_size` rows (the last may be smaller)."""
    pending: list[pa.RecordBatch] = []
    rows = 0
    for batch in batches:
        offset = 0
        while offset < batch.num_rows:
            take = min(batch_size - rows, batch.num_rows - offset)
            pending.append(batch.slice(offset, take))
            rows += take
            offset += take
            if rows == batch_size:
                yield _concat(pending)
                pending, rows = [], 0
    if rows:
        yield _concat(pending)


def to_numpy(batch: pa.RecordBatch, nulls_in: str | None = None) -> dict[str, np.ndarray]:
    """A batch as {column: numpy array} (strings become object arrays).

    With `nulls_in` (the source path), a column holding nulls raises ValueError: tensors
    cannot hold them (numpy would turn integers into floats with NaN).
    """
    for name, column in zip(batch.schema.names, batch.columns, strict=True):
        if nulls_in is not None and column.null_count:
            raise ValueError(
                f"column {name!r} of {nulls_in} has nulls, which tensors cannot hold: filter "
                "them out (filter=...) or fill them before training"
            )
    return {
        name: column.to_numpy(zero_copy_only=False)
        for name, column in zip(batch.schema.names, batch.columns, strict=True)
    }


def _expression(filter: Filter) -> ds.Expression | None:
    if filter is None or isinstance(filter, ds.Expression):
        return filter
    return pq.filters_to_expression(filter)


def _concat(parts: list[pa.RecordBatch]) -> pa.RecordBatch:
    if len(parts) == 1:
        return parts[0]
    return pa.Table.from_batches(parts).combine_chunks().to_batches()[0]


__all__ = ["parquet_batches", "parquet_dataset", "rebatch", "to_numpy"]
