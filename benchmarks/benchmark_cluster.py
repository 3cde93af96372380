"""The cluster a benchmark runs on: the one in --cluster-dir / $HOPSFS_TEST_CLUSTER (started if it
is not running, and left running), else a fresh 3-DataNode cluster, stopped and deleted at the end.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from hopsfs_tools.cluster import LocalCluster


@contextmanager
def benchmark_cluster(cluster_dir: str | None) -> Iterator[LocalCluster]:
    own = cluster_dir is None
    cluster = LocalCluster(
        cluster_dir or tempfile.mkdtemp(prefix="hopsfs-bench-"), datanodes=3, owned=own
    )
    if own or not cluster.is_running():
        cluster.up()
    try:
        yield cluster
    finally:
        if own:
            cluster.down()  # and deletes its directory
