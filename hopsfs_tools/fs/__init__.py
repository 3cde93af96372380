"""fsspec filesystem for HDFS/HopsFS (protocol "hopsfs") and its backends."""

from hopsfs_tools.fs.asyncfs import AsyncHopsFileSystem  # registers HopsFileSystem.async_class
from hopsfs_tools.fs.errors import CertificateVerificationError, KerberosError
from hopsfs_tools.fs.file import HopsFile
from hopsfs_tools.fs.filesystem import HopsFileSystem

__all__ = [
    "AsyncHopsFileSystem",
    "CertificateVerificationError",
    "HopsFile",
    "HopsFileSystem",
    "KerberosError",
]
