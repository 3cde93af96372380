"""Parquet files and datasets on HDFS as tf.data input (batches of columns)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from hopsfs_tools.formats.parquet import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_THREADS,
    Filter,
    parquet_batches,
    parquet_dataset,
    to_numpy,
)
from hopsfs_tools.fs import HopsFileSystem
from hopsfs_tools.tensorflow.plugin import tensorflow


def parquet_tf_dataset(
    path: str,
    columns: Sequence[str] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    fs: HopsFileSystem | None = None,
    filter: Filter = None,
    shard: tuple[int, int] | None = None,
    num_threads: int = DEFAULT_THREADS,
) -> Any:
    """A tf.data.Dataset of {column: tensor of up to `batch_size` rows} (imports TensorFlow)."""
    tf = tensorflow()

    schema = parquet_dataset(path, fs).schema
    names = list(columns) if columns is not None else schema.names
    signature = {
        name: tf.TensorSpec(shape=(None,), dtype=_tf_dtype(tf, name, schema.field(name).type))
        for name in names
    }

    def generate() -> Iterator[dict[str, np.ndarray]]:
        for batch in parquet_batches(path, names, batch_size, fs, filter, shard, num_threads):
            yield to_numpy(batch, nulls_in=path)

    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(
        tf.data.AUTOTUNE
    )


def _tf_dtype(tf: Any, name: str, arrow_type: pa.DataType) -> Any:
    """The TensorFlow dtype of a flat Arrow column type (strings and binaries: tf.string)."""
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return tf.string
    if pa.types.is_binary(arrow_type) or pa.types.is_large_binary(arrow_type):
        return tf.string
    if pa.types.is_dictionary(arrow_type):
        return _tf_dtype(tf, name, arrow_type.value_type)
    if pa.types.is_boolean(arrow_type) or pa.types.is_integer(arrow_type):
        return tf.as_dtype(arrow_type.to_pandas_dtype())
    if pa.types.is_floating(arrow_type):
        return tf.as_dtype(arrow_type.to_pandas_dtype())
    raise TypeError(
        f"column {name!r} has type {arrow_type}, which parquet_tf_dataset cannot turn into a "
        "flat tensor: select flat numeric, boolean or string columns (columns=[...])"
    )
