"""fsspec filesystem for HDFS/HopsFS (protocol "hopsfs") and its backends."""

from hopsfs_tools.fs.core import HopsFile, HopsFileSystem

__all__ = ["HopsFile", "HopsFileSystem"]
