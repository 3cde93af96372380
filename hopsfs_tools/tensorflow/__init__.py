"""TensorFlow on HDFS/HopsFS. Importing this package registers TF filesystems for hdfs://,
viewfs:// and hopsfs:// (`register`, a plugin built at first use), so TF code takes HDFS paths
unchanged; it also offers sharded TFRecord input (`tfrecord_dataset`), shard writing
(`write_tfrecords`), model/checkpoint helpers and Parquet input (`parquet_tf_dataset`).

Modules: `plugin` (the filesystem plugin), `dataset` (tf.data input), `records` (writing),
`models` (models, checkpoints, TensorBoard logs), `parquet` (Parquet as tf.data).
"""

from __future__ import annotations

import logging
from typing import Any

from hopsfs_tools.sharding import list_files
from hopsfs_tools.tensorflow.dataset import (
    AUTOTUNE,
    default_strategy,
    tfrecord_dataset,
    worker_files,
    worker_shard,
)
from hopsfs_tools.tensorflow.models import (
    checkpoint_class,
    latest_checkpoint,
    load_model,
    save_model,
    sync_dir,
    upload_dir,
)
from hopsfs_tools.tensorflow.parquet import parquet_tf_dataset
from hopsfs_tools.tensorflow.plugin import register
from hopsfs_tools.tensorflow.records import shard_paths, write_tfrecords

log = logging.getLogger(__name__)


def __getattr__(name: str) -> Any:
    if name == "HopsCheckpoint":
        cls = checkpoint_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _register_on_import() -> None:
    """Register the hdfs/viewfs/hopsfs TF filesystems; a failure is logged, not raised (the
    "cache" and "stream" strategies still work; `register()` raises it)."""
    try:
        register()
    except (RuntimeError, ValueError, OSError) as exc:
        log.warning("TensorFlow cannot use hdfs:// / hopsfs:// paths natively: %s", exc)


_register_on_import()

__all__ = [  # and HopsCheckpoint, made on first access (it subclasses a Keras class)
    "AUTOTUNE",
    "default_strategy",
    "latest_checkpoint",
    "list_files",
    "load_model",
    "parquet_tf_dataset",
    "register",
    "save_model",
    "shard_paths",
    "sync_dir",
    "tfrecord_dataset",
    "upload_dir",
    "worker_files",
    "worker_shard",
    "write_tfrecords",
]
