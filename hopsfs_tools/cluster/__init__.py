"""The embedded local HDFS cluster (real Apache Hadoop daemons from Maven Central jars)."""

from hopsfs_tools.cluster.containers import ContainerCluster
from hopsfs_tools.cluster.daemons import check_prerequisites
from hopsfs_tools.cluster.ha import FederatedCluster, HaCluster
from hopsfs_tools.cluster.kdc import Kdc, KdcError
from hopsfs_tools.cluster.launcher import ClusterError, LocalCluster
from hopsfs_tools.cluster.tls import TlsMaterial

__all__ = [
    "ClusterError",
    "ContainerCluster",
    "FederatedCluster",
    "HaCluster",
    "Kdc",
    "KdcError",
    "LocalCluster",
    "TlsMaterial",
    "check_prerequisites",
]
