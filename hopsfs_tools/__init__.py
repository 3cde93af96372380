"""hopsfs-tools: HDFS / HopsFS as a local disk for pandas, pyarrow, TensorFlow, PyTorch and Spark.

`from hopsfs_tools import hdfs` for the Hopsworks-style API; `HopsFileSystem` (fsspec protocol
"hopsfs", and "hdfs"/"viewfs" once this package is imported) for everything fsspec-aware.
Importing this package imports no framework.
"""

from hopsfs_tools import hdfs
from hopsfs_tools.config import ClusterConfig, load_config
from hopsfs_tools.config.project import Project, current_project
from hopsfs_tools.fs import CertificateVerificationError, HopsFileSystem, KerberosError
from hopsfs_tools.fs.schemes import register_hdfs_schemes, route_pandas_parquet

register_hdfs_schemes()  # hdfs:// and viewfs:// URLs -> HopsFileSystem, for every fsspec user
route_pandas_parquet()  # ... and pandas' read_parquet/to_parquet of them too

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
