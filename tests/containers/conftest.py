"""The container cluster (compose/docker-compose.yml under podman) for this folder's tests.

One fixture builds the image (cached by content hash), brings the compose project up once for
this folder (a package: `__init__.py`, so the cluster is gone before the rest of the suite runs),
and at the end takes it down and checks that the engine lists no container, network or volume of
it. `cluster` and `superuser_client` are overridden here, so the project's own test modules
imported by this folder's test files run unchanged against the containers. Meanwhile this process
acts as HDFS's superuser (HADOOP_USER_NAME=hdfs, as `cluster env` says), as it is the local
cluster's superuser elsewhere.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hdfs_native import Client

from hopsfs_tools.cluster.containers import ContainerCluster
from hopsfs_tools.cluster.image import Engine, ensure_image
from hopsfs_tools.cluster.owner import pid_alive

ENGINE = "podman"
PREFIX = "hopsfs-test-containers-"
TIMINGS: dict[str, float] = {}

# The suites re-run here (fsspec conformance, pandas/dask, the facade, Jupyter contents) live in
# the subject folders; their test files import them by module name.
TESTS = Path(__file__).resolve().parents[1]
for folder in ("fs", "formats", "hopsworks", "jupyter"):
    if str(TESTS / folder) not in sys.path:
        sys.path.append(str(TESTS / folder))


def _remove_stale_clusters() -> None:
    """Take down container clusters of test runs that were killed (their pid is gone)."""
    for directory in Path(tempfile.gettempdir()).glob(f"{PREFIX}*"):
        pid = directory.name.removeprefix(PREFIX).split("-")[0]
        if pid.isdigit() and not pid_alive(int(pid)):
            ContainerCluster(directory).down()


@pytest.fixture(scope="package")
def container_cluster() -> Iterator[ContainerCluster]:
    """The compose cluster, up for this folder's tests; removed (and checked removed) after."""
    tools = ("podman", "runc", "podman-compose", "debootstrap")
    missing = [t for t in tools if not (shutil.which(t) or shutil.which(t, path="/usr/sbin:/sbin"))]
    if missing or os.geteuid() != 0:  # a skip fails CI (HOPSFS_FAIL_ON_SKIP=1), which has them
        pytest.skip(f"the container tests need root and {', '.join(tools)} (missing: {missing})")
    _remove_stale_clusters()
    started = time.monotonic()
    ensure_image(Engine(ENGINE))
    TIMINGS["image (build or cache hit)"] = time.monotonic() - started
    directory = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
    containers = ContainerCluster(directory, ENGINE)
    try:
        started = time.monotonic()
        containers.up(timeout=300)
        TIMINGS["cluster up"] = time.monotonic() - started
        saved = os.environ.get("HADOOP_USER_NAME")
        os.environ["HADOOP_USER_NAME"] = containers.state.user
        try:
            yield containers
        finally:
            _restore("HADOOP_USER_NAME", saved)
    finally:
        started = time.monotonic()
        containers.down()
        TIMINGS["cluster down"] = time.monotonic() - started
        left = containers.leftovers()
        assert not any(left.values()), f"left behind by {containers.plan.project}: {left}"
        assert not directory.exists()


@pytest.fixture(scope="package")
def cluster(container_cluster: ContainerCluster) -> ContainerCluster:
    """This folder's tests (and the suites they import) run against the containers."""
    return container_cluster


@pytest.fixture(scope="package")
def superuser_client(container_cluster: ContainerCluster) -> Client:
    """An hdfs-native client acting as HDFS's superuser in the containers ("hdfs")."""
    client = Client(container_cluster.namenode_uri)  # HADOOP_USER_NAME=hdfs: container_cluster
    client.get_file_info("/")
    client.mkdirs("/Projects", permission=0o755, create_parent=True)
    client.set_permission("/Projects", 0o755)
    return client


def _restore(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """fsspec's conformance suite runs here on the native backend only (and the fault tests
    last, below): the suite checks the
    filesystem's semantics, which tests/fs runs on all three backends; what the containers add
    (DataNodes reached by container address) every backend meets in this folder's pandas, facade,
    Jupyter and fault tests. A third of the suite keeps this folder's time in CI down."""
    dropped = [
        item
        for item in items
        if item.module.__name__.endswith("test_containers_conformance")
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("fs") not in (None, "native")
    ]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]
    # The fault tests stop and restart DataNode containers; a restarted container may come back
    # on a new address while the NameNode still hands out the old one until it declares that
    # DataNode dead, so they run after every other test of this folder.
    faults = [item for item in items if item.module.__name__.endswith("test_containers_faults")]
    if faults:
        rest = [item for item in items if item not in faults]
        last = max(
            (i for i, item in enumerate(rest) if item.nodeid.startswith("tests/containers/")),
            default=-1,  # only the fault tests of this folder were collected
        )
        items[:] = rest[: last + 1] + faults + rest[last + 1 :]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How long the container cluster's set-up and tear-down took (what it adds to a run)."""
    if TIMINGS:
        parts = ", ".join(f"{name} {seconds:.1f}s" for name, seconds in TIMINGS.items())
        terminalreporter.write_line(f"container cluster ({ENGINE}): {parts}")
