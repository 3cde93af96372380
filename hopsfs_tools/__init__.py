"""hopsfs-tools: HDFS / HopsFS as a local disk for pandas, pyarrow, TensorFlow, PyTorch and Spark.

`from hopsfs_tools import hdfs` for the Hopsworks-style API; `HopsFileSystem` (fsspec protocol
"hopsfs") for everything fsspec-aware. Importing this package imports no framework.
"""

from hopsfs_tools import hdfs
from hopsfs_tools.config import ClusterConfig, load_config
from hopsfs_tools.fs import CertificateVerificationError, HopsFileSystem, KerberosError
from hopsfs_tools.project import Project, current_project

__version__ = "0.1.0"

__all__ = [
    "CertificateVerificationError",
    "ClusterConfig",
    "HopsFileSystem",
    "KerberosError",
    "Project",
    "__version__",
    "current_project",
    "hdfs",
    "load_config",
]
