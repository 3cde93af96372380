"""File formats over any binary file object (local or HDFS): TFRecord framing."""

from hopsfs_tools.formats.tfrecord import (
    TFRecordError,
    TFRecordWriter,
    read_record_batches,
    read_records,
)

__all__ = ["TFRecordError", "TFRecordWriter", "read_record_batches", "read_records"]
