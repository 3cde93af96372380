"""Session fixtures: one real HDFS cluster for the whole run, and a fresh directory per test."""

from __future__ import annotations

import gc
import os
import re
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fs_cache import close_cached_filesystems
from hdfs_native import Client

from hopsfs_tools.cluster import LocalCluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[LocalCluster]:
    """A running 3-DataNode cluster: the one in $HOPSFS_TEST_CLUSTER, else a new one for this session."""
    reuse = os.environ.get("HOPSFS_TEST_CLUSTER")
    if reuse:
        local = LocalCluster(reuse)
        if not local.is_running():
            pytest.fail(
                f"HOPSFS_TEST_CLUSTER={reuse} names no running cluster: "
                f"start it with `hopsfs-tools cluster up --dir {reuse}` or unset it"
            )
        local.wait_ready(60)
        yield local
        return
    directory = Path(tempfile.mkdtemp(prefix="hopsfs-test-cluster-"))
    local = LocalCluster(directory, datanodes=3, owned=True)
    try:
        local.up(timeout=300)
        yield local
    finally:
        local.down()


@pytest.fixture(scope="module", autouse=True)
def release_filesystems() -> Iterator[None]:
    """After each module: close what fsspec cached and collect what was dropped, so the next
    module may act as another HDFS user through hdfs-native (one user per process)."""
    yield
    close_cached_filesystems()
    gc.collect()


@pytest.fixture(scope="session")
def fault_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """A separate 1-DataNode cluster for tests that stop or restart the NameNode.

    Restarting the shared cluster's NameNode would break the DataNodes' cached client
    connections that later tests' WebHDFS calls go through.
    """
    local = LocalCluster(tmp_path_factory.mktemp("fault-cluster"), datanodes=1, owned=True)
    try:
        local.up(timeout=300)
        yield local
    finally:
        local.down()


@pytest.fixture(scope="session")
def superuser_client(cluster: LocalCluster) -> Client:
    """An hdfs-native client acting as the superuser who started the cluster.

    /Projects is made first, 0755 as on Hopsworks, so a test's `mkdirs(..., create_parent=True)`
    of a project directory cannot leave it writable by everyone for later tests.
    """
    client = client_as(cluster.namenode_uri, cluster.state.user)
    client.mkdirs("/Projects", permission=0o755, create_parent=True)
    client.set_permission("/Projects", 0o755)
    return client


def client_as(uri: str, user: str) -> Client:
    """An hdfs-native client bound to `user` (it reads HADOOP_USER_NAME at its first RPC)."""
    previous = os.environ.get("HADOOP_USER_NAME")
    os.environ["HADOOP_USER_NAME"] = user
    try:
        client = Client(uri)
        client.get_file_info("/")
        return client
    finally:
        if previous is None:
            os.environ.pop("HADOOP_USER_NAME", None)
        else:
            os.environ["HADOOP_USER_NAME"] = previous


@pytest.fixture
def hdfs_dir(request: pytest.FixtureRequest, superuser_client: Client) -> str:
    """A fresh, unique, world-writable absolute HDFS directory for this test."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", request.node.name)[:80]
    path = f"/tests/{name}-{uuid.uuid4().hex[:8]}"
    superuser_client.mkdirs("/tests", permission=0o777, create_parent=True)
    superuser_client.mkdirs(path, permission=0o777, create_parent=True)
    superuser_client.set_permission(path, 0o777)
    return path


@pytest.fixture
def cluster_env(cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Point environment-driven configuration (HADOOP_CONF_DIR, HOPSFS_*) at the test cluster."""
    env = cluster.env()
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    """With HOPSFS_FAIL_ON_SKIP=1 (set by .ci/run) a skipped test fails: in CI, where every
    extra is installed and the cluster runs, a skip means something is missing, not passing."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("HOPSFS_FAIL_ON_SKIP") == "1":
        report.outcome = "failed"
        report.longrepr = f"skipped in CI (HOPSFS_FAIL_ON_SKIP=1): {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector) -> Iterator[None]:
    """The same for a whole module skipped at import (`pytest.importorskip` at module level)."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("HOPSFS_FAIL_ON_SKIP") == "1":
        report.outcome = "failed"
        report.longrepr = f"module skipped in CI (HOPSFS_FAIL_ON_SKIP=1): {report.longrepr}"
