"""hops-util-py's `hops.hdfs` facade (tests/hopsworks/test_hdfs_facade.py) against the container
cluster, as a project user the NameNode's permissions and ACLs apply to."""

from test_hdfs_facade import *
