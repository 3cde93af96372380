"""The checks that name the HDFS file and byte offset of a corrupt or truncated TFRecord when
TF's own reader (whose errors name neither) reads a file the plugin does not check itself
(compressed files, local cache pieces): by counting the framed sizes of the records TF read
(`checked`, `compressed_end_check`). Uncompressed files read through the plugin are checked by
the plugin (`plugin.records_url`)."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hopsfs_tools.formats.tfrecord import TFRecordError, read_record_batches
from hopsfs_tools.fs import HopsFileSystem

if TYPE_CHECKING:
    import tensorflow as tf

RECORD_OVERHEAD = 16  # TFRecord framing: length (8) + its CRC (4) + data CRC (4)
CHECK_BATCH = 8  # records counted at once by the corrupt-record check (memory: 8 x record)


def checked(
    tf: Any,
    records: tf.data.Dataset,
    name: tf.Tensor,
    size: tf.Tensor,
    base: tf.Tensor,
    end_check: Callable[..., bool] | None = None,
) -> tf.data.Dataset:
    """`records` of the `size` bytes at byte `base` of file `name`, failing with an error that
    names the file and the offset of the record TF could not read (TF's own error says only
    "corrupted record at N", of a local piece or an unnamed file).

    TF ends a file's TFRecordDataset at its first bad record (so that ignore_errors works);
    the framed sizes of the records read add up to that record's (uncompressed) offset, which
    must be the end of an uncompressed file, and which `end_check` (a compressed file's
    `compressed_end_check`) judges otherwise. Counted per batch of CHECK_BATCH records.
    """
    batches = records.ignore_errors().batch(CHECK_BATCH).map(lambda b: (b, False))
    marked = batches.concatenate(tf.data.Dataset.from_tensors((tf.constant([], tf.string), True)))

    def step(offset: tf.Tensor, item: tuple[tf.Tensor, tf.Tensor]) -> tuple[Any, Any]:
        batch, end = item

        def check() -> tf.Tensor:
            if end_check is not None:
                ok = tf.py_function(end_check, [name, size, base + offset], tf.bool)
            else:
                message = tf.strings.join(
                    [
                        "corrupt or truncated TFRecord: ",
                        name,
                        " at byte offset ",
                        tf.strings.as_string(base + offset),
                        " (or the read failed there)",
                    ]
                )
                ok = tf.debugging.Assert(tf.equal(offset, size), [message])
            with tf.control_dependencies([ok]):
                return tf.identity(offset)

        framed = tf.reduce_sum(tf.cast(tf.strings.length(batch), tf.int64) + RECORD_OVERHEAD)
        return tf.cond(end, check, lambda: offset + framed), batch

    return marked.scan(tf.constant(0, tf.int64), step).unbatch()


def compressed_end_check(fs: HopsFileSystem, kind: str) -> Callable[..., bool]:
    """For `checked`: whether TF read all of a compressed file, given where it stopped
    (`reached`, an uncompressed offset); else raises TFRecordError naming the file and offset.

    A GZIP file whose trailer's uncompressed size (ISIZE, mod 2**32) equals `reached` was read
    to its end: one 4-byte read. Any other file (ZLIB has no size trailer; multi-member GZIP;
    a damaged file) is read again in Python, which finds and names the bad record, or confirms
    that TF read everything.
    """

    def check(name: Any, size: Any, reached: Any) -> bool:
        path, size, reached = os.fsdecode(name.numpy()), int(size), int(reached)
        if kind == "GZIP" and size >= 18:  # 10-byte header + 8-byte trailer
            isize = struct.unpack("<I", fs.cat_file(path, start=size - 4))[0]
            if isize == reached % 2**32:
                return True
        total = 0
        try:
            with fs.open(path, "rb", cache_type="none") as f:
                for batch in read_record_batches(f, compression=kind, name=path):
                    total += sum(len(record) + RECORD_OVERHEAD for record in batch)
        except TFRecordError as error:
            error.args = (f"{error}; TensorFlow stopped at uncompressed byte offset {reached}",)
            raise
        if total != reached:
            raise TFRecordError(
                path,
                reached,
                f"TensorFlow could not read on ({total} uncompressed bytes in the file)",
                "uncompressed byte offset",
                hint="the read failed there; retry, or check the file",
            )
        return True

    return check
