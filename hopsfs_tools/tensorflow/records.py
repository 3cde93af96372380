"""Writing TFRecord shards to HDFS: every shard committed only once all are complete."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import ExitStack
from typing import Any

from hopsfs_tools.formats.tfrecord import TFRecordWriter
from hopsfs_tools.fs import HopsFile, HopsFileSystem


def _filesystem(fs: HopsFileSystem | None) -> HopsFileSystem:
    return fs if fs is not None else HopsFileSystem()


# -- writing records ---------------------------------------------------------------------------


def shard_paths(path_pattern: str, num_shards: int, fs: HopsFileSystem | None = None) -> list[str]:
    """Absolute paths of `num_shards` shards: `path_pattern` formatted with {shard} and
    {num_shards}, else suffixed "-00000-of-00004" (a single shard keeps the plain name)."""
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, not {num_shards}")
    fs = _filesystem(fs)
    if "{" not in path_pattern:
        if num_shards == 1:
            return [fs.resolve(path_pattern)]
        path_pattern += "-{shard:05d}-of-{num_shards:05d}"
    paths = [
        fs.resolve(path_pattern.format(shard=i, num_shards=num_shards)) for i in range(num_shards)
    ]
    if len(set(paths)) != num_shards:
        raise ValueError(
            f"path pattern {path_pattern!r} gives the same name to several shards: use {{shard}}"
        )
    return paths


def _record_bytes(item: Any) -> bytes:
    """A record from bytes, a tf.train.Example (or any protobuf), or a scalar string tensor."""
    if isinstance(item, bytes):
        return item
    if hasattr(item, "SerializeToString"):
        return item.SerializeToString()
    if hasattr(item, "numpy"):
        item = item.numpy()
    if isinstance(item, (bytes, bytearray, memoryview)):
        return bytes(item)
    raise TypeError(
        f"cannot write a {type(item).__name__} as a TFRecord: give bytes, tf.train.Example or "
        "scalar tf.string tensors"
    )


def write_tfrecords(
    records_or_dataset: Iterable[Any],
    path_pattern: str,
    num_shards: int = 1,
    compression: str | None = None,
    fs: HopsFileSystem | None = None,
) -> list[str]:
    """Write records round-robin into `num_shards` TFRecord files on HDFS; returns their paths.

    Shards are uploaded to hidden temporary files and renamed into place only once all are
    complete; on an error (or a crash while writing) none of them is committed.
    """
    fs = _filesystem(fs)
    paths = shard_paths(path_pattern, num_shards, fs)
    items = records_or_dataset
    if hasattr(items, "as_numpy_iterator"):  # a tf.data.Dataset
        items = items.as_numpy_iterator()
    with ExitStack() as stack:  # an error discards every shard's temporary file
        files = [stack.enter_context(HopsFile(fs, p, "wb", autocommit=False)) for p in paths]
        writers = [stack.enter_context(TFRecordWriter(f, compression)) for f in files]
        for i, item in enumerate(items):
            writers[i % num_shards].write(_record_bytes(item))
    try:  # every shard is complete: now rename them all into place
        for f in files:
            f.commit()
    except BaseException:
        for f in files:
            f.discard()
        raise
    return paths
