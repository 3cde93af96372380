"""PyTorch datasets over the cluster: TFRecord records and Parquet batches as IterableDatasets.

Each dataset splits its input across DataLoader workers and distributed ranks (torch.distributed
when initialized, else RANK/WORLD_SIZE), so every record is read exactly once per epoch. Worker
processes open their own filesystem from the configuration (never a client inherited through
fork). Importing this module imports torch; `import hopsfs_tools` does not.

Fork: `data_loader()` starts workers with "forkserver" (clean processes); with "fork", a child
drops the parent's clients and connects anew (hopsfs_tools.fs.forksafe), also right after a read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch.utils.data import DataLoader, IterableDataset, get_worker_info

from hopsfs_tools.config import settings
from hopsfs_tools.formats.parquet import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_THREADS,
    Filter,
    parquet_batches,
    to_numpy,
)
from hopsfs_tools.formats.tfrecord import read_records
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.sharding import epoch_shard, list_files


def worker_shard(rank_and_world: tuple[int, int] | None = None) -> tuple[int, int]:
    """This reader's (index, count) among all readers (hopsfs_tools.sharding): the calling
    DataLoader worker among all workers of all ranks."""
    rank, world = rank_and_world or _rank_and_world()
    info = get_worker_info()
    worker, workers = (info.id, info.num_workers) if info is not None else (0, 1)
    return rank * workers + worker, world * workers


class _ClusterDataset(IterableDataset):  # type: ignore[type-arg]
    """Holds the filesystem configuration (not a client) and the epoch, for its subclasses."""

    def __init__(self, fs: HopsFileSystem | None, storage_options: dict[str, Any] | None) -> None:
        super().__init__()
        fs = fs if fs is not None else HopsFileSystem(**(storage_options or {}))  # no I/O yet
        # explicit settings (the environment's resolved in): workers rebuild the same filesystem
        self.storage_options = fs.storage_options
        self.epoch = 0

    def __getstate__(self) -> dict[str, Any]:
        """Pickled for a spawned/forkserver worker: carry the parent's rank, which the worker,
        outside the process group and maybe started before RANK was set, cannot see."""
        return {**self.__dict__, "_rank_and_world": _rank_and_world()}

    def shard(self) -> tuple[int, int]:
        """(index, count) of the current worker of the current rank."""
        return worker_shard(self.__dict__.get("_rank_and_world"))

    def set_epoch(self, epoch: int) -> None:
        """Reshuffle for a new epoch (as DistributedSampler.set_epoch; with shuffle_files)."""
        self.epoch = epoch

    def filesystem(self) -> HopsFileSystem:
        """A filesystem for this process (fsspec gives a forked worker its own instance)."""
        return HopsFileSystem(**self.storage_options)


class TFRecordIterableDataset(_ClusterDataset):
    """The records (bytes, or `transform(bytes)`) of TFRecord files on the cluster.

    `files_or_glob`: a list of paths, a glob ("data/train-*.tfrecord"), a directory or one file
    (globs and directories skip hidden names). Files are split across workers; `shuffle_files`
    shuffles them with `seed` and the epoch before splitting (hopsfs_tools.sharding).
    """

    def __init__(
        self,
        files_or_glob: str | Sequence[str],
        *,
        compression: str | None = None,
        fs: HopsFileSystem | None = None,
        storage_options: dict[str, Any] | None = None,
        transform: Callable[[bytes], Any] | None = None,
        shuffle_files: bool = False,
        seed: int = 0,
        verify: bool = True,
    ) -> None:
        super().__init__(fs, storage_options)
        self.files_or_glob = files_or_glob
        self.compression = compression
        self.transform = transform
        self.shuffle_files = shuffle_files
        self.seed = seed
        self.verify = verify

    def __iter__(self) -> Iterator[Any]:
        fs = self.filesystem()
        files = expand_files(fs, self.files_or_glob)
        mine = epoch_shard(
            files, self.shard(), self.epoch, shuffle=self.shuffle_files, seed=self.seed
        )
        for path in mine:
            with fs.open(path, "rb") as f:
                for record in read_records(
                    f, compression=self.compression, verify=self.verify, name=path
                ):
                    yield record if self.transform is None else self.transform(record)


class ParquetIterableDataset(_ClusterDataset):
    """Batches of `batch_size` rows of a Parquet file or dataset as {column: tensor}.

    Numeric and boolean columns become torch tensors, others numpy arrays; use it with
    `DataLoader(dataset, batch_size=None)`. Row groups are split across workers.
    """

    def __init__(
        self,
        path: str,
        columns: Sequence[str] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        filter: Filter = None,
        fs: HopsFileSystem | None = None,
        storage_options: dict[str, Any] | None = None,
        transform: Callable[[dict[str, Any]], Any] | None = None,
        num_threads: int = DEFAULT_THREADS,
    ) -> None:
        super().__init__(fs, storage_options)
        self.path = path
        self.columns = list(columns) if columns is not None else None
        self.batch_size = batch_size
        self.filter = filter
        self.transform = transform
        self.num_threads = num_threads

    def __iter__(self) -> Iterator[Any]:
        batches = parquet_batches(
            self.path,
            self.columns,
            self.batch_size,
            fs=self.filesystem(),
            filter=self.filter,
            shard=self.shard(),
            num_threads=self.num_threads,
        )
        for batch in batches:
            tensors = {k: _tensor(v) for k, v in to_numpy(batch, nulls_in=self.path).items()}
            yield tensors if self.transform is None else self.transform(tensors)


def data_loader(dataset: Any, num_workers: int = 2, **kwargs: Any) -> DataLoader:  # type: ignore[type-arg]
    """A DataLoader over `dataset` whose workers start clean ("forkserver"), one item per element.

    batch_size defaults to None: the datasets yield records or whole batches already. The
    dataset, including its transform, must be picklable (no lambdas). (persistent_workers=True
    would keep the workers' copy of the dataset, and so its epoch: set_epoch would not reach it.)
    """
    kwargs.setdefault("batch_size", None)
    if num_workers:
        kwargs.setdefault("multiprocessing_context", "forkserver")
    return DataLoader(dataset, num_workers=num_workers, **kwargs)


def expand_files(fs: HopsFileSystem, files_or_glob: str | Sequence[str]) -> list[str]:
    """Absolute paths of a list of paths, a glob, a directory's visible files, or one file."""
    return [path for path, _ in list_files(files_or_glob, fs)]


def _rank_and_world() -> tuple[int, int]:
    """(rank, world size): torch.distributed when initialized, else RANK/WORLD_SIZE, else (0, 1)."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    raw_rank, raw_world = settings.env("RANK"), settings.env("WORLD_SIZE")
    if raw_rank is None and raw_world is None:
        return 0, 1
    values = []
    for name, raw in (("RANK", raw_rank), ("WORLD_SIZE", raw_world)):
        try:
            values.append(int(raw if raw is not None else ""))
        except ValueError:
            raise ValueError(
                f"{name}={raw!r} is not an integer: set RANK and WORLD_SIZE as torchrun does "
                "(or unset both for a single process)"
            ) from None
    rank, world = values
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"RANK={rank} must be in [0, WORLD_SIZE={world}): fix RANK/WORLD_SIZE")
    return rank, world


def _tensor(values: np.ndarray) -> Any:
    """A torch tensor of a numeric/boolean array; other arrays (strings) unchanged."""
    if values.dtype.kind not in "biuf":
        return values
    return torch.from_numpy(values if values.flags.writeable else values.copy())


__all__ = [
    "ParquetIterableDataset",
    "TFRecordIterableDataset",
    "data_loader",
    "expand_files",
    "worker_shard",
]
