"""The embedded local HDFS cluster (real Apache Hadoop daemons from Maven Central jars)."""

from hopsfs_tools.cluster.launcher import ClusterError, LocalCluster, check_prerequisites

__all__ = ["ClusterError", "LocalCluster", "check_prerequisites"]
