"""Shared set-up of the TF filesystem plugin tests: the process's environment points at the test
cluster (the plugin's settings are process-wide), and TF is registered against it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

from hopsfs_tools.cluster import LocalCluster

_IDENTITY = ("HOPSFS_PROJECT", "HOPSWORKS_PROJECT_NAME", "HADOOP_USER_NAME")


@contextmanager
def plugin_environment(cluster: LocalCluster, **extra: str | None) -> Iterator[str]:
    """Environment for the plugin (cluster + `extra`, None unsets), registered with it; the
    environment is restored after. Yields the cluster's hdfs://host:port."""
    from hopsfs_tools.tensorflow import register

    changes: dict[str, str | None] = {**cluster.env(), **dict.fromkeys(_IDENTITY), **extra}
    saved = {key: os.environ.get(key) for key in changes}
    _apply(changes)
    try:
        register()
        yield cluster.namenode_uri
    finally:
        _apply(saved)


def _apply(values: dict[str, str | None]) -> None:
    for key, value in values.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
