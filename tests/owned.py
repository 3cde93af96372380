"""Test helper: a module's own local cluster (and KDC) for special configurations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hopsfs_tools.cluster import Kdc, LocalCluster


def own_cluster(directory: Path, **options: Any) -> Iterator[LocalCluster]:
    """For a fixture, `yield from own_cluster(dir, ...)`: a LocalCluster tied to this process
    (a killed test run leaves no daemons behind), started, and removed after its last use."""
    local = LocalCluster(directory, owned=True, **options)
    try:
        local.up(timeout=300)
        yield local
    finally:
        local.down()


def own_kdc(directory: Path) -> Iterator[Kdc]:
    """For a fixture, `yield from own_kdc(dir)`: a started KDC, stopped after its last use."""
    server = Kdc(directory).start()
    try:
        yield server
    finally:
        server.stop()
