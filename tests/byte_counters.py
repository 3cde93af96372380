"""What the DataNodes served while an action ran: the sum of their JMX BytesRead counters.

A DataNode refreshes its JMX metrics once per metrics period (10 s by default, 1 s on the
multi-host cluster), so a reading is taken only once two snapshots a period apart agree.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from hopsfs_tools.cluster import LocalCluster

PERIOD = 10.5  # seconds: Hadoop's default metrics period, and a margin


def bytes_read(cluster: LocalCluster) -> int:
    """BytesRead summed over the cluster's DataNodes (as last published)."""
    return sum(
        cluster.jmx("DataNodeActivity-*", daemon=name)["BytesRead"]
        for name in cluster.datanode_names
    )


def settled(cluster: LocalCluster, period: float = PERIOD) -> int:
    """The DataNodes' BytesRead once it stops moving (two readings `period` apart agree)."""
    previous, current = None, bytes_read(cluster)
    while current != previous:
        time.sleep(period)
        previous, current = current, bytes_read(cluster)
    return current


def bytes_read_during(
    cluster: LocalCluster, action: Callable[[], Any], period: float = PERIOD
) -> tuple[int, Any]:
    """The bytes the DataNodes served while `action` ran, and what it returned."""
    before = settled(cluster, period)
    result = action()
    return settled(cluster, period) - before, result
