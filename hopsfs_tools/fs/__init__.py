"""fsspec filesystem for HDFS/HopsFS (protocol "hopsfs") and its backends."""

from hopsfs_tools.fs.core import HopsFile, HopsFileSystem
from hopsfs_tools.fs.errors import CertificateVerificationError, KerberosError

__all__ = ["CertificateVerificationError", "HopsFile", "HopsFileSystem", "KerberosError"]
